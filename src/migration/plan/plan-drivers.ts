// The drivers part: what to install from the virtio-win ISO for this Windows and target bus, and
// where the ISO goes (the plan's isoDatastore, or the boot disk's datastore).
import { planDrivers } from '../drivers.js';
import type { SourceDisk } from '../inventory.js';
import type { VmMigrationConfig } from '../plan-file.js';
import type { WindowsVersion } from '../windows-version.js';
import type { VmPlan } from './types.js';

export function planDriverInstall(
  cfg: VmMigrationConfig,
  windows: WindowsVersion | undefined,
  bootDisk: SourceDisk | undefined,
): VmPlan['drivers'] {
  if (!windows) return undefined;
  const iso = cfg.drivers.virtioWin;
  return {
    ...planDrivers(cfg.diskBus, windows.folder, {
      vifModel: cfg.vifModel,
      balloon: cfg.drivers.balloon,
      bootFallback: cfg.bootFallback,
      guestAgent: cfg.guestAgent,
    }),
    mode: cfg.drivers.mode,
    iso: iso ? { ...iso, datastore: cfg.isoDatastore ?? bootDisk?.datastore } : undefined,
  };
}
