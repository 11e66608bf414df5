// The operations the migration needs from each side, as two small interfaces. Steps talk only to
// these; source-vsphere.ts and target-openstack.ts implement them with the project's clients.
// Keeping the surface this narrow shows at a glance what a migration does to each system, and
// lets unit tests drive the steps with fakes.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { DiskReader } from '../transfer/disk-reader.js';
import type { Extent } from '../transfer/extents.js';
import type { ByteSource } from '../transfer/types.js';
import type { ConversionHostOverride } from './copy/conversion-host.js';
import type { Inventory, SourceVm, TargetFlavor, TargetNetwork, TargetQuota } from './inventory.js';
import type { ImageFormat, UploadHash } from './plan-file.js';

export interface Sig {
  signal?: AbortSignal;
}

export interface GuestCommandResult {
  exitCode: number;
  /** Captured stdout+stderr (redirected to a file in the guest and downloaded). */
  output: string;
}

/** A disk offered by the export lease: src/transfer's ByteSource plus the VM's disk device key. */
export type ExportedDisk = ByteSource & { key: number };

/** A background keep-alive (govmomi's lease updater); stop() may be called any number of times. */
export interface KeepAlive {
  stop(): void;
}

export interface ExportSession {
  /** The HttpNfcLease's moref (export leases only): journaled, so a resumed step can abort it. */
  ref?: string;
  disks: ExportedDisk[];
  /** HttpNfcLeaseProgress; the lease expires without it. */
  progress(percent: number): Promise<void>;
  /**
   * Keeps the export open while bytes flow (the lease: HttpNfcLeaseProgress(getPercent()) every
   * 30 s); errors are logged, not thrown. Stop it in a `finally`.
   */
  startKeepAlive(getPercent: () => number): KeepAlive;
  complete(): Promise<void>;
  abort(reason?: string): Promise<void>;
}

/** Changed Block Tracking as vSphere reports it for one VM. */
export interface ChangeTrackingState {
  /** config.changeTrackingEnabled */
  enabled: boolean;
  /** config.version "vmx-19" → 19 */
  hardwareVersion: number;
  /** runtime.consolidationNeeded */
  consolidationNeeded: boolean;
  powerState: string;
  /** The VM's current (live) disk backings. */
  disks: TrackedDisk[];
}

/** One disk backing: the VM's live one, or the one frozen in a snapshot's config. */
export interface TrackedDisk {
  key: number;
  capacityBytes: number;
  /** "[ds] dir/vm.vmdk" (a delta "vm-000001.vmdk" while a snapshot exists). */
  fileName: string;
  /** backing.changeId; absent when CBT is off or not yet active on this disk. */
  changeId?: string;
}

export interface SnapshotRef {
  ref: string;
  name: string;
  description?: string;
}

/** How a disk is stored, read from its descriptor: only a single flat extent can be read at offsets. */
export interface DiskLayout {
  /** The descriptor's createType ("vmfs", "monolithicFlat", "monolithicSparse", "streamOptimized", "seSparse", "vsanSparse", ...). */
  createType: string;
  /** "[ds] dir/vm-flat.vmdk" when the disk is one flat extent (createType vmfs or monolithicFlat). */
  flatExtent?: string;
  /** Why it cannot be read at offsets, when flatExtent is absent. */
  notFlatReason?: string;
}

export interface ConversionHostInfo {
  id: string;
  name: string;
  availabilityZone?: string;
  /** Volume ids attached now (os-volume_attachments). */
  attachedVolumeIds: string[];
}

export interface EmptyVolumeSpec {
  name: string;
  sizeGiB: number;
  volumeType?: string;
  availabilityZone?: string;
  bootable: boolean;
  metadata: Record<string, string>;
}

