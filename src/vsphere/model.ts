// The VM model (what inventory shows and what the migration plans from), decoded from the
// property paths in VM_PROPERTY_PATHS. Pure: no I/O; names of hosts, datacenters and
// distributed port groups are passed in by objects/vm.ts. One cohesive decoder of one property
// set, so it stays one file over 400 lines.
import { arr, type XmlObject, type XmlValue } from './soap/xml.js';
import type { MoRef } from './types.js';

export const VM_PROPERTY_PATHS = [
  'name',
  'parent',
  'config.uuid',
  'config.instanceUuid',
  'config.guestId',
  'config.guestFullName',
  'config.firmware',
  'config.bootOptions',
  'config.hardware',
  'config.changeTrackingEnabled',
  'config.template',
  'config.keyId',
  'config.version',
  'snapshot',
  'guest.toolsStatus',
  'guest.toolsRunningStatus',
  'guest.toolsVersion',
  'guest.toolsVersionStatus2',
  'guest.guestId',
  'guest.guestFullName',
  'guest.hostName',
  'guest.ipAddress',
  'runtime.powerState',
  'runtime.host',
  'runtime.consolidationNeeded',
] as const;

export type ControllerBus = 'scsi' | 'sata' | 'ide' | 'nvme' | 'unknown';

export interface ControllerRef {
  key: number;
  /** vim type: VirtualLsiLogicSASController, ParaVirtualSCSIController, VirtualAHCIController … */
  type: string;
  /** Short name: lsilogic, lsilogic-sas, pvscsi, buslogic, sata, nvme, ide (unknown otherwise). */
  kind: string;
  bus: ControllerBus;
  busNumber: number;
}

export type DiskMode =
  | 'persistent'
  | 'nonpersistent'
  | 'undoable'
  | 'independent_persistent'
  | 'independent_nonpersistent'
  | 'append';

export interface VmDisk {
  key: number;
  label: string;
  capacityBytes: number;
  controller?: ControllerRef;
  unitNumber?: number;
  /** Current backing file, e.g. "[datastore1] vm/vm-000001.vmdk" (a delta when snapshots exist). */
  fileName: string;
  /** The base disk of the chain (fileName when no snapshots). */
  baseFileName: string;
  /** Datastore name from the file name's [brackets]. */
  datastore: string;
  /** Path inside the datastore. */
  datastorePath: string;
  /** backing.changeId: where CBT stands for this disk; absent when CBT is off or not yet active. */
  changeId?: string;
  datastoreRef?: MoRef;
  /** vim backing type: VirtualDiskFlatVer2BackingInfo, VirtualDiskRawDiskMappingVer1BackingInfo … */
  backingType: string;
  provisioning: 'thin' | 'thick' | 'eagerZeroedThick' | 'unknown';
  thin: boolean;
  diskMode: DiskMode | string;
  independent: boolean;
  /** sharingNone / sharingMultiWriter (backing) — also see the controller's sharedBus. */
  sharing: string;
  controllerSharedBus?: string;
  rdm?: { compatibilityMode: 'physicalMode' | 'virtualMode' | string; deviceName?: string; lunUuid?: string };
}

export interface VmNic {
  key: number;
  label: string;
  macAddress: string;
  /** vmxnet3, e1000e, e1000, vmxnet2, pcnet32, sriovethernetcard … */
  adapterType: string;
  /** Port group / network name (distributed port groups resolved by key). */
  network?: string;
  backingType: string;
  connected: boolean;
  startConnected: boolean;
}

export type CdromBacking =
  | { kind: 'iso'; fileName: string }
  | { kind: 'client'; deviceName: string; exclusive?: boolean }
  | { kind: 'host'; deviceName: string }
  | { kind: 'none' };

export interface VmCdrom {
  key: number;
  label: string;
  controller?: ControllerRef;
  unitNumber?: number;
  backing: CdromBacking;
  connected: boolean;
  startConnected: boolean;
}

export interface VmSnapshot {
  ref?: MoRef;
  name: string;
  description: string;
  createTime: string;
  /** Depth in the tree (0 = a root snapshot). */
  depth: number;
}

