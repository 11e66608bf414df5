// Finds the block device an attached Cinder volume became on this machine, by the volume's id only.
// Nova gives libvirt the volume id as the disk's serial; virtio-blk carries 20 bytes of it
// (VIRTIO_BLK_ID_BYTES, virtio spec 5.2.6) and udev names it /dev/disk/by-id/virtio-<serial>
// (60-persistent-storage.rules); virtio-scsi shows it as scsi-0QEMU_QEMU_HARDDISK_<serial>. The
// device name Nova returns (/dev/vdb) is only a hint libvirt ignores, so it is never used.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { InterruptedError } from '../errors.js';
import { DeviceNotFoundError } from './errors.js';

export interface FindDeviceOptions {
  deviceDir: string;
  sysBlockDir?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 500;

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function bySerial(sysBlockDir: string, serial: string): Promise<string | undefined> {
  let devs: string[];
  try {
    devs = await readdir(sysBlockDir);
  } catch {
    return undefined;
  }
  for (const dev of devs.sort()) {
    try {
      const s = (await readFile(`${sysBlockDir}/${dev}/serial`, 'utf8')).trim();
      if (s === serial) return `/dev/${dev}`;
    } catch {
      // not every block device has a serial (loop, dm-*)
    }
  }
  return undefined;
}

/** The device path (symlinks resolved); DeviceNotFoundError after timeoutMs. */
export async function findAttachedDevice(volumeId: string, o: FindDeviceOptions): Promise<string> {
  const serial = volumeId.slice(0, 20);
  const candidates = [
    `${o.deviceDir}/virtio-${serial}`,
    `${o.deviceDir}/scsi-0QEMU_QEMU_HARDDISK_${volumeId}`,
    `${o.deviceDir}/scsi-0QEMU_QEMU_HARDDISK_${serial}`,
  ];
  const lookedFor = [...candidates, ...(o.sysBlockDir ? [`${o.sysBlockDir}/*/serial = ${serial}`] : [])];
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + o.timeoutMs;
  for (let waited = 0; ; waited += POLL_MS) {
    if (o.signal?.aborted) throw new InterruptedError('aborted while waiting for the device');
    for (const c of candidates) if (await exists(c)) return realpath(c);
    if (o.sysBlockDir) {
      const dev = await bySerial(o.sysBlockDir, serial);
      if (dev) return dev;
    }
    // Both clocks: an injected sleep (tests) does not move Date.now().
    if (waited >= o.timeoutMs || Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  throw new DeviceNotFoundError(volumeId, lookedFor, o.timeoutMs);
}