export interface SourceOps {
  /** The VM as build-plan reads it; undefined when no VM has that name. */
  findVm(name: string, o?: Sig): Promise<SourceVm | undefined>;
  powerState(moref: string, o?: Sig): Promise<string>;
  powerOn(moref: string, o?: Sig): Promise<void>;
  powerOff(moref: string, o?: Sig): Promise<void>;
  /** ShutdownGuest, then wait until powered off or timeoutMs passes (then throws). */
  shutdownGuest(moref: string, timeoutMs: number, o?: Sig): Promise<void>;
  datastoreStat(datastore: string, path: string, o?: Sig): Promise<{ size: number } | undefined>;
  datastoreUpload(
    datastore: string,
    path: string,
    body: { open: () => Readable; size: number },
    o?: Sig & { onProgress?: (bytes: number) => void },
  ): Promise<void>;
  /** Small files only (the ISO's hash sidecar). */
  datastoreReadText(datastore: string, path: string, o?: Sig): Promise<string | undefined>;
  /**
   * Mount an ISO (adding a drive when there is none); returns the previous state for restoreCdrom,
   * and gives it to `beforeChange` before the VM is reconfigured (so it can be journaled first).
   */
  attachIso(
    moref: string,
    isoDatastorePath: string,
    o?: Sig & { beforeChange?: (previous: unknown) => void },
  ): Promise<unknown>;
  restoreCdrom(moref: string, previous: unknown, o?: Sig): Promise<void>;
  /** Runs `cmd.exe /c <command>` in the guest and returns its exit code and output. */
  runInGuest(
    moref: string,
    creds: { username: string; password: string },
    command: string,
    o?: Sig & { timeoutMs?: number },
  ): Promise<GuestCommandResult>;
  /**
   * Starts `program` itself, not through cmd.exe (whose command line stops at 8191 characters),
   * and waits for its exit code. Nothing of its output comes back: it must write files.
   */
  runProgramInGuest(
    moref: string,
    creds: { username: string; password: string },
    program: string,
    args: string,
    o?: Sig & { timeoutMs?: number },
  ): Promise<{ exitCode: number }>;
  /** InitiateFileTransferToGuest (overwriting) and the PUT of the bytes. */
  writeGuestFile(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    data: string | Buffer,
    o?: Sig,
  ): Promise<void>;
  /** InitiateFileTransferFromGuest and the GET of the bytes; undefined when the file does not exist. */
  readGuestFile(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    o?: Sig,
  ): Promise<Buffer | undefined>;
  /** MakeDirectoryInGuest with its parents; one that exists already is fine. */
  makeGuestDirectory(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    o?: Sig,
  ): Promise<void>;
  exportVm(moref: string, o?: Sig): Promise<ExportSession>;
  /** The alternative to the lease: each disk's data file on its datastore (the -flat extent for flat disks). */
  datastoreDisks(moref: string, o?: Sig): Promise<ExportSession>;
  /**
   * HttpNfcLeaseAbort of a lease an earlier attempt (a killed process) left open: vSphere holds its
   * NFC session until the lease times out (info.leaseTimeout, 300 s by default). A lease that is
   * gone or finished already is fine.
   */
  abortExportLease(ref: string, reason: string, o?: Sig): Promise<void>;
  changeTracking(moref: string, o?: Sig): Promise<ChangeTrackingState>;
  /** ReconfigVM_Task with changeTrackingEnabled; waits for the task. */
  setChangeTracking(moref: string, enabled: boolean, o?: Sig): Promise<void>;
  /** CreateSnapshot_Task(memory false, quiesce false); returns the snapshot and its frozen disk backings. */
  createSnapshot(
    moref: string,
    spec: { name: string; description: string },
    o?: Sig,
  ): Promise<{ snapshot: SnapshotRef; disks: TrackedDisk[] }>;
  /** RemoveSnapshot_Task(removeChildren false, consolidate true); a snapshot already gone is fine. */
  removeSnapshot(snapshotRef: string, o?: Sig): Promise<void>;
  listSnapshots(moref: string, o?: Sig): Promise<SnapshotRef[]>;
  /**
   * QueryChangedDiskAreas, paged from 0 until the disk's capacity (an empty page is not the end).
   * snapshotRef undefined: the VM must be powered off (vSphere computes against its current state).
   * Throws ChangeIdRejectedError when vSphere refuses the changeId (CBT was reset).
   */
  changedAreas(
    moref: string,
    q: { snapshotRef?: string; diskKey: number; changeId: string; capacityBytes: number },
    o?: Sig,
  ): Promise<{ areas: Extent[]; pages: number }>;
  /** The disk's descriptor (a small datastore GET), classified. */
  diskLayout(fileName: string, o?: Sig): Promise<DiskLayout>;
  /** Range reads of a flat extent over the datastore HTTP endpoint (/folder). */
  openDiskReader(flatExtent: string, sizeBytes: number): DiskReader;
  close(): Promise<void>;
}

export interface ImageInfo {
  id: string;
  name: string;
  status: string;
  tags: string[];
  properties: Record<string, unknown>;
  size?: number;
  checksum?: string;
  osHashAlgo?: string;
  osHashValue?: string;
}

export interface VolumeInfo {
  id: string;
  name: string;
  status: string;
  sizeGiB: number;
  metadata: Record<string, string>;
  /** Cinder's `encrypted`: unwritten blocks read back as noise, so zeros must be written. */
  encrypted?: boolean;
  bootable?: boolean;
  availabilityZone?: string;
  /** Servers it is attached to (attachments[].server_id). */
  attachedServerIds?: string[];
}

