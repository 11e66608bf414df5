// Writes a streamOptimized VMDK of incompressible data fast: grains are random (AES-CTR keystream) and
// "compressed" with zlib level 0 (stored blocks), so a 16 GiB disk takes seconds, not the minutes
// qemu-img's deflate needs on random data. The layout is VMware's: header with the grain directory at
// the end, grain markers, grain tables, directory, footer, end-of-stream marker. Checked with qemu-img.
import { createCipheriv, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SECTOR = 512;
const GRAIN_SECTORS = 128; // 64 KiB grains
const GRAIN = GRAIN_SECTORS * SECTOR;
const GTES = 512; // grain table entries per table
const OVERHEAD_SECTORS = 128;
const GD_AT_END = 0xffffffffffffffffn;

export interface WriteVmdkOptions {
  path: string;
  capacityBytes: number;
  /** Fraction of grains holding data (1 = full disk). Allocated grains come in runs of `runGrains`. */
  allocated?: number;
  runGrains?: number;
  /** File name written in the embedded descriptor's extent line. */
  extentName?: string;
}

function header(capacitySectors: number, gdOffset: bigint): Buffer {
  const h = Buffer.alloc(SECTOR);
  h.write('KDMV', 0, 'latin1');
  h.writeUInt32LE(3, 4);
  h.writeUInt32LE(0x30001, 8); // valid newline test | compressed grains | markers
  h.writeBigUInt64LE(BigInt(capacitySectors), 12);
  h.writeBigUInt64LE(BigInt(GRAIN_SECTORS), 20);
  h.writeBigUInt64LE(1n, 28); // descriptor at sector 1
  h.writeBigUInt64LE(20n, 36);
  h.writeUInt32LE(GTES, 44);
  h.writeBigUInt64LE(0n, 48);
  h.writeBigUInt64LE(gdOffset, 56);
  h.writeBigUInt64LE(BigInt(OVERHEAD_SECTORS), 64);
  h[72] = 0;
  h.write('\n \r\n', 73, 'latin1');
  h.writeUInt16LE(1, 77); // deflate
  return h;
}

function descriptor(capacitySectors: number, name: string): Buffer {
  const text = [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="streamOptimized"',
    '',
    '# Extent description',
    `RW ${capacitySectors} SPARSE "${name}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    'ddb.virtualHWVersion = "14"',
    'ddb.adapterType = "lsilogic"',
    '',
  ].join('\n');
  const b = Buffer.alloc(20 * SECTOR);
  b.write(text, 0, 'latin1');
  return b;
}

function marker(numSectors: number, type: number): Buffer {
  const m = Buffer.alloc(SECTOR);
  m.writeBigUInt64LE(BigInt(numSectors), 0);
  m.writeUInt32LE(0, 8);
  m.writeUInt32LE(type, 12);
  return m;
}

/** Which grains hold data: deterministic runs spread over the disk. */
export function allocatedGrain(i: number, total: number, fraction: number, run: number): boolean {
  if (fraction >= 1) return true;
  const runs = Math.max(1, Math.round((total * fraction) / run));
  const stride = total / runs;
  const k = Math.floor(i / stride);
  return i - Math.floor(k * stride) < run;
}

/** Returns the file size and the data bytes (allocated grains × 64 KiB). */
export function writeStreamOptimizedVmdk(o: WriteVmdkOptions): { fileBytes: number; dataBytes: number } {
  const capacitySectors = Math.ceil(o.capacityBytes / SECTOR);
  const grains = Math.ceil(capacitySectors / GRAIN_SECTORS);
  const fraction = o.allocated ?? 1;
  const run = o.runGrains ?? 256; // 16 MiB runs, like files on a filesystem
  const gt = new Uint32Array(Math.ceil(grains / GTES) * GTES);
  const fd = openSync(o.path, 'w');
  let pos = 0;
  const put = (b: Buffer) => {
    writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
  };
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(GRAIN);
  let dataBytes = 0;
  try {
    put(header(capacitySectors, GD_AT_END));
    put(descriptor(capacitySectors, o.extentName ?? 'disk.vmdk'));
    put(Buffer.alloc(OVERHEAD_SECTORS * SECTOR - pos));
    for (let g = 0; g < grains; g++) {
      if (!allocatedGrain(g, grains, fraction, run)) continue;
      const data = cipher.update(zeros);
      const z = deflateSync(data, { level: 0 });
      const m = Buffer.alloc(12);
      m.writeBigUInt64LE(BigInt(g * GRAIN_SECTORS), 0);
      m.writeUInt32LE(z.length, 8);
      gt[g] = pos / SECTOR;
      const padded = Math.ceil((12 + z.length) / SECTOR) * SECTOR;
      const out = Buffer.alloc(padded);
      m.copy(out, 0);
      z.copy(out, 12);
      put(out);
      dataBytes += GRAIN;
    }
    const tables = gt.length / GTES;
    const gd = new Uint32Array(tables);
    const gtSectors = (GTES * 4) / SECTOR;
    for (let t = 0; t < tables; t++) {
      const slice = gt.subarray(t * GTES, (t + 1) * GTES);
      if (!slice.some((x) => x !== 0)) continue;
      put(marker(gtSectors, 1));
      gd[t] = pos / SECTOR;
      put(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength));
    }
    const gdBytes = Math.ceil((tables * 4) / SECTOR) * SECTOR;
    put(marker(gdBytes / SECTOR, 2));
    const gdOffset = pos / SECTOR;
    const gdBuf = Buffer.alloc(gdBytes);
    Buffer.from(gd.buffer).copy(gdBuf);
    put(gdBuf);
    put(marker(1, 3));
    put(header(capacitySectors, BigInt(gdOffset)));
    put(Buffer.alloc(SECTOR)); // end-of-stream marker
  } finally {
    closeSync(fd);
  }
  return { fileBytes: pos, dataBytes };
}