export interface VmTools {
  /** toolsOk, toolsOld, toolsNotRunning, toolsNotInstalled */
  status?: string;
  /** guestToolsRunning, guestToolsNotRunning, guestToolsExecutingScripts */
  runningStatus?: string;
  version?: string;
  versionStatus?: string;
}

export interface VmInfo {
  ref: MoRef;
  name: string;
  instanceUuid?: string;
  biosUuid?: string;
  /** Configured guest OS id (windows2019srv_64Guest …). */
  guestId?: string;
  /** Configured guest OS name, or the one reported by VMware Tools. */
  guestFullName?: string;
  /** What VMware Tools reports while running. */
  guestRunning?: { guestId?: string; fullName?: string; hostName?: string; ipAddress?: string };
  firmware: 'bios' | 'efi';
  secureBoot: boolean;
  /** Device keys of the disks config.bootOptions.bootOrder lists, first to boot first; [] when unset. */
  bootDiskOrder: number[];
  vtpm: boolean;
  numCpu: number;
  coresPerSocket?: number;
  memoryMiB: number;
  hardwareVersion?: string;
  disks: VmDisk[];
  nics: VmNic[];
  cdroms: VmCdrom[];
  controllers: ControllerRef[];
  snapshots: VmSnapshot[];
  cbtEnabled: boolean;
  /** runtime.consolidationNeeded: a snapshot removal left delta disks behind. */
  consolidationNeeded: boolean;
  tools: VmTools;
  powerState: 'poweredOn' | 'poweredOff' | 'suspended' | string;
  template: boolean;
  /** VM encryption key present (config.keyId). */
  encrypted: boolean;
  host?: { ref: MoRef; name?: string };
  datacenter?: string;
  /** Inventory path of the datacenter (for datastore URLs' dcPath). */
  datacenterPath?: string;
}

export interface ModelContext {
  hostName?: string;
  datacenter?: string;
  datacenterPath?: string;
  /** Distributed port group key → name. */
  portgroupNames?: Map<string, string>;
}

const str = (v: XmlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: XmlValue | undefined): number | undefined => {
  const s = str(v);
  return s === undefined || s === '' ? undefined : Number(s);
};
const bool = (v: XmlValue | undefined): boolean => str(v) === 'true';
const obj = (v: XmlValue | undefined): XmlObject =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as XmlObject) : {};

const CONTROLLER_BUS: Record<string, ControllerBus> = {
  VirtualLsiLogicSASController: 'scsi',
  VirtualLsiLogicController: 'scsi',
  VirtualBusLogicController: 'scsi',
  ParaVirtualSCSIController: 'scsi',
  VirtualSCSIController: 'scsi',
  VirtualAHCIController: 'sata',
  VirtualSATAController: 'sata',
  VirtualIDEController: 'ide',
  VirtualNVMEController: 'nvme',
};

const CONTROLLER_KIND: Record<string, string> = {
  VirtualLsiLogicSASController: 'lsilogic-sas',
  VirtualLsiLogicController: 'lsilogic',
  VirtualBusLogicController: 'buslogic',
  ParaVirtualSCSIController: 'pvscsi',
  VirtualAHCIController: 'sata',
  VirtualSATAController: 'sata',
  VirtualIDEController: 'ide',
  VirtualNVMEController: 'nvme',
};

const NIC_TYPES = new Set([
  'VirtualVmxnet3',
  'VirtualVmxnet3Vrdma',
  'VirtualVmxnet2',
  'VirtualVmxnet',
  'VirtualE1000',
  'VirtualE1000e',
  'VirtualPCNet32',
  'VirtualSriovEthernetCard',
]);

/** "[ds 1] dir/file.vmdk" → { datastore: 'ds 1', path: 'dir/file.vmdk' } */
export function parseDatastorePath(p: string): { datastore: string; path: string } {
  const m = /^\[([^\]]*)\]\s*(.*)$/.exec(p);
  return m ? { datastore: m[1]!, path: m[2]! } : { datastore: '', path: p };
}

