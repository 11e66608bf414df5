// SourceOps on the project's vSphere client (src/vsphere). Translates the client's VM model into
// the plain SourceVm that build-plan reads, and wraps guest commands so their output comes back.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { NonRetryableError } from '../errors.js';
import type { DiskReader } from '../transfer/disk-reader.js';
import { mergeExtents } from '../transfer/extents.js';
import { datastoreRangeReader } from '../transfer/sources/datastore-range-reader.js';
import { datastoreSource } from '../transfer/sources/datastore-source.js';
import { leaseSource } from '../transfer/sources/lease-source.js';
import { inspectDisk, parseVmdkDescriptor } from '../transfer/vmdk.js';
import { vsphereConfigFromEnv } from '../vsphere/config.js';
import { isFault, isHttpStatus } from '../vsphere/errors.js';
import { httpNfcLeaseAbort } from '../vsphere/methods/http-nfc-lease.js';
import { parseDatastorePath, type VmDisk, type VmInfo } from '../vsphere/model.js';
import { attachIso, type CdromState, restoreCdrom } from '../vsphere/objects/cdrom.js';
import {
  getChangeTracking,
  queryChangedAreas,
  setChangeTracking,
} from '../vsphere/objects/change-tracking.js';
import { connect, type VSphereClient } from '../vsphere/objects/client.js';
import { datastoreDownload, datastoreStat, datastoreUpload } from '../vsphere/objects/datastore.js';
import {
  deleteGuestFile,
  downloadFromGuest,
  makeGuestDirectory,
  runInGuest,
  uploadToGuest,
} from '../vsphere/objects/guest.js';
import { exportVm } from '../vsphere/objects/nfc-lease.js';
import { retrieveOne } from '../vsphere/objects/property.js';
import { createSnapshot, listSnapshots, removeSnapshot } from '../vsphere/objects/snapshot.js';
import {
  findVmByName,
  getPowerState,
  getVm,
  powerOff,
  powerOn,
  shutdownGuest,
  VmNotFoundError,
} from '../vsphere/objects/vm.js';
import type { MoRef } from '../vsphere/types.js';
import type { SourceVm } from './inventory.js';
import type { PlanFile } from './plan-file.js';
import type {
  DiskLayout,
  ExportedDisk,
  ExportSession,
  SnapshotRef,
  SourceOps,
  TrackedDisk,
} from './services.js';

const vmRef = (value: string): MoRef => ({ type: 'VirtualMachine', value });
const snapshotRef = (value: string): MoRef => ({ type: 'VirtualMachineSnapshot', value });
const toTrackedDisk = (d: VmDisk): TrackedDisk => ({
  key: d.key,
  capacityBytes: d.capacityBytes,
  fileName: d.fileName,
  ...(d.changeId ? { changeId: d.changeId } : {}),
});

/** The extent types that are the disk's bytes as they are (VMware Virtual Disk Format 5.0, "Extent descriptions"). */
const FLAT_CREATE_TYPES = new Set(['vmfs', 'monolithicFlat']);

/**
 * Classifies a disk from the head of its descriptor file (pure). Only a descriptor whose createType
 * is vmfs or monolithicFlat, with one FLAT/VMFS extent and no parent, is one flat file the datastore
 * reader can read at offsets; the decision is the descriptor's, not whether a -flat file exists (a
 * sparse disk may have an empty -flat file beside it).
 */