export interface PortInfo {
  id: string;
  name: string;
  macAddress: string;
  networkId: string;
  fixedIps: { ipAddress: string; subnetId: string }[];
  allowedAddressPairs?: { ipAddress: string }[];
  deviceId?: string;
  tags: string[];
}

export interface ServerInfo {
  id: string;
  name: string;
  status: string;
  tags: string[];
  fault?: string;
}

export interface DiskUploadResult {
  bytes: number;
  /** The hashes v2o computed over the bytes sent (the plan's uploadHashes), each matched Glance's. */
  hashes: Partial<Record<UploadHash, string>>;
  /** What Glance stored: `checksum` (md5) and `os_hash_algo` / `os_hash_value`. */
  checksum?: string;
  osHashAlgo?: string;
  osHashValue?: string;
}

/** What the steps ask of the target when they create an image, a volume or a port. */
export interface ImageSpec {
  name: string;
  diskFormat: ImageFormat;
  properties: Record<string, string>;
  minDiskGiB: number;
  minRamMiB: number;
  tags: string[];
}

export interface VolumeSpec {
  name: string;
  sizeGiB: number;
  imageId: string;
  volumeType?: string;
  metadata: Record<string, string>;
}

export interface PortSpec {
  name: string;
  networkId: string;
  macAddress?: string;
  /** Each with its subnet; a subnet alone lets Neutron pick the address there. */
  fixedIps?: { subnetId?: string; ipAddress?: string }[];
  allowedAddressPairs?: { ipAddress: string }[];
  tags: string[];
}

export interface TargetOps {
  listFlavors(o?: Sig): Promise<TargetFlavor[]>;
  listNetworks(o?: Sig): Promise<TargetNetwork[]>;
  quota(o?: Sig): Promise<TargetQuota | undefined>;
  listImageNames(o?: Sig): Promise<string[]>;

  findImagesByTag(tags: string[], o?: Sig): Promise<ImageInfo[]>;
  createImage(spec: ImageSpec, o?: Sig): Promise<ImageInfo>;
  getImage(id: string, o?: Sig): Promise<ImageInfo | undefined>;
  deleteImage(id: string, o?: Sig): Promise<void>;

  findVolumesByMetadata(meta: Record<string, string>, o?: Sig): Promise<VolumeInfo[]>;
  createVolumeFromImage(spec: VolumeSpec, o?: Sig): Promise<VolumeInfo>;
  waitVolume(id: string, status: string, timeoutMs: number, o?: Sig): Promise<VolumeInfo>;
  deleteVolume(id: string, o?: Sig): Promise<void>;

  findPortsByTag(tags: string[], o?: Sig): Promise<PortInfo[]>;
  /** Ports (any network, this project) using one of these MACs. */
  findPortsByMac(macs: string[], o?: Sig): Promise<PortInfo[]>;
  /** Every fixed IP this project's ports hold → the port's id (one listing, ids and fixed IPs only). */
  addressesInUse(o?: Sig): Promise<Record<string, string>>;
  createPort(spec: PortSpec, o?: Sig): Promise<PortInfo>;
  deletePort(id: string, o?: Sig): Promise<void>;

  findServersByTag(tags: string[], o?: Sig): Promise<ServerInfo[]>;
  createServer(spec: ServerSpec, o?: Sig): Promise<ServerInfo>;
  waitServer(id: string, status: string, timeoutMs: number, o?: Sig): Promise<ServerInfo>;
  consoleLogTail(id: string, lines: number, o?: Sig): Promise<string | undefined>;
  /**
   * The whole console log (os-getConsoleOutput without `length`). `undefined` when this cloud does
   * not serve it (Nova 404/409/501: disabled, or no serial console on this hypervisor).
   */
  consoleLog(id: string, o?: Sig): Promise<string | undefined>;
  /** Glance image properties: `set` added or replaced, `remove` dropped (absent ones are fine). */
  updateImageProperties(id: string, set: Record<string, string>, remove: string[], o?: Sig): Promise<void>;
  /** A volume's image metadata (what Nova reads as image properties when booting from it). */
  updateVolumeImageMetadata(
    id: string,
    set: Record<string, string>,
    remove: string[],
    o?: Sig,
  ): Promise<void>;
  deleteServer(id: string, o?: Sig): Promise<void>;

