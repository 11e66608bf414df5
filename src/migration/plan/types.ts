// The plan's shape: every concrete value a migration of one VM uses. The planners in this folder
// each fill one part; build-plan.ts chains them. The steps read these values from the run's params.
import type { DriverPlan } from '../drivers.js';
import type { GuestFacts } from '../guest/facts.js';
import type { PlanIssue, SourceVm } from '../inventory.js';
import type { ImageFormat } from '../plan-file.js';
import type { Finding } from '../rules/types.js';
import type { DiskLayout } from '../services.js';
import type { WindowsVersion } from '../windows-version.js';

export interface PlannedImage {
  name: string;
  diskFormat: ImageFormat;
  containerFormat: 'bare';
  /** Every Glance property, Windows ones on the boot image only. */
  properties: Record<string, string>;
  minDiskGiB: number;
  minRamMiB: number;
}

export interface PlannedVolume {
  name: string;
  sizeGiB: number;
  /** Created from the disk's image, then the image is no longer needed. */
  fromImage: string;
  volumeType?: string;
  bootable: boolean;
}

export interface PlannedDisk {
  index: number;
  key: number;
  label: string;
  role: 'boot' | 'data';
  sizeBytes: number;
  sourceFile: string;
  datastore: string;
  controller: string;
  image: PlannedImage;
  /** Data disks always; the boot disk when booting from a volume. */
  volume?: PlannedVolume;
  /** Local staging needed to convert this disk (0 for vmdk streamed straight to Glance). */
  localSpaceBytes: number;
  /**
   * `volume`: written at offsets into a Cinder volume attached to the conversion host (warm, or
   * cold with a conversion host); `image`: streamed to Glance (and a volume made from the image).
   */
  route: 'volume' | 'image';
  /** A killed copy continues from its last checkpointed extent (volume route); a Glance PUT starts again. */
  resumesMidDisk: boolean;
  /** The disk's descriptor as the source read it (when a conversion host is set). */
  layout?: DiskLayout;
  /** What QueryChangedDiskAreas("*") gives on this disk's datastore (volume route). */
  allocatedAreas?: string;
}

export interface PlannedPort {
  name: string;
  nicKey: number;
  nicLabel: string;
  sourceMac: string;
  portGroup: string;
  networkId: string;
  networkName: string;
  /** The MAC the port gets; undefined lets Neutron choose. */
  macAddress?: string;
  /** Runs planned before issue 13: the one fixed IP asked for (now folded into fixedIps). */
  fixedIp?: string;
  /** The subnet the plan names, for a port without fixed IPs. */
  subnetId?: string;
  /** The port's fixed IPs, each in a subnet of the network; undefined lets Neutron choose (DHCP). */
  fixedIps?: PlannedAddress[];
  /** Addresses in no subnet of the network, allowed on the port (outsideAddresses: allowed-address-pairs). */
  allowedAddressPairs?: { ipAddress: string }[];
  /** The guest adapter (by MAC) whose identity this port carries, when the guest was inspected. */
  guestAdapter?: string;
  /** The MTU the first-boot task sets: the guest's, lowered to the network's when that is smaller. */
  mtu?: number;
}

export interface PlannedAddress {
  subnetId: string;
  ipAddress: string;
  /** The prefix the guest configures (the captured one, else the subnet's). */
  prefixLength: number;
}

export interface PlannedFlavor {
  id: string;
  name: string;
  vcpus: number;
  ramMiB: number;
  diskGiB: number;
  chosenBy: 'plan' | 'best-match';
}

export interface VmPlan {
  vm: string;
  ready: boolean;
  blockers: PlanIssue[];
  warnings: PlanIssue[];
  /** The source VM's facts that the steps need, as planned. */
  source?: Pick<
    SourceVm,
    | 'moref'
    | 'instanceUuid'
    | 'guestId'
    | 'guestFullName'
    | 'firmware'
    | 'secureBoot'
    | 'vtpm'
    | 'cpus'
    | 'memoryMiB'
    | 'powerState'
    | 'toolsRunning'
  > & {
    /** Power the source back on after a rollback, and after success when sourceAfter says so. */
    wasPoweredOn: boolean;
    /** Datacenter inventory path (datastore URLs need it). */
    datacenter?: string;
    /** The ESXi host it runs on: the per-source-host transfer limit is counted by it. */
    host?: string;
  };
  windows?: WindowsVersion;
  drivers?: DriverPlan & {
    mode: 'auto' | 'manual';
    iso?: { path?: string; url?: string; sha256?: string; datastore?: string };
  };
  disks: PlannedDisk[];
  flavor?: PlannedFlavor;
  bootFromVolume: boolean;
  ports: PlannedPort[];
  server: { name: string; metadata: Record<string, string> };
  localSpaceBytes: number;
  sourceAfter: 'keep-off' | 'power-on';
  /** The guest's facts captured when the plan was built; preflight compares its own capture with them. */
  guest?: GuestFacts;
  /** The conversion host found when planning (attach-volumes finds it again). */
  conversionHost?: { id: string; name: string; availabilityZone?: string };
}

/** A planner's part of the plan and what it found while deciding it. */
export type Planned<T> = T & { findings: Finding[] };
