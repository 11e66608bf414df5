// copyExtents against a local Range server and a temp file as the device: the copy is exact, a
// killed copy resumes from its checkpoint reading only the rest, zero fill, stall reopen.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyExtents, type ExtentCopyCheckpoint } from '../../../src/transfer/copy-extents.js';
import { complementExtents, type Extent } from '../../../src/transfer/extents.js';
import { openDeviceWriter } from '../../../src/transfer/sinks/device-writer.js';
import { tempDir } from './helpers.js';
import { httpRangeReader, type RangeServer, serveRanges } from './range-server.js';

const MiB = 1024 * 1024;
let server: RangeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function device(size: number, fill = 0xaa): string {
  const p = join(tempDir('v2o-copy-'), 'device');
  writeFileSync(p, Buffer.alloc(size, fill));
  return p;
}

const EXTENTS: Extent[] = [
  { start: 0, length: 3 * MiB },
  { start: 5 * MiB, length: 1 * MiB },
  { start: 8 * MiB, length: 6 * MiB },
];

function expectCopied(dev: Buffer, src: Buffer, ext: Extent[]) {
  for (const e of ext) {
    expect(dev.subarray(e.start, e.start + e.length).equals(src.subarray(e.start, e.start + e.length))).toBe(
      true,
    );
  }
}

