// The system volume needs room for what v2o leaves before shutdown (the driver packages in the
// driver store, the guest agent MSI, the first-boot files) and for Windows installing the new
// devices at first boot.
import { formatBytes } from '../../format-bytes.js';
import { blocker, guestRule } from './types.js';

/** Drivers (~100 MiB with their driver store copies), the QEMU guest agent, first-boot files, PnP's headroom. */
export const MIN_SYSTEM_FREE_BYTES = 512 * 1024 ** 2;

export const systemFreeSpaceRule = guestRule(['system-free-space'], (g) => {
  const known = g.disks.some((d) => d.volumes.some((v) => v.driveLetter === 'C'));
  if (!known || g.systemFreeBytes >= MIN_SYSTEM_FREE_BYTES) return [];
  return [
    blocker(
      'system-free-space',
      `the system volume C: has ${formatBytes(g.systemFreeBytes)} free, less than the ${formatBytes(MIN_SYSTEM_FREE_BYTES)} the drivers, the guest agent and the first-boot files need`,
      `free at least ${formatBytes(MIN_SYSTEM_FREE_BYTES - g.systemFreeBytes)} on C: (Disk Cleanup, cleanmgr /sageset; move data off), then plan again`,
    ),
  ];
});
