// buildPlan(inventory, config) → VmPlan: every concrete value a migration of one VM will use
// (images and their properties, flavor, ports, volumes, drivers, local space), plus blockers and
// warnings, each with a fix. Pure: no I/O, so `v2o plan` and `v2o migrate` agree by construction
// and the migration steps read their values from the plan stored in the run's params.
import { estimateLocalSpace } from '../transfer/space.js';
import { virtioWinSignedFolder } from './driver-rules.js';
import { type DriverPlan, planDrivers } from './drivers.js';
import { bootImageProperties } from './image-properties.js';
import type { Inventory, PlanIssue, SourceDisk, SourceVm, TargetFlavor, TargetNetwork } from './inventory.js';
import type { ImageFormat, VmMigrationConfig } from './plan-file.js';
import { detectWindows, type WindowsVersion } from './windows-version.js';

const GiB = 1024 ** 3;

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
  fixedIp?: string;
  subnetId?: string;
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
  source?: {
    moref: string;
    instanceUuid?: string;
    guestId: string;
    guestFullName?: string;
    firmware: 'bios' | 'efi';
    secureBoot: boolean;
    vtpm: boolean;
    cpus: number;
    memoryMiB: number;
    powerState: SourceVm['powerState'];
    toolsRunning: boolean;
    /** Power the source back on after a rollback, and after success when sourceAfter says so. */
    wasPoweredOn: boolean;
    /** Datacenter inventory path (datastore URLs need it). */
    datacenter?: string;
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
}

/** Readiness codes (src/vsphere/readiness.ts, without `vsphere.`) that buildPlan judges itself, knowing the plan's driver mode. */
const COVERED_READINESS = new Set([
  'snapshots',
  'rdm-disk',
  'shared-disk',
  'independent-disk',
  'independent-nonpersistent',
  'no-disks',
  'no-nics',
  'not-windows',
  'suspended',
  'secure-boot',
  'tools-not-running',
  'tools-not-installed',
  'vtpm',
  'bitlocker-risk',
  'vtpm-bitlocker',
]);

/** Deterministic names: a resumed or re-planned run computes the same ones. */
export function resourceName(vm: string, kind: 'disk' | 'vol' | 'nic', index: number): string {
  return `v2o-${slug(vm)}-${kind}${index}`;
}

function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'vm';
}

