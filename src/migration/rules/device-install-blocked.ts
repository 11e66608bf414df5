// Device installation restrictions by Group Policy (DeviceInstall\Restrictions) stop Windows
// installing the virtio storage and network devices on first boot.
import { blocker, guestRule } from './types.js';

export const deviceInstallBlockedRule = guestRule(['device-install-blocked'], (g) =>
  g.deviceInstallBlocked
    ? [
        blocker(
          'device-install-blocked',
          'Group Policy restricts device installation in the guest (DeviceInstall\\Restrictions): Windows could not install the virtio disk and network devices on OpenStack',
          'exempt this server from "Prevent installation of devices …" (or allow the virtio-win device IDs / classes), run gpupdate /force, then plan again',
        ),
      ]
    : [],
);