describe('copyExtents', () => {
  it('copies the extents exactly, leaves the rest alone, and checkpoints after flushes', async () => {
    const size = 16 * MiB;
    const src = randomBytes(size);
    server = await serveRanges(src);
    const path = device(size);
    const writer = await openDeviceWriter(path);
    const flushes: number[] = [];
    const flush = writer.flush.bind(writer);
    let written = 0;
    const write = writer.write.bind(writer);
    const w = {
      ...writer,
      path: writer.path,
      size: writer.size,
      write: async (b: Buffer, p: number) => {
        await write(b, p);
        written += b.length;
      },
      flush: async () => {
        flushes.push(written);
        await flush();
      },
    };
    const cps: ExtentCopyCheckpoint[] = [];
    const r = await copyExtents({
      key: 'base:2000',
      reader: httpRangeReader(server.url, size),
      writer: w,
      extents: EXTENTS,
      checkpoint: (c) => cps.push(c),
      checkpointEveryBytes: 2 * MiB,
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
    });
    await writer.close();
    expect(r).toMatchObject({ bytesRead: 10 * MiB, zeroBytes: 0, totalBytes: 10 * MiB, resumed: false });
    const dev = readFileSync(path);
    expectCopied(dev, src, EXTENTS);
    expect(dev.subarray(3 * MiB, 5 * MiB).every((b) => b === 0xaa)).toBe(true);
    // Every checkpoint came after a flush that had at least that many bytes written before it.
    expect(cps.length).toBeGreaterThan(2);
    expect(cps.at(-1)).toEqual({ v: 1, key: 'base:2000', doneBytes: 10 * MiB });
    for (let i = 0; i < cps.length; i++) expect(flushes[i]).toBeGreaterThanOrEqual(cps[i]!.doneBytes);
    expect(cps.map((c) => c.doneBytes)).toEqual([...cps.map((c) => c.doneBytes)].sort((a, b) => a - b));
    // One Range GET per extent.
    expect(server.ranges).toEqual(['bytes=0-3145727', 'bytes=5242880-6291455', 'bytes=8388608-14680063']);
  });

  it('killed mid-way, resumes from its checkpoint and reads only the rest', async () => {
    const size = 32 * MiB;
    const src = randomBytes(size);
    server = await serveRanges(src);
    const path = device(size);
    const extents = [{ start: 0, length: 24 * MiB }];
    const ctl = new AbortController();
    let last: ExtentCopyCheckpoint | undefined;
    const w1 = await openDeviceWriter(path);
    const err = await copyExtents({
      key: 'base:2000',
      reader: httpRangeReader(server.url, size),
      writer: w1,
      extents,
      checkpoint: (c) => {
        last = c;
        if (c.doneBytes >= 8 * MiB) ctl.abort(new Error('killed')); // the process dies here
      },
      checkpointEveryBytes: 4 * MiB,
      stallTimeoutMs: 5000,
      signal: ctl.signal,
    }).catch((e: unknown) => e);
    await w1.close();
    expect(err).toBeInstanceOf(Error);
    expect(last!.doneBytes).toBeGreaterThanOrEqual(8 * MiB);
    expect(last!.doneBytes).toBeLessThan(24 * MiB);

    const killedAt = last!.doneBytes;
    const sentBefore = server.sent;
    const w2 = await openDeviceWriter(path);
    const r = await copyExtents({
      key: 'base:2000',
      reader: httpRangeReader(server.url, size),
      writer: w2,
      extents,
      lastCheckpoint: JSON.parse(JSON.stringify(last)),
      checkpoint: (c) => {
        last = c;
      },
      checkpointEveryBytes: 4 * MiB,
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
    });
    await w2.close();
    expect(last!.doneBytes).toBe(24 * MiB);
    expect(r.resumed).toBe(true);
    // Only the rest is read: from the checkpoint to the end, nothing before it.
    expect(r.bytesRead).toBe(24 * MiB - killedAt);
    expect(server.sent - sentBefore).toBe(24 * MiB - killedAt);
    expect(server.ranges.at(-1)).toBe(`bytes=${killedAt}-${24 * MiB - 1}`);
    expectCopied(readFileSync(path), src, extents);
  });

  it('ignores a checkpoint of another copy (another key)', async () => {
    const size = 4 * MiB;
    const src = randomBytes(size);
    server = await serveRanges(src);
    const path = device(size);
    const w = await openDeviceWriter(path);
    const r = await copyExtents({
      key: 'pass-2:2000',
      reader: httpRangeReader(server.url, size),
      writer: w,
      extents: [{ start: 0, length: size }],
      lastCheckpoint: { v: 1, key: 'pass-1:2000', doneBytes: 2 * MiB },
      checkpoint: () => {},
      // Under the plan's limits the copy takes one slot and gives it back.
      limits: { overall: 1, perSource: 1, perTarget: 1 },
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
    });
    await w.close();
    expect(r).toMatchObject({ resumed: false, bytesRead: size });
  });

  it('writes zeros over zeroFill after the extents, and resumes inside the zero fill', async () => {
    const size = 8 * MiB;
    const src = randomBytes(size);
    server = await serveRanges(src);
    const path = device(size, 0x5c); // noise, as an encrypted volume reads back
    const extents = [{ start: 1 * MiB, length: 2 * MiB }];
    const zeroFill = complementExtents(extents, size);
    const w = await openDeviceWriter(path);
    const r = await copyExtents({
      key: 'base:2000',
      reader: httpRangeReader(server.url, size),
      writer: w,
      extents,
      zeroFill,
      lastCheckpoint: undefined,
      checkpoint: () => {},
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
    });
    expect(r).toMatchObject({ bytesRead: 2 * MiB, zeroBytes: 6 * MiB, totalBytes: 2 * MiB });
    const dev = readFileSync(path);
    expectCopied(dev, src, extents);
    for (const z of zeroFill)
      expect(dev.subarray(z.start, z.start + z.length).every((b) => b === 0)).toBe(true);

    // A checkpoint past the extents skips the reads entirely and only the rest of the zeros is written.
    writeFileSync(path, Buffer.alloc(size, 0x5c));
    const r2 = await copyExtents({
      key: 'base:2000',
      reader: httpRangeReader(server.url, size),
      writer: w,
      extents,
      zeroFill,
      lastCheckpoint: { v: 1, key: 'base:2000', doneBytes: 2 * MiB + 1 * MiB },
      checkpoint: () => {},
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
    });
    await w.close();
    expect(r2).toMatchObject({ bytesRead: 0, zeroBytes: 5 * MiB, resumed: true });
    const dev2 = readFileSync(path);
    expect(dev2.subarray(0, 1 * MiB).every((b) => b === 0x5c)).toBe(true); // done before the "crash"
    expect(dev2.subarray(3 * MiB + 1 * MiB).every((b) => b === 0)).toBe(true);
  });

  it('reopens a stalled extent at the byte reached', async () => {
    const size = 4 * MiB;
    const src = randomBytes(size);
    server = await serveRanges(src);
    server.stallAfter[0] = 1 * MiB;
    const path = device(size);
    const w = await openDeviceWriter(path);
    const r = await copyExtents({
      key: 'k',
      reader: httpRangeReader(server.url, size),
      writer: w,
      extents: [{ start: 0, length: size }],
      checkpoint: () => {},
      stallTimeoutMs: 300,
      signal: new AbortController().signal,
    });
    await w.close();
    expect(r.bytesRead).toBe(size);
    expect(server.ranges).toEqual([`bytes=0-${size - 1}`, `bytes=${1 * MiB}-${size - 1}`]);
    expect(readFileSync(path).equals(src)).toBe(true);
  });
});
