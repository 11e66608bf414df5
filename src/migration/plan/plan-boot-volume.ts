// Whether the server boots from a volume: as the plan says, or (`auto`) when the flavor's root
// disk cannot hold the boot disk.
import type { VmMigrationConfig } from '../plan-file.js';
import { blocker } from '../rules/types.js';
import type { Planned, PlannedFlavor } from './types.js';

export function planBootVolume(
  cfg: VmMigrationConfig,
  flavor: PlannedFlavor | undefined,
  bootGiB: number | undefined,
): Planned<{ bootFromVolume: boolean }> {
  if (cfg.migration === 'warm') {
    // The warm copy writes every disk into a volume while the VM runs; the boot disk's is the root.
    if (cfg.bootFromVolume !== false) return { bootFromVolume: true, findings: [] };
    return {
      bootFromVolume: false,
      findings: [
        blocker(
          'warm-boot-volume',
          'migration: warm copies the boot disk into a volume, but bootFromVolume is false',
          'set bootFromVolume: auto (or true), or migration: cold',
        ),
      ],
    };
  }
  const asked = cfg.bootFromVolume === true;
  if (!flavor || bootGiB === undefined) return { bootFromVolume: asked, findings: [] };
  const fits = flavor.diskGiB >= bootGiB && flavor.diskGiB > 0;
  if (cfg.bootFromVolume === 'auto') return { bootFromVolume: !fits, findings: [] };
  if (cfg.bootFromVolume === false && !fits) {
    return {
      bootFromVolume: false,
      findings: [
        blocker(
          'boot-disk-too-large',
          `the boot disk (${bootGiB} GiB) is larger than flavor ${flavor.name}'s disk (${flavor.diskGiB} GiB)`,
          'set bootFromVolume: auto (or true), or choose a flavor with a larger disk',
        ),
      ],
    };
  }
  return { bootFromVolume: asked, findings: [] };
}
