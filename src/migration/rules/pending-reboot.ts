// A reboot Windows is waiting for (servicing, Windows Update, file renames) would finish on the
// target's first boot, on new hardware and after the first-boot task: finish it on VMware first.
import { blocker, guestRule } from './types.js';

export const pendingRebootRule = guestRule(['pending-reboot'], (g) =>
  g.pendingReboot.length
    ? [
        blocker(
          'pending-reboot',
          `the guest waits for a reboot (${g.pendingReboot.join(', ')}): it would complete on OpenStack's first boot, with new devices and the first-boot task at the same time`,
          'reboot the guest on VMware (and let updates finish), then plan again',
        ),
      ]
    : [],
);
