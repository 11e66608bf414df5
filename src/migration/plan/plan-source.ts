// The source part of the plan: the VM was found, what it is, and which Windows it runs (the
// driver folder). What is wrong with its release is the windows-release rule's to say.
import type { Inventory, SourceVm } from '../inventory.js';
import type { VmMigrationConfig } from '../plan-file.js';
import { blocker } from '../rules/types.js';
import { detectWindows, type WindowsVersion } from '../windows-version.js';
import type { Planned, VmPlan } from './types.js';

export function planSource(
  inv: Inventory,
  cfg: VmMigrationConfig,
): Planned<{ vm?: SourceVm; source?: VmPlan['source']; windows?: WindowsVersion }> {
  const vm = inv.vm;
  if (!vm) {
    return {
      findings: [
        blocker(
          'vm-not-found',
          `VM "${cfg.name}" was not found in vCenter`,
          'check the name in the plan (`v2o inventory` lists VMs)',
        ),
      ],
    };
  }
  const det = detectWindows(vm.guestId, vm.guestFullName);
  return {
    vm,
    windows: det.ok ? det.version : undefined,
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
      wasPoweredOn: vm.powerState === 'poweredOn',
      datacenter: vm.datacenter,
      ...(vm.host ? { host: vm.host } : {}),
    },
    findings: [],
  };
}
