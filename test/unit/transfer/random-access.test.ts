import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertStream } from '../../../src/transfer/convert.js';
import { RandomAccessReader } from '../../../src/transfer/random-access.js';
import { httpSource } from '../../../src/transfer/sources/http-source.js';
import { makeDisks, serveBytes, type TestServer, tempDir } from './helpers.js';

let dir: string;
let d: ReturnType<typeof makeDisks>;
let srv: TestServer | undefined;
beforeAll(() => {
  dir = tempDir();
  d = makeDisks(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('RandomAccessReader', () => {
  it('serves forward, slightly backward and far reads, reopening only for real jumps', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    srv = await serveBytes(data);
    const r = new RandomAccessReader(await httpSource({ url: srv.url }), {
      windowBytes: 1024 * 1024,
      skipAheadBytes: 1024 * 1024,
    });
    expect((await r.read(0, 100)).equals(data.subarray(0, 100))).toBe(true);
    expect((await r.read(500_000, 1000)).equals(data.subarray(500_000, 501_000))).toBe(true); // skip ahead
    expect((await r.read(400_000, 1000)).equals(data.subarray(400_000, 401_000))).toBe(true); // in the window
    expect(r.opens).toBe(1);
    expect((await r.read(4 * 1024 * 1024 - 10, 100)).length).toBe(10); // the end: short read
    expect((await r.read(0, 10)).equals(data.subarray(0, 10))).toBe(true); // behind the window: reopen
    expect(r.opens).toBe(3);
    r.close();
  });
});

describe('convertStream over NBD', () => {
  it('converts a VMDK served over HTTP that drops mid-way (healed by Range)', async () => {
    const file = readFileSync(d.streamOptimized);
    srv = await serveBytes(file, { dropAfter: { 0: 1_200_000 } });
    const out = join(dir, 'out.raw');
    const res = await convertStream({
      source: await httpSource({ url: srv.url }),
      inputFormat: 'vmdk',
      outputFormat: 'raw',
      outPath: out,
      signal: new AbortController().signal,
    });
    expect(readFileSync(out).equals(readFileSync(d.raw))).toBe(true);
    expect(res.bytesFetched).toBeGreaterThanOrEqual(file.length);
    expect(srv.ranges.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect(execFileSync('qemu-img', ['info', '-f', 'raw', out]).toString()).toMatch(/virtual size: 8 MiB/);
  });

  it('reports the source failure, not just qemu-img exit status', async () => {
    const file = readFileSync(d.streamOptimized);
    srv = await serveBytes(file, { range: false, dropAfter: { 0: 1_200_000 } });
    const err = await convertStream({
      source: await httpSource({ url: srv.url }),
      inputFormat: 'vmdk',
      outputFormat: 'raw',
      outPath: join(dir, 'bad.raw'),
      signal: new AbortController().signal,
    }).catch((e) => e);
    expect(err.name).toBe('SourceInterruptedError');
  });
});