export function cdromBacking(b: XmlObject): CdromBacking {
  switch (b._type) {
    case 'VirtualCdromIsoBackingInfo':
      return { kind: 'iso', fileName: str(b.fileName) ?? '' };
    case 'VirtualCdromRemotePassthroughBackingInfo':
    case 'VirtualCdromRemoteAtapiBackingInfo':
      return { kind: 'client', deviceName: str(b.deviceName) ?? '', exclusive: bool(b.exclusive) };
    case 'VirtualCdromAtapiBackingInfo':
    case 'VirtualCdromPassthroughBackingInfo':
      return { kind: 'host', deviceName: str(b.deviceName) ?? '' };
    default:
      return { kind: 'none' };
  }
}

export function snapshotsOf(v: XmlValue | undefined): VmSnapshot[] {
  const out: VmSnapshot[] = [];
  const walk = (list: XmlValue | undefined, depth: number) => {
    for (const s of arr<XmlObject>(list)) {
      out.push({
        ref: s.snapshot as MoRef | undefined,
        name: str(s.name) ?? '',
        description: str(s.description) ?? '',
        createTime: str(s.createTime) ?? '',
        depth,
      });
      walk(s.childSnapshotList, depth + 1);
    }
  };
  walk(obj(v).rootSnapshotList, 0);
  return out;
}

