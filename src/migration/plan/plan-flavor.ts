// The flavor part: the plan's flavor, or the smallest that fits.
import type { SourceVm, TargetFlavor } from '../inventory.js';
import type { VmMigrationConfig } from '../plan-file.js';
import { blocker, type Finding, warning } from '../rules/types.js';
import type { Planned, PlannedFlavor } from './types.js';

const bySize = (a: TargetFlavor, b: TargetFlavor) =>
  a.vcpus - b.vcpus || a.ramMiB - b.ramMiB || a.diskGiB - b.diskGiB || a.name.localeCompare(b.name);

function namedFlavor(
  flavors: TargetFlavor[],
  vm: SourceVm,
  name: string,
): Planned<{ flavor?: PlannedFlavor }> {
  const f = flavors.find((x) => x.id === name) ?? flavors.find((x) => x.name === name);
  if (!f) {
    return {
      findings: [
        blocker(
          'flavor',
          `flavor "${name}" does not exist in the target cloud`,
          `fix the name (openstack flavor list) or use flavor: auto; known: ${flavors.map((x) => x.name).join(', ') || 'none'}`,
        ),
      ],
    };
  }
  const findings: Finding[] = [];
  if (f.vcpus < vm.cpus || f.ramMiB < vm.memoryMiB) {
    findings.push(
      warning(
        'flavor-smaller',
        `flavor ${f.name} (${f.vcpus} vCPU, ${f.ramMiB} MiB) is smaller than the VM (${vm.cpus} vCPU, ${vm.memoryMiB} MiB)`,
        'choose a larger flavor or flavor: auto, unless the VM is oversized on purpose',
      ),
    );
  }
  return { flavor: { ...f, chosenBy: 'plan' }, findings };
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
): Planned<{ flavor?: PlannedFlavor }> {
  if (cfg.flavor !== 'auto') return namedFlavor(flavors, vm, cfg.flavor);
  const compute = flavors.filter((f) => f.vcpus >= vm.cpus && f.ramMiB >= vm.memoryMiB).sort(bySize);
  if (compute.length === 0) {
    const message = `no flavor has at least ${vm.cpus} vCPU and ${vm.memoryMiB} MiB RAM`;
    const fix = 'ask the cloud admin for a larger flavor, or name a smaller one in the plan (flavor: NAME)';
    return { findings: [blocker('flavor', message, fix)] };
  }
  if (cfg.bootFromVolume !== true) {
    const withDisk = compute.find((f) => f.diskGiB >= bootGiB && f.diskGiB > 0);
    if (withDisk) return { flavor: { ...withDisk, chosenBy: 'best-match' }, findings: [] };
    if (cfg.bootFromVolume === false) {
      const message = `no flavor fits ${vm.cpus} vCPU, ${vm.memoryMiB} MiB and a ${bootGiB} GiB root disk`;
      const fix = 'set bootFromVolume: auto to boot from a volume, or name a flavor';
      return { findings: [blocker('flavor', message, fix)] };
    }
  }
  // Booting from a volume: the flavor's disk is unused, so prefer a 0-disk flavor of the same size.
  const smallest = compute[0]!;
  const zeroDisk = compute.find(
    (f) => f.diskGiB === 0 && f.vcpus === smallest.vcpus && f.ramMiB === smallest.ramMiB,
  );
  return { flavor: { ...(zeroDisk ?? smallest), chosenBy: 'best-match' }, findings: [] };
}