export function classifyDiskLayout(head: Buffer, fileName: string): DiskLayout {
  const insp = inspectDisk(head);
  if (insp.format === 'vmdk') {
    const createType = insp.subformat ?? 'monolithicSparse';
    return {
      createType,
      notFlatReason: `a ${createType} VMDK stores grains, not the disk's bytes at their offsets`,
    };
  }
  if (insp.format === 'vmdk-cowd') {
    return { createType: 'vmfsSparse', notFlatReason: 'a vmfsSparse (COWD) delta disk' };
  }
  if (insp.format !== 'vmdk-descriptor') {
    return { createType: 'unknown', notFlatReason: `${fileName} is not a VMDK descriptor` };
  }
  const d = parseVmdkDescriptor(head.toString('latin1'));
  const createType = d.createType ?? 'unknown';
  if (d.parentCID && d.parentCID.toLowerCase() !== 'ffffffff') {
    return { createType, notFlatReason: `a delta disk of a snapshot chain (parentCID ${d.parentCID})` };
  }
  if (!FLAT_CREATE_TYPES.has(createType)) {
    return { createType, notFlatReason: `createType ${createType} is not a single flat extent` };
  }
  const [e, ...more] = d.extents;
  if (!e || more.length || !/^(FLAT|VMFS)$/i.test(e.type) || !e.file) {
    return {
      createType,
      notFlatReason: `its descriptor lists ${d.extents.map((x) => x.type).join(', ') || 'no'} extents, not one flat extent`,
    };
  }
  const { datastore, path } = parseDatastorePath(fileName);
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  // An extent name with a slash is relative to the descriptor's directory or absolute (/vmfs/volumes/...).
  const extentPath = e.file.startsWith('/') ? undefined : `${dir}${e.file}`;
  if (!extentPath) return { createType, notFlatReason: `its extent "${e.file}" is an absolute path` };
  return { createType, flatExtent: `[${datastore}] ${extentPath}` };
}

/** VmInfo (the client's model) → SourceVm (what build-plan reads). Pure. */
export function toSourceVm(vm: VmInfo): SourceVm {
  const power = vm.powerState === 'poweredOn' || vm.powerState === 'suspended' ? vm.powerState : 'poweredOff';
  return {
    name: vm.name,
    moref: vm.ref.value,
    instanceUuid: vm.instanceUuid,
    // What VMware Tools reports beats the configured values (often stale after an in-place upgrade).
    guestId: vm.guestId ?? vm.guestRunning?.guestId ?? '',
    guestFullName: vm.guestRunning?.fullName ?? vm.guestFullName,
    firmware: vm.firmware,
    secureBoot: vm.secureBoot,
    vtpm: vm.vtpm,
    cpus: vm.numCpu,
    memoryMiB: vm.memoryMiB,
    disks: vm.disks.map((d) => ({
      key: d.key,
      label: d.label,
      capacityBytes: d.capacityBytes,
      controllerType: d.controller?.type ?? 'unknown',
      controllerKey: d.controller?.key,
      controllerSharedBus: d.controllerSharedBus,
      busNumber: d.controller?.busNumber ?? 0,
      unitNumber: d.unitNumber ?? 0,
      fileName: d.fileName,
      datastore: d.datastore,
      thin: d.thin,
      diskMode: d.diskMode,
      sharing: d.sharing,
      rdm: !!d.rdm,
    })),
    bootDiskOrder: vm.bootDiskOrder,
    nics: vm.nics.map((n) => ({
      key: n.key,
      label: n.label,
      macAddress: n.macAddress,
      network: n.network ?? '',
      adapterType: n.adapterType,
    })),
    cdroms: vm.cdroms.map((c) => ({
      key: c.key,
      label: c.label,
      isoPath: c.backing.kind === 'iso' ? c.backing.fileName : undefined,
      connected: c.connected,
      startConnected: c.startConnected,
    })),
    snapshots: vm.snapshots.map((s) => s.name),
    template: vm.template,
    encrypted: vm.encrypted,
    toolsRunning: vm.tools.runningStatus === 'guestToolsRunning',
    toolsStatus: vm.tools.status,
    powerState: power,
    datacenter: vm.datacenterPath ?? vm.datacenter,
    host: vm.host?.name,
  };
}

export async function connectSource(
  source: PlanFile['source'],
  env: NodeJS.ProcessEnv,
  log: Logger,
  o: { signal?: AbortSignal; datacenter?: string } = {},
): Promise<SourceOps> {
  const config = await vsphereConfigFromEnv(env, {
    url: source.url,
    insecure: source.insecure,
    caFile: source.caFile,
    thumbprint: source.thumbprint,
  });
  const client = await connect(config, { log, signal: o.signal });
  return new VSphereSource(client, o.datacenter ?? source.datacenter);
}

export class VSphereSource implements SourceOps {
  /** Datacenter inventory path per VM, for datastore URLs (dcPath). */
  #datacenter?: string;

  constructor(
    readonly client: VSphereClient,
    datacenter?: string,
  ) {
    this.#datacenter = datacenter;
  }

