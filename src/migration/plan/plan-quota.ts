// The quota check, when the cloud told us what is left: the flavor's cores and RAM, one
// instance, and the planned volumes.
import type { TargetQuota } from '../inventory.js';
import { blocker, type Finding } from '../rules/types.js';
import type { PlannedDisk, PlannedFlavor } from './types.js';

export function planQuota(
  quota: TargetQuota | undefined,
  flavor: PlannedFlavor | undefined,
  disks: PlannedDisk[],
): Finding[] {
  if (!quota || !flavor) return [];
  const need = {
    cores: flavor.vcpus,
    ramMiB: flavor.ramMiB,
    instances: 1,
    volumes: disks.filter((d) => d.volume).length,
    volumeGiB: disks.reduce((n, d) => n + (d.volume?.sizeGiB ?? 0), 0),
  };
  return (Object.keys(need) as (keyof typeof need)[])
    .filter((k) => quota[k] !== undefined && need[k] > quota[k]!)
    .map((k) =>
      blocker(
        'quota',
        `quota: ${k} needs ${need[k]}, ${quota[k]} left`,
        `ask the cloud admin to raise the ${k} quota of the project`,
      ),
    );
}