export function buildPlan(inv: Inventory, cfg: VmMigrationConfig): VmPlan {
  const blockers: PlanIssue[] = [];
  const warnings: PlanIssue[] = [];
  const block = (code: string, message: string, fix: string) => blockers.push({ code, message, fix });
  const warn = (code: string, message: string, fix: string) => warnings.push({ code, message, fix });
  const empty: VmPlan = {
    vm: cfg.name,
    ready: false,
    blockers,
    warnings,
    disks: [],
    bootFromVolume: false,
    ports: [],
    server: { name: cfg.name, metadata: {} },
    localSpaceBytes: 0,
    sourceAfter: cfg.sourceAfter,
  };

  const vm = inv.vm;
  if (!vm) {
    block(
      'vm-not-found',
      `VM "${cfg.name}" was not found in vCenter`,
      'check the name in the plan (`v2o inventory` lists VMs)',
    );
    return empty;
  }

  // Windows version → driver folder.
  const det = detectWindows(vm.guestId, vm.guestFullName);
  let windows: WindowsVersion | undefined;
  if (!det.ok) {
    block(
      det.windows ? 'windows-unsupported' : 'not-windows',
      det.reason,
      det.windows
        ? 'v2o supports Windows Server 2012–2025 and Windows 10/11 (64-bit); upgrade the guest or migrate it by hand'
        : 'v2o migrates Windows guests only; remove this VM from the plan',
    );
  } else {
    windows = det.version;
    if (det.warning)
      warn('windows-2012', det.warning, 'test the migrated server before decommissioning the source');
  }

  // Source state and disk kinds.
  if (vm.snapshotCount > 0) {
    block(
      'snapshots',
      `the VM has ${vm.snapshotCount} snapshot(s); exporting would not capture a consistent single disk chain`,
      `delete or consolidate the snapshots first (govc snapshot.remove -vm '${vm.name}' '*')`,
    );
  }
  if (vm.powerState === 'suspended') {
    block('suspended', 'the VM is suspended', 'power it on (or off) in vCenter first');
  }
  if (vm.disks.length === 0)
    block('no-disks', 'the VM has no virtual disks', 'nothing to migrate; remove it from the plan');
  for (const d of vm.disks) {
    if (d.rdm) {
      block(
        'rdm-disk',
        `${d.label} is a raw device mapping (RDM); it cannot be exported`,
        'convert it to a virtual disk with Storage vMotion, or move the LUN separately and detach it',
      );
    }
    if (d.sharing && d.sharing !== 'sharingNone') {
      block(
        'shared-disk',
        `${d.label} is shared (${d.sharing}) with other VMs`,
        'detach the shared disk (clustered disks need a shared Cinder volume set up by hand)',
      );
    }
    if (d.diskMode === 'independent_nonpersistent') {
      block(
        'independent-nonpersistent',
        `${d.label} is independent non-persistent: its changes are thrown away at power-off`,
        'change the disk mode to persistent (VM settings → disk → mode) before migrating',
      );
    } else if (d.diskMode.startsWith('independent')) {
      warn(
        'independent-disk',
        `${d.label} is independent (${d.diskMode}); snapshots skip it, but the export includes it`,
        'nothing to do unless a backup tool relies on it',
      );
    }
  }
  if (vm.vtpm) {
    warn(
      'vtpm-bitlocker',
      'the VM has a virtual TPM: secrets sealed to it (BitLocker keys, Windows Hello) do not move',
      'suspend BitLocker in the guest (manage-bde -protectors -disable C: -RebootCount 2) and keep the recovery key at hand',
    );
  }
  if (vm.firmware === 'efi' && vm.secureBoot) {
    warn(
      'secure-boot',
      'secure boot is on: the target compute hosts must offer UEFI secure boot (OVMF with SB, q35)',
      'check that the cloud supports os_secure_boot=required, or turn secure boot off in the source first',
    );
  }

  // Drivers: what to install, where from, and whether it can be done automatically.
  const mode = cfg.drivers.mode;
  const driverPlan = windows
    ? planDrivers(cfg.diskBus, windows.folder, {
        vifModel: cfg.vifModel,
        balloon: cfg.drivers.balloon,
        bootFallback: cfg.bootFallback,
      })
    : undefined;
  const iso = cfg.drivers.virtioWin;
  const isoFinding = windows && iso ? virtioWinSignedFolder(windows, iso) : undefined;
  if (isoFinding)
    (isoFinding.severity === 'blocker' ? block : warn)(isoFinding.code, isoFinding.message, isoFinding.fix);
  if (!iso) {
    (mode === 'auto' ? block : warn)(
      'no-virtio-win',
      'no virtio-win ISO is given',
      'set drivers.virtioWin.url (or .path) in the plan, e.g. the stable virtio-win.iso from fedorapeople.org',
    );
  } else if (!iso.sha256) {
    warn(
      'no-iso-sha256',
      'the virtio-win ISO has no sha256 to verify it against',
      'add drivers.virtioWin.sha256',
    );
  }
  if (mode === 'auto') {
    if (vm.powerState !== 'poweredOn') {
      block(
        'powered-off-auto-drivers',
        'automatic driver install needs the VM running, and it is powered off',
        'power the VM on, or set drivers.mode: manual if the drivers are already installed',
      );
    } else if (!vm.toolsRunning) {
      block(
        'tools-not-running',
        `VMware Tools is not running (${vm.toolsStatus ?? 'unknown status'}); automatic driver install uses guest operations`,
        'start or install VMware Tools in the guest, or set drivers.mode: manual and install the drivers yourself',
      );
    }
  } else if (!vm.toolsRunning) {
    warn(
      'manual-unverified',
      'VMware Tools is not running, so v2o cannot check the drivers: your approval is the verification',
      'install the drivers and make the storage driver boot-critical before `v2o approve`',
    );
  }

  if (cfg.exportMethod === 'datastore' && cfg.imageFormat === 'vmdk') {
    block(
      'datastore-needs-conversion',
      'exportMethod: datastore reads the VMDK files as they are on the datastore; uploading them as vmdk is unsafe (flat descriptors, CVE-2022-47951)',
      'set imageFormat: qcow2 (or raw), or use exportMethod: lease',
    );
  }

  if (cfg.uploadHashes.length === 0) {
    warn(
      'upload-unverified',
      "uploadHashes is empty: uploads are checked by their size only, not against Glance's checksum",
      'keep the default uploadHashes: [md5] unless this host is too short of CPU to hash',
    );
  }

  // Disks → images (and volumes). The first disk in controller order is the boot disk.
  const ordered = [...vm.disks].sort(diskOrder);
  const bootDisk = ordered[0];
  const bootGiB = bootDisk ? Math.ceil(bootDisk.capacityBytes / GiB) : 0;

  // Flavor: the plan's, or the smallest that fits.
  const flavorPick = pickFlavor(inv.flavors, vm, cfg, bootGiB);
  let flavor: PlannedFlavor | undefined;
  if (flavorPick.error) block('flavor', flavorPick.error.message, flavorPick.error.fix);
  else flavor = flavorPick.flavor;
  for (const w of flavorPick.warnings) warn(w.code, w.message, w.fix);

  let bootFromVolume = cfg.bootFromVolume === true;
  if (flavor && bootDisk) {
    const fits = flavor.diskGiB >= bootGiB && flavor.diskGiB > 0;
    if (cfg.bootFromVolume === 'auto') bootFromVolume = !fits;
    else if (cfg.bootFromVolume === false && !fits) {
      block(
        'boot-disk-too-large',
        `the boot disk (${bootGiB} GiB) is larger than flavor ${flavor.name}'s disk (${flavor.diskGiB} GiB)`,
        'set bootFromVolume: auto (or true), or choose a flavor with a larger disk',
      );
    }
  }

  const imageProps = windows
    ? bootImageProperties({
        windows,
        bus: cfg.diskBus,
        firmware: vm.firmware,
        secureBoot: vm.secureBoot,
        vtpm: vm.vtpm,
        vifModel: cfg.vifModel,
      })
    : {};
  const existing = new Set(inv.existingImageNames ?? []);
  const disks: PlannedDisk[] = ordered.map((d, index) => {
    const role = index === 0 ? 'boot' : 'data';
    const sizeGiB = Math.max(1, Math.ceil(d.capacityBytes / GiB));
    const imageName = resourceName(vm.name, 'disk', index);
    if (existing.has(imageName)) {
      warn(
        'image-name-exists',
        `an image named ${imageName} already exists in Glance`,
        'harmless (v2o finds its images by run tag), but delete stale ones to avoid confusion',
      );
    }
    const properties: Record<string, string> = {
      ...(role === 'boot' ? imageProps : {}),
      v2o_source_vm: vm.name,
      v2o_source_disk: d.label,
    };
    const planned: PlannedDisk = {
      index,
      key: d.key,
      label: d.label,
      role,
      sizeBytes: d.capacityBytes,
      sourceFile: d.fileName,
      datastore: d.datastore,
      controller: d.controllerType,
      image: {
        name: imageName,
        diskFormat: cfg.imageFormat,
        containerFormat: 'bare',
        properties,
        minDiskGiB: role === 'boot' ? sizeGiB : 0,
        minRamMiB: role === 'boot' ? Math.min(vm.memoryMiB, 2048) : 0,
      },
      localSpaceBytes: localSpaceFor(cfg.imageFormat, d.capacityBytes),
    };
    if (role === 'data' || bootFromVolume) {
      planned.volume = {
        name: resourceName(vm.name, 'vol', index),
        sizeGiB,
        fromImage: imageName,
        volumeType: cfg.volumeType,
        bootable: role === 'boot',
      };
    }
    return planned;
  });

  // Ports: one per NIC on the mapped network.
  const ports: PlannedPort[] = [];
  vm.nics.forEach((nic, i) => {
    const mapping = cfg.networks.find((m) => m.portGroup === nic.network);
    if (!mapping) {
      block(
        'unmapped-network',
        `${nic.label} is on port group "${nic.network}", which the plan does not map`,
        `add to networks: - portGroup: ${nic.network}\n      network: <target network>`,
      );
      return;
    }
    const net = findNetwork(inv.networks, mapping.network);
    if (!net) {
      block(
        'network-not-found',
        `network "${mapping.network}" (for port group "${nic.network}") does not exist in the target cloud`,
        `create it or fix the name (openstack network list); known: ${inv.networks.map((n) => n.name).join(', ') || 'none'}`,
      );
      return;
    }
    let subnetId: string | undefined;
    if (mapping.subnet) {
      subnetId = net.subnets.find((s) => s.id === mapping.subnet || s.name === mapping.subnet)?.id;
      if (!subnetId) {
        block(
          'subnet-not-found',
          `subnet "${mapping.subnet}" is not on network ${net.name}`,
          'fix the subnet name or id',
        );
      }
    }
    if (mapping.fixedIp) {
      const inSubnet = net.subnets.find(
        (s) => (subnetId ? s.id === subnetId : true) && ipInCidr(mapping.fixedIp!, s.cidr),
      );
      if (!inSubnet) {
        block(
          'fixed-ip-outside',
          `fixed IP ${mapping.fixedIp} is in no subnet of network ${net.name} (${net.subnets.map((s) => s.cidr).join(', ')})`,
          'choose an address inside one of the subnets',
        );
      } else subnetId ??= inSubnet.id;
    }
    const taken = mapping.keepMac ? inv.macsInUse?.[nic.macAddress.toLowerCase()] : undefined;
    if (taken) {
      block(
        'mac-in-use',
        `${nic.label}'s MAC ${nic.macAddress.toLowerCase()} is already used by port ${taken} in the target cloud`,
        `delete that port if it is left over (openstack port delete ${taken}), or set keepMac: false for port group "${nic.network}"`,
      );
    }
    if (cfg.vifModel === 'e1000' && nic.adapterType === 'vmxnet3') {
      warn(
        'e1000-from-vmxnet3',
        `${nic.label} is vmxnet3 and becomes e1000: Windows sees a new NIC and its static IP settings do not carry over`,
        'use vifModel: virtio (NetKVM is installed) or reconfigure the address after migration',
      );
    }
    ports.push({
      name: resourceName(vm.name, 'nic', i),
      nicKey: nic.key,
      nicLabel: nic.label,
      sourceMac: nic.macAddress,
      portGroup: nic.network,
      networkId: net.id,
      networkName: net.name,
      macAddress: mapping.keepMac ? nic.macAddress.toLowerCase() : undefined,
      fixedIp: mapping.fixedIp,
      subnetId,
    });
  });
  if (vm.nics.length === 0)
    warn('no-nics', 'the VM has no network adapters', 'the server will have no network');

  // Quota, when the cloud told us what is left.
  const q = inv.quota;
  if (q && flavor) {
    const need = {
      cores: flavor.vcpus,
      ramMiB: flavor.ramMiB,
      instances: 1,
      volumes: disks.filter((d) => d.volume).length,
      volumeGiB: disks.reduce((n, d) => n + (d.volume?.sizeGiB ?? 0), 0),
    };
    for (const k of Object.keys(need) as (keyof typeof need)[]) {
      const left = q[k];
      if (left !== undefined && need[k] > left) {
        block(
          'quota',
          `quota: ${k} needs ${need[k]}, ${left} left`,
          `ask the cloud admin to raise the ${k} quota of the project`,
        );
      }
    }
  }

  // The vSphere readiness rules overlap with the checks above; take only what they add.
  const covered = (code: string) => COVERED_READINESS.has(code.replace(/^vsphere\./, ''));
  const readiness = inv.readiness ?? vm.readiness;
  for (const r of readiness?.blockers ?? []) {
    if (!covered(r.code) && !blockers.some((b) => b.code === r.code)) blockers.push(r);
  }
  for (const r of readiness?.warnings ?? []) {
    if (!covered(r.code) && !warnings.some((w) => w.code === r.code)) warnings.push(r);
  }

  const wasPoweredOn = vm.powerState === 'poweredOn';
  return {
    vm: vm.name,
    ready: blockers.length === 0,
    blockers,
    warnings,
    source: {
      moref: vm.moref,
      instanceUuid: vm.instanceUuid,
      guestId: vm.guestId,
      guestFullName: vm.guestFullName,
      firmware: vm.firmware,
      secureBoot: vm.secureBoot,
      vtpm: vm.vtpm,
      cpus: vm.cpus,
      memoryMiB: vm.memoryMiB,
      powerState: vm.powerState,
      toolsRunning: vm.toolsRunning,
      wasPoweredOn,
      datacenter: vm.datacenter,
    },
    windows,
    drivers: driverPlan
      ? {
          ...driverPlan,
          mode,
          iso: iso ? { ...iso, datastore: cfg.isoDatastore ?? bootDisk?.datastore } : undefined,
        }
      : undefined,
    disks,
    flavor,
    bootFromVolume,
    ports,
    server: {
      name: vm.name,
      metadata: { v2o_source_vm: vm.name, ...(vm.instanceUuid ? { v2o_source_uuid: vm.instanceUuid } : {}) },
    },
    localSpaceBytes: disks.reduce((n, d) => n + d.localSpaceBytes, 0),
    sourceAfter: cfg.sourceAfter,
  };
}