/** Decodes a VirtualMachine's properties (VM_PROPERTY_PATHS) into the model. */
export function toVmInfo(
  ref: MoRef,
  props: Record<string, XmlValue | undefined>,
  ctx: ModelContext = {},
): VmInfo {
  const hw = obj(props['config.hardware']);
  const devices = arr<XmlObject>(hw.device);
  const controllers: ControllerRef[] = [];
  const controllerByKey = new Map<number, ControllerRef & { sharedBus?: string }>();
  for (const d of devices) {
    const t = d._type ?? '';
    if (t in CONTROLLER_BUS || /Controller$/.test(t)) {
      const c = {
        key: num(d.key) ?? 0,
        type: t,
        kind: CONTROLLER_KIND[t] ?? 'unknown',
        bus: CONTROLLER_BUS[t] ?? ('unknown' as const),
        busNumber: num(d.busNumber) ?? 0,
      };
      if (c.bus !== 'unknown') controllers.push(c);
      controllerByKey.set(c.key, { ...c, sharedBus: str(d.sharedBus) });
    }
  }
  const ctrl = (k: XmlValue | undefined) => {
    const c = controllerByKey.get(num(k) ?? Number.NaN);
    return c ? { key: c.key, type: c.type, kind: c.kind, bus: c.bus, busNumber: c.busNumber } : undefined;
  };
  const disks: VmDisk[] = [];
  const nics: VmNic[] = [];
  const cdroms: VmCdrom[] = [];
  let vtpm = false;
  for (const d of devices) {
    const t = d._type ?? '';
    const info = obj(d.deviceInfo);
    const connectable = obj(d.connectable);
    if (t === 'VirtualTPM') vtpm = true;
    else if (t === 'VirtualDisk') {
      const b = obj(d.backing);
      const fileName = str(b.fileName) ?? '';
      let base = b;
      while (obj(base.parent).fileName) base = obj(base.parent);
      const { datastore, path } = parseDatastorePath(fileName);
      const diskMode = str(b.diskMode) ?? 'persistent';
      const isRdm = b._type === 'VirtualDiskRawDiskMappingVer1BackingInfo';
      const thin = bool(b.thinProvisioned);
      const bytes = num(d.capacityInBytes) ?? (num(d.capacityInKB) ?? 0) * 1024;
      disks.push({
        key: num(d.key) ?? 0,
        label: str(info.label) ?? '',
        capacityBytes: bytes,
        controller: ctrl(d.controllerKey),
        unitNumber: num(d.unitNumber),
        fileName,
        baseFileName: str(base.fileName) ?? fileName,
        datastore,
        datastorePath: path,
        changeId: str(b.changeId) || undefined,
        datastoreRef: b.datastore as MoRef | undefined,
        backingType: b._type ?? '',
        provisioning: isRdm
          ? 'unknown'
          : thin
            ? 'thin'
            : bool(b.eagerlyScrub)
              ? 'eagerZeroedThick'
              : b.thinProvisioned !== undefined
                ? 'thick'
                : 'unknown',
        thin,
        diskMode,
        independent: diskMode.startsWith('independent'),
        sharing: str(b.sharing) ?? 'sharingNone',
        controllerSharedBus: controllerByKey.get(num(d.controllerKey) ?? Number.NaN)?.sharedBus,
        rdm: isRdm
          ? {
              compatibilityMode: str(b.compatibilityMode) ?? '',
              deviceName: str(b.deviceName),
              lunUuid: str(b.lunUuid),
            }
          : undefined,
      });
    } else if (NIC_TYPES.has(t)) {
      const b = obj(d.backing);
      let network: string | undefined;
      if (b._type === 'VirtualEthernetCardNetworkBackingInfo') network = str(b.deviceName);
      else if (b._type === 'VirtualEthernetCardDistributedVirtualPortBackingInfo') {
        const key = str(obj(b.port).portgroupKey);
        network = (key && ctx.portgroupNames?.get(key)) ?? key;
      } else if (b._type === 'VirtualEthernetCardOpaqueNetworkBackingInfo') network = str(b.opaqueNetworkId);
      nics.push({
        key: num(d.key) ?? 0,
        label: str(info.label) ?? '',
        macAddress: str(d.macAddress) ?? '',
        adapterType: t.replace(/^Virtual/, '').toLowerCase(),
        network,
        backingType: b._type ?? '',
        connected: bool(connectable.connected),
        startConnected: bool(connectable.startConnected),
      });
    } else if (t === 'VirtualCdrom') {
      cdroms.push({
        key: num(d.key) ?? 0,
        label: str(info.label) ?? '',
        controller: ctrl(d.controllerKey),
        unitNumber: num(d.unitNumber),
        backing: cdromBacking(obj(d.backing)),
        connected: bool(connectable.connected),
        startConnected: bool(connectable.startConnected),
      });
    }
  }
  const boot = obj(props['config.bootOptions']);
  const hostRef = props['runtime.host'] as MoRef | undefined;
  const guestId = str(props['guest.guestId']);
  const guestFull = str(props['guest.guestFullName']);
  return {
    ref,
    name: str(props.name) ?? '',
    instanceUuid: str(props['config.instanceUuid']),
    biosUuid: str(props['config.uuid']),
    guestId: str(props['config.guestId']),
    guestFullName: str(props['config.guestFullName']) ?? guestFull,
    guestRunning:
      guestId || guestFull
        ? {
            guestId,
            fullName: guestFull,
            hostName: str(props['guest.hostName']),
            ipAddress: str(props['guest.ipAddress']),
          }
        : undefined,
    firmware: str(props['config.firmware']) === 'efi' ? 'efi' : 'bios',
    secureBoot: bool(boot.efiSecureBootEnabled),
    bootDiskOrder: arr(boot.bootOrder)
      .map(obj)
      .filter((d) => d._type === 'VirtualMachineBootOptionsBootableDiskDevice')
      .map((d) => num(d.deviceKey) ?? -1),
    vtpm,
    numCpu: num(hw.numCPU) ?? 0,
    coresPerSocket: num(hw.numCoresPerSocket),
    memoryMiB: num(hw.memoryMB) ?? 0,
    hardwareVersion: str(props['config.version']),
    disks,
    nics,
    cdroms,
    controllers,
    snapshots: snapshotsOf(props.snapshot),
    cbtEnabled: bool(props['config.changeTrackingEnabled']),
    consolidationNeeded: bool(props['runtime.consolidationNeeded']),
    tools: {
      status: str(props['guest.toolsStatus']),
      runningStatus: str(props['guest.toolsRunningStatus']),
      version: str(props['guest.toolsVersion']),
      versionStatus: str(props['guest.toolsVersionStatus2']),
    },
    powerState: str(props['runtime.powerState']) ?? 'unknown',
    template: bool(props['config.template']),
    encrypted: !!props['config.keyId'],
    host: hostRef ? { ref: hostRef, name: ctx.hostName } : undefined,
    datacenter: ctx.datacenter,
    datacenterPath: ctx.datacenterPath,
  };
}
