// runtime.consolidationNeeded: a snapshot removal left delta disks behind (vSphere API reference,
// VirtualMachineRuntimeInfo.consolidationNeeded). The flat extent is then not the disk the guest
// sees, so nothing may read it at offsets until the disks are consolidated.
import { blocker, type Rule } from './types.js';

export const consolidationNeededRule: Rule = {
  codes: ['consolidation-needed'],
  side: 'target',
  evaluate(vm, _s, _g, m) {
    if (!m.changeTracking?.consolidationNeeded) return [];
    if (!m.disks.some((d) => d.route === 'volume')) return [];
    return [
      blocker(
        'consolidation-needed',
        `${vm.name} needs disk consolidation (runtime.consolidationNeeded): its base disks are not what the guest sees`,
        'consolidate its disks in vSphere (the VM → Snapshots → Consolidate, ConsolidateVMDisks_Task), then plan again',
      ),
    ];
  },
};