/** Controller type first (IDE/SATA/SCSI bus order as the BIOS enumerates), then bus and unit. */
function diskOrder(a: SourceDisk, b: SourceDisk): number {
  return a.busNumber - b.busNumber || a.unitNumber - b.unitNumber || a.key - b.key;
}

/**
 * Local disk a conversion needs, from src/transfer's estimate. Conservative: whether the export
 * lease serves Range is only known once it is open, so the plan assumes it stages the source.
 */
function localSpaceFor(format: ImageFormat, capacityBytes: number): number {
  return estimateLocalSpace({ capacityBytes, sourceSupportsRange: false }, format).bytes;
}

function findNetwork(nets: TargetNetwork[], ref: string): TargetNetwork | undefined {
  return nets.find((n) => n.id === ref) ?? nets.find((n) => n.name === ref);
}

interface FlavorPick {
  flavor?: PlannedFlavor;
  error?: { message: string; fix: string };
  warnings: PlanIssue[];
}

/**
 * The plan's flavor, or the smallest that fits CPUs and RAM and, when bootFromVolume is not forced,
 * the boot disk. With `auto`, a flavor that only fits CPU and RAM is taken with a boot volume.
 */
export function pickFlavor(
  flavors: TargetFlavor[],
  vm: SourceVm,
  cfg: VmMigrationConfig,
  bootGiB: number,
): FlavorPick {
  const warnings: PlanIssue[] = [];
  if (cfg.flavor !== 'auto') {
    const f = flavors.find((x) => x.id === cfg.flavor) ?? flavors.find((x) => x.name === cfg.flavor);
    if (!f) {
      return {
        warnings,
        error: {
          message: `flavor "${cfg.flavor}" does not exist in the target cloud`,
          fix: `fix the name (openstack flavor list) or use flavor: auto; known: ${flavors.map((x) => x.name).join(', ') || 'none'}`,
        },
      };
    }
    if (f.vcpus < vm.cpus || f.ramMiB < vm.memoryMiB) {
      warnings.push({
        code: 'flavor-smaller',
        message: `flavor ${f.name} (${f.vcpus} vCPU, ${f.ramMiB} MiB) is smaller than the VM (${vm.cpus} vCPU, ${vm.memoryMiB} MiB)`,
        fix: 'choose a larger flavor or flavor: auto, unless the VM is oversized on purpose',
      });
    }
    return { flavor: { ...f, chosenBy: 'plan' }, warnings };
  }
  const bySize = (a: TargetFlavor, b: TargetFlavor) =>
    a.vcpus - b.vcpus || a.ramMiB - b.ramMiB || a.diskGiB - b.diskGiB || a.name.localeCompare(b.name);
  const compute = flavors.filter((f) => f.vcpus >= vm.cpus && f.ramMiB >= vm.memoryMiB).sort(bySize);
  if (compute.length === 0) {
    return {
      warnings,
      error: {
        message: `no flavor has at least ${vm.cpus} vCPU and ${vm.memoryMiB} MiB RAM`,
        fix: 'ask the cloud admin for a larger flavor, or name a smaller one in the plan (flavor: NAME)',
      },
    };
  }
  if (cfg.bootFromVolume !== true) {
    const withDisk = compute.find((f) => f.diskGiB >= bootGiB && f.diskGiB > 0);
    if (withDisk) return { flavor: { ...withDisk, chosenBy: 'best-match' }, warnings };
    if (cfg.bootFromVolume === false) {
      return {
        warnings,
        error: {
          message: `no flavor fits ${vm.cpus} vCPU, ${vm.memoryMiB} MiB and a ${bootGiB} GiB root disk`,
          fix: 'set bootFromVolume: auto to boot from a volume, or name a flavor',
        },
      };
    }
  }
  // Booting from a volume: the flavor's disk is unused, so prefer a 0-disk flavor of the same size.
  const smallest = compute[0]!;
  const zeroDisk = compute.find(
    (f) => f.diskGiB === 0 && f.vcpus === smallest.vcpus && f.ramMiB === smallest.ramMiB,
  );
  return { flavor: { ...(zeroDisk ?? smallest), chosenBy: 'best-match' }, warnings };
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  const toInt = (a: string) => {
    const p = a.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return undefined;
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  };
  const a = toInt(ip);
  const b = toInt(net ?? '');
  if (a === undefined || b === undefined) return ip.includes(':') && (net ?? '').includes(':'); // IPv6: trust Neutron
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}
