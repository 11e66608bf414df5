// Which Windows drivers a target disk bus and NIC model need, where they sit on the virtio-win
// ISO, and which service must start at boot (Start = 0) or Windows cannot find its boot disk
// after the move (INACCESSIBLE_BOOT_DEVICE).
import type { DiskBus } from './plan-file.js';
import type { VirtioWinFolder } from './windows-version.js';

export type DriverName = 'viostor' | 'vioscsi' | 'netkvm' | 'balloon';

/** Directory names on the virtio-win ISO (its real layout: <Driver>\<os>\amd64\*.inf). */
const ISO_DIR: Record<DriverName, string> = {
  viostor: 'viostor',
  vioscsi: 'vioscsi',
  netkvm: 'NetKVM',
  balloon: 'Balloon',
};

export interface DriverPlan {
  bus: DiskBus;
  /** Drivers added to the driver store with pnputil, in install order. */
  install: { name: DriverName; isoDir: string; inf: string }[];
  /**
   * The service made boot-critical. sata uses Windows' own storahci, which a VM that always
   * booted from LSI/pvscsi may have disabled, so it is set to Start = 0 as well.
   */
  bootCriticalService: 'viostor' | 'vioscsi' | 'storahci';
  /** reg key checked and set. */
  serviceKey: string;
}

export function planDrivers(
  bus: DiskBus,
  folder: VirtioWinFolder,
  opts: { vifModel: 'virtio' | 'e1000'; balloon: boolean },
): DriverPlan {
  const names: DriverName[] = [];
  if (bus === 'virtio') names.push('viostor');
  if (bus === 'scsi') names.push('vioscsi');
  if (opts.vifModel === 'virtio') names.push('netkvm');
  if (opts.balloon) names.push('balloon');
  const service = bus === 'virtio' ? 'viostor' : bus === 'scsi' ? 'vioscsi' : 'storahci';
  return {
    bus,
    install: names.map((name) => ({
      name,
      isoDir: `${ISO_DIR[name]}\\${folder}\\amd64`,
      inf: `${name === 'netkvm' ? 'netkvm' : name}.inf`,
    })),
    bootCriticalService: service,
    serviceKey: `HKLM\\SYSTEM\\CurrentControlSet\\Services\\${service}`,
  };
}
