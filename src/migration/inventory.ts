// What build-plan and the rules (src/migration/rules/) read: the source VM and the target cloud,
// as plain data. source-vsphere.ts and target-openstack.ts fill it from the clients; tests write it by hand.
import type { GuestFacts } from './guest/facts.js';
import type { ChangeTrackingState, ConversionHostInfo, DiskLayout } from './services.js';

export interface SourceDisk {
  key: number;
  label: string;
  capacityBytes: number;
  /** The controller's vim type: VirtualLsiLogicSASController, ParaVirtualSCSIController, VirtualAHCIController … */
  controllerType: string;
  /** The controller's device key (vSphere numbers IDE 200+, SCSI 1000+, SATA 15000+, NVMe 31000+). */
  controllerKey?: number;
  /** The SCSI controller's bus sharing: noSharing, virtualSharing or physicalSharing. */
  controllerSharedBus?: string;
  busNumber: number;
  unitNumber: number;
  /** `[datastore] folder/file.vmdk` */
  fileName: string;
  datastore: string;
  thin?: boolean;
  /** persistent, independent_persistent, independent_nonpersistent, ... */
  diskMode: string;
  /** sharingNone or sharingMultiWriter. */
  sharing?: string;
  /** True for a raw device mapping (physical or virtual). */
  rdm?: boolean;
}

export interface SourceNic {
  key: number;
  label: string;
  macAddress: string;
  /** The port group (network name). */
  network: string;
  adapterType: string;
}

export interface SourceCdrom {
  key: number;
  label: string;
  isoPath?: string;
  connected: boolean;
  startConnected: boolean;
}

export interface SourceVm {
  name: string;
  moref: string;
  /** summary.type of the datastores its disks live on, by name (VMFS, NFS, NFS41, vsan, VVOL). */
  datastoreTypes?: Record<string, string>;
  instanceUuid?: string;
  guestId: string;
  guestFullName?: string;
  firmware: 'bios' | 'efi';
  secureBoot: boolean;
  vtpm: boolean;
  cpus: number;
  memoryMiB: number;
  disks: SourceDisk[];
  /** Device keys of the disks the VM's boot order names (config.bootOptions.bootOrder), first first. */
  bootDiskOrder?: number[];
  nics: SourceNic[];
  cdroms: SourceCdrom[];
  /** Snapshot names, the whole tree; [] when there are none. */
  snapshots: string[];
  template?: boolean;
  /** Encrypted by vSphere (VM encryption). */
  encrypted?: boolean;
  toolsRunning: boolean;
  toolsStatus?: string;
  powerState: 'poweredOn' | 'poweredOff' | 'suspended';
  datacenter?: string;
  host?: string;
}

export interface TargetFlavor {
  id: string;
  name: string;
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
}

export interface TargetNetwork {
  id: string;
  name: string;
  subnets: { id: string; name: string; cidr: string }[];
  /** Neutron's `mtu` of the network (undefined when the cloud does not report it). */
  mtu?: number;
}

export interface TargetQuota {
  /** Remaining amounts; undefined = unlimited or unknown. */
  cores?: number;
  ramMiB?: number;
  instances?: number;
  volumes?: number;
  volumeGiB?: number;
}

/** A problem or a risk, always with what to do about it. */
export interface PlanIssue {
  code: string;
  message: string;
  fix: string;
}

export interface Inventory {
  /** Undefined when the VM was not found. */
  vm?: SourceVm;
  flavors: TargetFlavor[];
  networks: TargetNetwork[];
  quota?: TargetQuota;
  /** Names of images already in Glance (to warn about clashes; steps find their own by tag). */
  existingImageNames?: string[];
  /** MAC address (lower case) → id of the target port that already uses it. */
  macsInUse?: Record<string, string>;
  /** IP address → id of the target port (this project's) that holds it as a fixed IP. */
  addressesInUse?: Record<string, string>;
  /** What the capture found inside the running guest (guest/capture.ts); undefined when not inspected. */
  guest?: GuestFacts;
  /** Why `guest` is undefined, when the inspection was considered (prepare.ts, preflight). */
  guestMissing?: GuestMissing;
  /** CBT state (hardware version, consolidationNeeded); read when the plan migrates warm. */
  changeTracking?: ChangeTrackingState;
  /** Each disk's descriptor, classified, by device key; read when a conversion host is set. */
  diskLayouts?: Record<number, DiskLayout>;
  /** The datastore's summary.type by name (VMFS, NFS, NFS41, vsan, VVOL), when the source tells it. */
  datastoreTypes?: Record<string, string>;
  /** The conversion host the plan names, found in the target project. */
  conversionHost?: ConversionHostInfo;
  /** Why the conversion host (or a disk layout) could not be read: a blocker with this fix. */
  conversionHostProblem?: { message: string; fix: string };
}

/** The guest was not inspected (Tools not running, no credentials), or its capture failed. */
export interface GuestMissing {
  reason: string;
  /** The capture ran and failed (PowerShell blocked, output that does not parse): a blocker. */
  failed: boolean;
  fix: string;
}
