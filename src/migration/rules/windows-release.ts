// The guest must be a Windows release virtio-win has drivers for; plan-source.ts reads the same
// detection (detectWindows) for the driver folder, this rule says what is wrong with it.
import { detectWindows } from '../windows-version.js';
import { blocker, type Rule, warning } from './types.js';

export const windowsReleaseRule: Rule = {
  codes: ['not-windows', 'windows-unsupported', 'windows-2012'],
  side: 'source',
  evaluate(vm) {
    const det = detectWindows(vm.guestId, vm.guestFullName);
    if (det.ok) {
      return det.warning
        ? [warning('windows-2012', det.warning, 'test the migrated server before decommissioning the source')]
        : [];
    }
    if (det.windows) {
      return [
        blocker(
          'windows-unsupported',
          det.reason,
          'v2o supports Windows Server 2012–2025 and Windows 10/11 (64-bit); upgrade the guest or migrate it by hand',
        ),
      ];
    }
    return [
      blocker(
        'not-windows',
        det.reason,
        'v2o migrates Windows guests only; remove this VM from the plan, or correct the guest OS setting in vSphere',
      ),
    ];
  },
};