  async findVm(name: string, o: { signal?: AbortSignal } = {}) {
    let ref: MoRef;
    try {
      ref = await findVmByName(this.client, name, o);
    } catch (err) {
      if (err instanceof VmNotFoundError) return undefined;
      throw err;
    }
    const info = await getVm(this.client, ref, o);
    this.#datacenter ??= info.datacenterPath ?? info.datacenter;
    return { ...toSourceVm(info), datastoreTypes: await this.#datastoreTypes(info.disks, o) };
  }

  /** What QueryChangedDiskAreas("*") can answer depends on it (VMFS knows allocated areas). */
  async #datastoreTypes(disks: VmDisk[], o: { signal?: AbortSignal }): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const d of disks) {
      if (!d.datastoreRef || out[d.datastore] !== undefined) continue;
      const ds = await retrieveOne(this.client, d.datastoreRef, ['summary.type'], { signal: o.signal });
      const type = ds.props['summary.type'];
      if (typeof type === 'string') out[d.datastore] = type;
    }
    return out;
  }

  powerState(moref: string, o: { signal?: AbortSignal } = {}) {
    return getPowerState(this.client, vmRef(moref), o);
  }
  powerOn(moref: string, o: { signal?: AbortSignal } = {}) {
    return powerOn(this.client, vmRef(moref), o);
  }
  powerOff(moref: string, o: { signal?: AbortSignal } = {}) {
    return powerOff(this.client, vmRef(moref), o);
  }
  shutdownGuest(moref: string, timeoutMs: number, o: { signal?: AbortSignal } = {}) {
    return shutdownGuest(this.client, vmRef(moref), { ...o, timeoutMs });
  }

  #file(datastore: string, path: string) {
    return { datacenter: this.#datacenter ?? 'ha-datacenter', datastore, path };
  }

  async datastoreStat(datastore: string, path: string, o: { signal?: AbortSignal } = {}) {
    const s = await datastoreStat(this.client, this.#file(datastore, path), o);
    return s.exists ? { size: s.size ?? 0 } : undefined;
  }

  async datastoreUpload(
    datastore: string,
    path: string,
    body: { open: () => import('node:stream').Readable; size: number },
    o: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
  ) {
    await datastoreUpload(this.client, this.#file(datastore, path), body.open(), body.size, o);
  }

  async datastoreReadText(datastore: string, path: string, o: { signal?: AbortSignal } = {}) {
    try {
      const s = await datastoreDownload(this.client, this.#file(datastore, path), o);
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (isHttpStatus(err, 404)) return undefined;
      throw err;
    }
  }

  attachIso(
    moref: string,
    isoDatastorePath: string,
    o: { signal?: AbortSignal; beforeChange?: (previous: unknown) => void } = {},
  ) {
    return attachIso(this.client, vmRef(moref), isoDatastorePath, o);
  }

  restoreCdrom(moref: string, previous: unknown, o: { signal?: AbortSignal } = {}) {
    return restoreCdrom(this.client, vmRef(moref), previous as CdromState, o);
  }

  /**
   * Guest operations return only an exit code, so the command's output is redirected to a file
   * in the guest's temp folder and downloaded afterwards.
   */
  async runInGuest(
    moref: string,
    creds: { username: string; password: string },
    command: string,
    o: { signal?: AbortSignal; timeoutMs?: number } = {},
  ) {
    const vm = vmRef(moref);
    const base = `C:\\Windows\\Temp\\v2o-${randomBytes(6).toString('hex')}`;
    // stdout and stderr go to two files rather than `2>&1`: simpler for every cmd.exe look-alike.
    const r = await runInGuest(this.client, vm, creds, {
      program: 'C:\\Windows\\System32\\cmd.exe',
      args: `/c ${command} > ${base}.out 2> ${base}.err`,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      pollIntervalMs: 500,
    });
    const read = async (path: string) => {
      try {
        return decodeGuestText(
          await downloadFromGuest(this.client, vm, creds, path, { signal: o.signal, maxBytes: 4 << 20 }),
        );
      } catch (err) {
        if (o.signal?.aborted) throw err;
        return '';
      }
    };
    const [stdout, stderr] = await Promise.all([read(`${base}.out`), read(`${base}.err`)]);
    // Nothing of v2o's stays in the guest's Temp; a file that cannot be deleted is not worth failing for.
    await Promise.all(
      [`${base}.out`, `${base}.err`].map((p) =>
        deleteGuestFile(this.client, vm, creds, p, { signal: o.signal }).catch(() => undefined),
      ),
    );
    const output = stderr ? `${stdout}${stdout.endsWith('\n') || !stdout ? '' : '\n'}${stderr}` : stdout;
    return { exitCode: r.exitCode, output };
  }

  async runProgramInGuest(
    moref: string,
    creds: { username: string; password: string },
    program: string,
    args: string,
    o: { signal?: AbortSignal; timeoutMs?: number } = {},
  ) {
    const r = await runInGuest(this.client, vmRef(moref), creds, {
      program,
      args,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      pollIntervalMs: 500,
    });
    return { exitCode: r.exitCode };
  }

  async writeGuestFile(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    data: string | Buffer,
    o: { signal?: AbortSignal } = {},
  ) {
    await uploadToGuest(this.client, vmRef(moref), creds, guestPath, data, {
      overwrite: true,
      signal: o.signal,
    });
  }

  async readGuestFile(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    o: { signal?: AbortSignal } = {},
  ) {
    try {
      return await downloadFromGuest(this.client, vmRef(moref), creds, guestPath, {
        signal: o.signal,
        maxBytes: 16 << 20,
      });
    } catch (err) {
      if (isFault(err, 'FileNotFound')) return undefined;
      throw err;
    }
  }

  async makeGuestDirectory(
    moref: string,
    creds: { username: string; password: string },
    guestPath: string,
    o: { signal?: AbortSignal } = {},
  ) {
    await makeGuestDirectory(this.client, vmRef(moref), creds, guestPath, o);
  }

  async exportVm(moref: string, o: { signal?: AbortSignal } = {}): Promise<ExportSession> {
    const info = await getVm(this.client, vmRef(moref), o);
    const lease = await exportVm(this.client, vmRef(moref), o);
    const urls = lease.deviceUrls.filter((d) => d.disk);
    // Lease keys look like /vm-42/VirtualLsiLogicSASController0:1 — match them to disk device keys.
    const disks: ExportedDisk[] = urls.map((u, i) => {
      const d =
        info.disks.find(
          (x) =>
            x.controller && u.key.endsWith(`/${x.controller.type}${x.controller.busNumber}:${x.unitNumber}`),
        ) ?? info.disks[i];
      return Object.assign(leaseSource(lease, u), { key: d?.key ?? -1 });
    });
    return {
      ref: lease.ref.value,
      disks,
      progress: (p) => lease.progress(p, o),
      startKeepAlive: (getPercent) => lease.startKeepAlive(getPercent),
      complete: () => lease.complete(),
      abort: (reason) => lease.abort(reason),
    };
  }

  async abortExportLease(ref: string, reason: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await httpNfcLeaseAbort(this.client, { type: 'HttpNfcLease', value: ref }, reason, o);
    } catch (err) {
      // Gone (timed out, completed, the session that made it ended) or past the state where it
      // can be aborted: either way it holds no NFC session any more.
      if (isFault(err, 'ManagedObjectNotFound') || isFault(err, 'InvalidState')) return;
      throw err;
    }
  }

  async datastoreDisks(moref: string, o: { signal?: AbortSignal } = {}): Promise<ExportSession> {
    const info = await getVm(this.client, vmRef(moref), o);
    const disks: ExportedDisk[] = [];
    for (const d of info.disks) {
      const { datastore, path } = parseDatastorePath(d.fileName);
      const dataPath = await this.#dataFileOf(datastore, path, o.signal);
      const src = await datastoreSource(this.client, this.#file(datastore, dataPath), o);
      disks.push(Object.assign(src, { key: d.key }));
    }
    // Plain HTTP GETs: no lease, so nothing to keep alive or to end.
    return {
      disks,
      progress: async () => {},
      startKeepAlive: () => ({ stop: () => {} }),
      complete: async () => {},
      abort: async () => {},
    };
  }

  /**
   * The file that holds a disk's data: a sparse VMDK (monolithicSparse, streamOptimized) is its
   * own data file; a descriptor names its extent (`RW 131072 FLAT "x-flat.vmdk" 0`), raw bytes.
   */
  async #dataFileOf(datastore: string, path: string, signal?: AbortSignal): Promise<string> {
    const head = await datastoreDownload(this.client, this.#file(datastore, path), {
      signal,
      range: { start: 0, end: 4095 },
    });
    const chunks: Buffer[] = [];
    for await (const c of head) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    if (buf.subarray(0, 4).toString('latin1') === 'KDMV') return path;
    const text = buf.toString('latin1');
    const extents = [...text.matchAll(/^\s*RW\s+\d+\s+(\w+)\s+"([^"]+)"/gm)];
    if (extents.length === 1 && /^(FLAT|VMFS)$/i.test(extents[0]![1]!)) {
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
      return `${dir}${extents[0]![2]}`;
    }
    throw new NonRetryableError(
      `[${datastore}] ${path} is a VMDK layout the datastore route does not read (${extents.map((e) => e[1]).join(', ') || 'no extents'})`,
      { hint: 'use exportMethod: lease (the export lease streams any disk type)' },
    );
  }

  async changeTracking(moref: string, o: { signal?: AbortSignal } = {}) {
    const s = await getChangeTracking(this.client, vmRef(moref), o);
    return { ...s, disks: s.disks.map(toTrackedDisk) };
  }

  setChangeTracking(moref: string, enabled: boolean, o: { signal?: AbortSignal } = {}) {
    return setChangeTracking(this.client, vmRef(moref), enabled, o);
  }

  async createSnapshot(
    moref: string,
    spec: { name: string; description: string },
    o: { signal?: AbortSignal } = {},
  ): Promise<{ snapshot: SnapshotRef; disks: TrackedDisk[] }> {
    const r = await createSnapshot(this.client, vmRef(moref), spec, o);
    return {
      snapshot: { ref: r.snapshot.value, name: spec.name, description: spec.description },
      disks: r.disks.map(toTrackedDisk),
    };
  }

  removeSnapshot(ref: string, o: { signal?: AbortSignal } = {}) {
    return removeSnapshot(this.client, snapshotRef(ref), o);
  }

  async listSnapshots(moref: string, o: { signal?: AbortSignal } = {}): Promise<SnapshotRef[]> {
    return (await listSnapshots(this.client, vmRef(moref), o)).map((s) => ({
      ref: s.ref?.value ?? '',
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
    }));
  }

  async changedAreas(
    moref: string,
    q: { snapshotRef?: string; diskKey: number; changeId: string; capacityBytes: number },
    o: { signal?: AbortSignal } = {},
  ) {
    const r = await queryChangedAreas(
      this.client,
      vmRef(moref),
      {
        snapshot: q.snapshotRef ? snapshotRef(q.snapshotRef) : undefined,
        deviceKey: q.diskKey,
        changeId: q.changeId,
        capacityBytes: q.capacityBytes,
      },
      o,
    );
    // Areas past the capacity (a page's last block) are clipped: the volume ends there.
    const areas = mergeExtents(r.areas)
      .map((a) => ({ start: a.start, length: Math.min(a.length, q.capacityBytes - a.start) }))
      .filter((a) => a.length > 0);
    return { areas, pages: r.pages };
  }

  async diskLayout(fileName: string, o: { signal?: AbortSignal } = {}): Promise<DiskLayout> {
    const { datastore, path } = parseDatastorePath(fileName);
    const head = await datastoreDownload(this.client, this.#file(datastore, path), {
      signal: o.signal,
      range: { start: 0, end: 64 * 1024 - 1 },
    });
    const chunks: Buffer[] = [];
    for await (const c of head) chunks.push(c as Buffer);
    return classifyDiskLayout(Buffer.concat(chunks), fileName);
  }

  openDiskReader(flatExtent: string, sizeBytes: number): DiskReader {
    return datastoreRangeReader(this.client, this.#datacenter ?? 'ha-datacenter', flatExtent, sizeBytes);
  }

  close() {
    return this.client.close();
  }
}

/** pnputil and reg write the console code page; PowerShell may write UTF-16LE with a BOM. */
export function decodeGuestText(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  return b.toString('utf8');
}
