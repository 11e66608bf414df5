// The system volume needs room for what v2o leaves before shutdown (the driver packages in the
// driver store, the guest agent MSI, the first-boot files) and for Windows installing the new
// devices at first boot.
import { formatBytes } from '../../format-bytes.js';
import { blocker, guestRule } from './types.js';

const MiB = 1024 ** 2;
/**
 * What v2o writes to C: before shutdown, rounded up: one release's virtio driver packages (viostor,
 * vioscsi, NetKVM, Balloon, vioserial: a few MiB with symbols) twice, in the folder pnputil reads
 * and in the driver store; the QEMU guest agent MSI (~10 MiB in virtio-win 0.1.2xx); the
 * first-boot script, its config and logs. Windows' own headroom is the operator's to judge.
 */
export const MIN_SYSTEM_FREE_BYTES = 8 * MiB + 10 * MiB + 1 * MiB;

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
