// Which Windows drivers a target disk bus and NIC model need, where they sit on the virtio-win
// ISO, and what makes a storage driver boot-critical, so Windows finds its boot disk after the
// move instead of stopping with INACCESSIBLE_BOOT_DEVICE (0x7B). Pure: the recipe
// (driver-recipe.ts) and the verification (steps/verify-drivers.ts) both read this plan.
import type { BootFallback, DiskBus } from './plan-file.js';
import { type PnputilSyntax, pnputilSyntax, type VirtioWinFolder } from './windows-version.js';

export type DriverName = 'viostor' | 'vioscsi' | 'netkvm' | 'balloon' | 'vioserial';
export type BootServiceName = 'viostor' | 'vioscsi' | 'storahci';

/** Directory names on the virtio-win ISO (its real layout: <Driver>\<os>\amd64\*.inf). */
const ISO_DIR: Record<DriverName, string> = {
  viostor: 'viostor',
  vioscsi: 'vioscsi',
  netkvm: 'NetKVM',
  balloon: 'Balloon',
  vioserial: 'vioserial',
};

/** The INF of each package where it is not <name>.inf (virtio-win ships vioserial as vioser.inf). */
const INF: Partial<Record<DriverName, string>> = { vioserial: 'vioser.inf' };

/** The QEMU guest agent installer on the virtio-win ISO (it talks over virtio-serial: vioserial). */
export const GUEST_AGENT_ISO_PATH = 'guest-agent\\qemu-ga-x86_64.msi';

export const SERVICES_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Services';

export interface RegValue {
  key: string;
  name: string;
  type: 'REG_DWORD' | 'REG_SZ' | 'REG_EXPAND_SZ';
  data: number | string;
}

export interface BootService {
  name: BootServiceName;
  bus: DiskBus;
  /** The service key, HKLM\SYSTEM\CurrentControlSet\Services\<name>. */
  key: string;
  /** A virtio-win driver: its .sys comes from the ISO folder. storahci is Windows' own. */
  fromIso?: { isoDir: string; inf: string; sys: string };
  /** The driver file that must be in %SystemRoot%\System32\drivers. */
  sys: string;
  /** Every value written and then verified. */
  values: RegValue[];
  /**
   * storahci: a StartOverride key (values "0", "1"…) overrides Start per boot configuration, and
   * a VM that always booted from LSI/pvscsi often has `0` = 3 there; it must be absent or all 0.
   */
  startOverrideKey?: string;
}

export interface DriverPlan {
  bus: DiskBus;
  /** Drivers added to the driver store with pnputil, in install order. */
  install: { name: DriverName; isoDir: string; inf: string }[];
  /** The planned bus's storage service (kept for `v2o plan`'s one-line view). */
  bootCriticalService: BootServiceName;
  /** reg key of bootCriticalService. */
  serviceKey: string;
  pnputil: PnputilSyntax;
  bootFallback: BootFallback;
  /** The planned bus's service first, then storahci when the SATA fallback needs it. */
  bootServices: BootService[];
  /** The guest agent's MSI on the ISO, copied into the guest before shutdown (plan: guestAgent). */
  guestAgentMsi?: string;
}

const dword = (key: string, name: string, data: number): RegValue => ({ key, name, type: 'REG_DWORD', data });

/**
 * The service key the INF's `AddService` would write if a virtio device existed (it does not on
 * VMware, so pnputil only stages the package): virtio-win's viostor.inf/vioscsi.inf
 * [scsi_Service_Inst] (ServiceType 1, StartType 0, ErrorControl 1, LoadOrderGroup "SCSI miniport",
 * ServiceBinary %12%\<drv>.sys) and [pnpsafe_pci_addreg] (Parameters\PnpInterface "5" = 1,
 * Parameters BusType), as an installed guest has them (lxc/distrobuilder windows/driver_viostor.go,
 * driver_vioscsi.go: BusType 1 for viostor, 0xa for vioscsi). virt-v2v writes the same key offline
 * (libguestfs-common mlcustomize/inject_virtio_win.ml, add_guestor_to_registry). No
 * CriticalDeviceDatabase: Windows 8 / Server 2012 and later map PCI ids through the DriverDatabase
 * that staging fills.
 */
function virtioService(name: 'viostor' | 'vioscsi', bus: DiskBus, folder: VirtioWinFolder): BootService {
  const key = `${SERVICES_KEY}\\${name}`;
  const isoDir = `${ISO_DIR[name]}\\${folder}\\amd64`;
  return {
    name,
    bus,
    key,
    fromIso: { isoDir, inf: `${name}.inf`, sys: `${name}.sys` },
    sys: `${name}.sys`,
    values: [
      dword(key, 'Type', 1),
      dword(key, 'Start', 0),
      dword(key, 'ErrorControl', 1),
      { key, name: 'Group', type: 'REG_SZ', data: 'SCSI miniport' },
      { key, name: 'ImagePath', type: 'REG_EXPAND_SZ', data: `system32\\drivers\\${name}.sys` },
      dword(`${key}\\Parameters`, 'BusType', name === 'viostor' ? 1 : 0xa),
      dword(`${key}\\Parameters\\PnpInterface`, '5', 1),
    ],
  };
}

/** Windows' own AHCI driver: its key and file exist; it only has to start at boot. */
function storahciService(): BootService {
  const key = `${SERVICES_KEY}\\storahci`;
  return {
    name: 'storahci',
    bus: 'sata',
    key,
    sys: 'storahci.sys',
    values: [dword(key, 'Start', 0)],
    startOverrideKey: `${key}\\StartOverride`,
  };
}

export function planDrivers(
  bus: DiskBus,
  folder: VirtioWinFolder,
  opts: { vifModel: 'virtio' | 'e1000'; balloon: boolean; bootFallback: BootFallback; guestAgent?: boolean },
): DriverPlan {
  const { bootFallback } = opts;
  const names: DriverName[] = [];
  if (bus === 'virtio') names.push('viostor');
  if (bus === 'scsi') names.push('vioscsi');
  if (opts.vifModel === 'virtio') names.push('netkvm');
  if (opts.balloon) names.push('balloon');
  if (opts.guestAgent) names.push('vioserial');
  const service: BootServiceName = bus === 'virtio' ? 'viostor' : bus === 'scsi' ? 'vioscsi' : 'storahci';
  const bootServices = [service === 'storahci' ? storahciService() : virtioService(service, bus, folder)];
  // The fallback boots the same disk on SATA: storahci must be ready before the VM goes down.
  if (bootFallback === 'sata' && service !== 'storahci') bootServices.push(storahciService());
  return {
    bus,
    install: names.map((name) => ({
      name,
      isoDir: `${ISO_DIR[name]}\\${folder}\\amd64`,
      inf: INF[name] ?? `${name}.inf`,
    })),
    bootCriticalService: service,
    serviceKey: `${SERVICES_KEY}\\${service}`,
    pnputil: pnputilSyntax(folder),
    bootFallback,
    bootServices,
    ...(opts.guestAgent ? { guestAgentMsi: GUEST_AGENT_ISO_PATH } : {}),
  };
}
