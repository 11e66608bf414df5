// A dynamic (LDM) system disk: Windows' boot from it depends on the LDM database and the old
// controller; moving it to virtio is not something Windows or v2o can repair afterwards.
import { blocker, guestRule } from './types.js';

export const dynamicSystemDiskRule = guestRule(['dynamic-system-disk'], (g) =>
  g.disks
    .filter((d) => d.dynamic && (d.system || d.boot))
    .map((d) =>
      blocker(
        'dynamic-system-disk',
        `the guest's system disk (disk ${d.number}) is a dynamic disk (Logical Disk Manager)`,
        'convert it to a basic disk before migrating (back up, then diskpart / a disk conversion tool), or rebuild the server on OpenStack',
      ),
    ),
);
