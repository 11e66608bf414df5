// An attached volume's block device (or, in tests, a file) written at positions: the write side of
// an extent copy. flush() is fsync, so a checkpoint taken after it never claims bytes still in the
// page cache.
import { constants } from 'node:fs';
import { type FileHandle, open, readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';

export interface DeviceWriter {
  readonly path: string;
  readonly size: number;
  write(buf: Buffer, position: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * fstat reports 0 bytes for a block device and Node has no BLKGETSIZE64 ioctl, so its size comes from
 * sysfs (`/sys/class/block/<dev>/size`, always in 512-byte sectors: Documentation/ABI/stable/sysfs-block).
 */
async function blockDeviceSize(path: string, sysClassBlock: string): Promise<number | undefined> {
  try {
    const dev = basename(await realpath(path));
    const sectors = Number((await readFile(`${sysClassBlock}/${dev}/size`, 'utf8')).trim());
    return Number.isFinite(sectors) ? sectors * 512 : undefined;
  } catch {
    return undefined;
  }
}

/** Opens for positional writes (never truncating: 'r+'). */
export async function openDeviceWriter(path: string): Promise<DeviceWriter> {
  const fh: FileHandle = await open(path, constants.O_RDWR);
  let size: number;
  try {
    const st = await fh.stat();
    size = st.isBlockDevice() ? ((await blockDeviceSize(path, '/sys/class/block')) ?? st.size) : st.size;
  } catch (err) {
    await fh.close();
    throw err;
  }
  let closed = false;
  return {
    path,
    size,
    async write(buf: Buffer, position: number) {
      let done = 0;
      // pwrite may write less than asked (a signal, a full pipe); the rest goes on from there.
      while (done < buf.length) {
        const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
        if (bytesWritten <= 0) throw new Error(`${path}: write at ${position + done} wrote nothing`);
        done += bytesWritten;
      }
    },
    flush: () => fh.sync(),
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}