  /** Moves one disk from the export into an image made by createImage (checkpointed, hashed, verified). */
  uploadDisk(o: DiskUpload): Promise<DiskUploadResult>;
  /** `auto`: the metadata service at metadataUrl names this machine's server; else a server name or id in this project. */
  findConversionHost(spec: { server: string; metadataUrl: string }, o?: Sig): Promise<ConversionHostInfo>;
  createEmptyVolume(spec: EmptyVolumeSpec, o?: Sig): Promise<VolumeInfo>;
  getVolume(id: string, o?: Sig): Promise<VolumeInfo | undefined>;
  /** os-extend (microversion 3.42: also while attached); waits until the size shows. */
  extendVolume(id: string, sizeGiB: number, o?: Sig): Promise<void>;
  /** POST os-volume_attachments, then waits for the volume to be in-use. An attachment that exists already is fine. */
  attachVolume(serverId: string, volumeId: string, o?: Sig): Promise<void>;
  /** DELETE os-volume_attachments/<volume>, then waits for available. One not attached is fine. */
  detachVolume(serverId: string, volumeId: string, o?: Sig): Promise<void>;
}

/** What the workflow's services() builds. */
export interface MigrationServices {
  source: SourceOps;
  target: TargetOps;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The conversion host this process runs on, over the plan's (`v2o worker --conversion-host`). */
  conversionHost?: ConversionHostOverride;
}

export interface DiskUpload {
  source: ExportedDisk;
  imageId: string;
  format: ImageFormat;
  stagingDir: string;
  checkpoint: (data: unknown) => void;
  lastCheckpoint: unknown;
  onProgress: (bytes: number, total?: number) => void;
  /** Computed in the same pass and compared with Glance's (plan: uploadHashes). */
  hashes: UploadHash[];
  /** No bytes moving for this long: the source is reopened (Range), the upload aborted for a retry. */
  stallTimeoutMs: number;
  limits?: { overall: number; perSource: number; perTarget: number };
  /** The limiter's source key for this stream (default: the URL's host). */
  sourceHost?: string;
  signal: AbortSignal;
}

/** What a plan's settings need read beyond the VM and the cloud (plan-file.ts's VmMigrationConfig). */
export interface InventoryWants {
  migration?: 'cold' | 'warm';
  conversionHost?: { server: string; metadataUrl: string };
}

/** Read-only inventory for `v2o plan` and preflight. */
export async function gatherInventory(
  s: { source: SourceOps; target: TargetOps },
  vmName: string,
  o: Sig = {},
  want: InventoryWants = {},
): Promise<Inventory> {
  const [vm, flavors, networks, quota, existingImageNames] = await Promise.all([
    s.source.findVm(vmName, o),
    s.target.listFlavors(o),
    s.target.listNetworks(o),
    s.target.quota(o),
    s.target.listImageNames(o),
  ]);
  const macs = (vm?.nics ?? []).map((n) => n.macAddress.toLowerCase()).filter(Boolean);
  const [used, addressesInUse] = await Promise.all([
    macs.length ? s.target.findPortsByMac(macs, o) : Promise.resolve([]),
    s.target.addressesInUse(o),
  ]);
  const macsInUse = Object.fromEntries(used.map((p) => [p.macAddress.toLowerCase(), p.id]));
  const inv: Inventory = { vm, flavors, networks, quota, existingImageNames, macsInUse, addressesInUse };
  if (vm) Object.assign(inv, await gatherCopyRoute(s, vm, o, want));
  return inv;
}

/** CBT state, disk layouts and the conversion host: only what the plan's route needs. */
async function gatherCopyRoute(
  s: { source: SourceOps; target: TargetOps },
  vm: SourceVm,
  o: Sig,
  want: InventoryWants,
): Promise<Partial<Inventory>> {
  const out: Partial<Inventory> = vm.datastoreTypes ? { datastoreTypes: vm.datastoreTypes } : {};
  if (want.migration === 'warm') out.changeTracking = await s.source.changeTracking(vm.moref, o);
  if (want.migration !== 'warm' && !want.conversionHost) return out;
  out.diskLayouts = {};
  for (const d of vm.disks) {
    out.diskLayouts[d.key] = await s.source.diskLayout(d.fileName, o).catch(
      (err: Error): DiskLayout => ({
        createType: 'unknown',
        notFlatReason: `its descriptor could not be read: ${err.message}`,
      }),
    );
  }
  if (want.conversionHost) {
    try {
      out.conversionHost = await s.target.findConversionHost(want.conversionHost, o);
    } catch (err) {
      const e = err as { message: string; hint?: string };
      out.conversionHostProblem = {
        message: `the conversion host (${want.conversionHost.server}) was not found in the target cloud: ${e.message}`,
        fix:
          e.hint ??
          `run v2o on a server of the target project (conversionHost.server: auto reads ${want.conversionHost.metadataUrl}), or name the server: conversionHost.server: <name or id>`,
      };
    }
  }
  return out;
}

/** What launch asks of the target: one server on ready-made ports and volumes. */
export interface ServerSpec {
  name: string;
  flavorId: string;
  imageId?: string;
  bootVolumeId?: string;
  dataVolumeIds: string[];
  portIds: string[];
  metadata: Record<string, string>;
  tags: string[];
}
