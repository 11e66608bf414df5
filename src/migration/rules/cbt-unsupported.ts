// Changed Block Tracking needs virtual hardware 7 or later (vSphere Web Services API reference,
// VirtualMachineConfigInfo.changeTrackingEnabled: "only supported on virtual machines with
// hardware version 7 or later"); without it a warm migration has no changed areas to copy.
import { blocker, type Rule } from './types.js';

export const cbtUnsupportedRule: Rule = {
  codes: ['cbt-unsupported'],
  side: 'target',
  evaluate(vm, settings, _g, m) {
    const hw = m.changeTracking?.hardwareVersion;
    if (settings.migrationKind !== 'warm' || hw === undefined || hw >= 7) return [];
    return [
      blocker(
        'cbt-unsupported',
        `CBT cannot be enabled on ${vm.name}: its virtual hardware is version ${hw}, Changed Block Tracking needs 7 or later`,
        `upgrade the VM's compatibility (vSphere: Compatibility → Upgrade VM Compatibility, with the VM off), or set migration: cold`,
      ),
    ];
  },
};
