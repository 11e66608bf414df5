// VMware Tools and the power state, as the driver mode needs them. `auto` installs the drivers
// through guest operations, so the VM must run with Tools running (blockers); `manual` leaves the
// install to the operator, and without Tools v2o cannot check it (a warning).
import type { SourceVm } from '../inventory.js';
import { blocker, type Finding, type Rule, warning } from './types.js';

function autoMode(vm: SourceVm): Finding[] {
  if (vm.powerState === 'poweredOff') {
    return [
      blocker(
        'powered-off-auto-drivers',
        'automatic driver install needs the VM running, and it is powered off',
        'power the VM on, or set drivers.mode: manual if the drivers are already installed',
      ),
    ];
  }
  if (vm.toolsStatus === 'toolsNotInstalled') {
    return [
      blocker(
        'tools-not-installed',
        'VMware Tools are not installed; automatic driver install and the clean shutdown use them',
        'install VMware Tools in the guest, or set drivers.mode: manual and install the drivers yourself',
      ),
    ];
  }
  if (vm.powerState === 'poweredOn' && !vm.toolsRunning) {
    return [
      blocker(
        'tools-not-running',
        `VMware Tools is not running (${vm.toolsStatus ?? 'unknown status'}); automatic driver install uses guest operations`,
        'start or install VMware Tools in the guest, or set drivers.mode: manual and install the drivers yourself',
      ),
    ];
  }
  return [];
}

export const guestToolsRule: Rule = {
  codes: ['powered-off-auto-drivers', 'tools-not-installed', 'tools-not-running', 'manual-unverified'],
  side: 'source',
  evaluate(vm, settings) {
    if (settings.driverMode === 'auto') return autoMode(vm);
    if (vm.toolsRunning) return [];
    return [
      warning(
        'manual-unverified',
        'VMware Tools is not running, so v2o cannot check the drivers: your approval is the verification',
        'install the drivers and make the storage driver boot-critical before `v2o approve`',
      ),
    ];
  },
};
