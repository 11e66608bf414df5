import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransferStallError, UnsafeDiskError } from '../../../src/transfer/errors.js';
import { TransferLimiter } from '../../../src/transfer/limiter.js';
import { fileSink } from '../../../src/transfer/sinks/file-sink.js';
import { fileSource } from '../../../src/transfer/sources/file-source.js';
import { httpSource } from '../../../src/transfer/sources/http-source.js';
import { transferDisk } from '../../../src/transfer/transfer-disk.js';
import type { DiskSink, TransferCheckpoint } from '../../../src/transfer/types.js';
import { makeDisks, serveBytes, type TestServer, tempDir } from './helpers.js';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
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

/** A sink that records what it got, like a Glance upload reporting checksum/os_hash. */
function memorySink(opts: { lieAboutMd5?: boolean; readBytesThenStop?: number } = {}) {
  const got: { body?: Buffer; format?: string; size?: number } = {};
  const sink: DiskSink = {
    description: 'memory',
    async write(stream, info) {
      got.format = info.format;
      got.size = info.size;
      if (opts.readBytesThenStop !== undefined) {
        // Read a little, then never again: a Glance PUT whose server stopped reading.
        await new Promise<void>((resolve, reject) => {
          let n = 0;
          stream.on('data', (c: Buffer) => {
            n += c.length;
            if (n >= opts.readBytesThenStop!) stream.pause();
          });
          info.signal.addEventListener('abort', () => reject(info.signal.reason));
          void resolve;
        });
      }
      const body = await buffer(stream);
      got.body = body;
      return {
        checksum: opts.lieAboutMd5 ? '0'.repeat(32) : hex('md5', body),
        osHashAlgo: 'sha512',
        osHashValue: hex('sha512', body),
      };
    },
  };
  return { sink, got };
}

describe('transferDisk', () => {
  it('streams a streamOptimized VMDK as vmdk with sha256/md5/sha512 in the same pass', async () => {
    const { sink, got } = memorySink();
    const updates: number[] = [];
    const r = await transferDisk({
      source: await fileSource(d.streamOptimized),
      sink,
      format: 'vmdk',
      hashes: ['sha256', 'md5', 'sha512'],
      progress: { update: (p) => updates.push(p.done!) },
      signal: new AbortController().signal,
    });
    const file = readFileSync(d.streamOptimized);
    expect(got.body!.equals(file)).toBe(true);
    expect(got).toMatchObject({ format: 'vmdk', size: file.length });
    expect(r).toMatchObject({ route: 'stream', bytes: file.length, localBytes: 0, reconnects: 0 });
    expect(r.hashes).toEqual({
      sha256: hex('sha256', file),
      md5: hex('md5', file),
      sha512: hex('sha512', file),
    });
    expect(r.inspection.subformat).toBe('streamOptimized');
    expect(updates.at(-1)).toBe(file.length);
  });

  it('refuses a flat descriptor before a single byte reaches the sink', async () => {
    let sinkBytes = 0;
    const sink: DiskSink = {
      description: 'counting',
      async write(stream) {
        for await (const c of stream) sinkBytes += (c as Buffer).length;
        return {};
      },
    };
    const err = await transferDisk({
      source: await fileSource(d.monolithicFlat),
      sink,
      format: 'vmdk',
      hashes: ['md5'],
      signal: new AbortController().signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsafeDiskError);
    expect(err.hint).toMatch(/CVE-2022-47951/);
    expect(sinkBytes).toBe(0);
  });

  it('fails when the target stored other bytes than were sent', async () => {
    const { sink } = memorySink({ lieAboutMd5: true });
    const err = await transferDisk({
      source: await fileSource(d.streamOptimized),
      sink,
      format: 'vmdk',
      hashes: ['md5'],
      signal: new AbortController().signal,
    }).catch((e) => e);
    expect(err.name).toBe('ChecksumMismatchError');
  });

  it('heals a source drop mid-upload: the sink sees one clean stream', async () => {
    const file = readFileSync(d.streamOptimized);
    srv = await serveBytes(file, { dropAfter: { 0: 1_500_000 } });
    const { sink, got } = memorySink();
    const events: string[] = [];
    const r = await transferDisk({
      source: await httpSource({ url: srv.url }),
      sink,
      format: 'vmdk',
      hashes: ['md5'],
      onEvent: (t) => events.push(t),
      signal: new AbortController().signal,
    });
    expect(hex('sha256', got.body!)).toBe(hex('sha256', file));
    expect(r.reconnects).toBe(1);
    expect(events).toEqual(['transfer.reconnect']);
    expect(srv.ranges[1]).toMatch(/^bytes=\d+-$/);
  });

  it('aborts a sink that stops reading, with a retryable stall error', async () => {
    const { sink } = memorySink({ readBytesThenStop: 64 * 1024 });
    const big = Buffer.alloc(16 * 1024 * 1024, 7);
    const source = {
      size: big.length,
      supportsRange: true,
      description: 'memory',
      open: async (off: number) => Readable.from([big.subarray(off)]),
    };
    const t0 = Date.now();
    const err = await transferDisk({
      source,
      sink,
      format: 'raw',
      hashes: ['md5'],
      workDir: dir,
      stallTimeoutMs: 300,
      signal: new AbortController().signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferStallError);
    expect(err.side).toBe('sink');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('converts a streamOptimized VMDK to qcow2 through the NBD bridge, then uploads it', async () => {
    const file = readFileSync(d.streamOptimized);
    srv = await serveBytes(file, { dropAfter: { 0: 1_000_000 } });
    const out = join(dir, 'uploaded.qcow2');
    const checkpoints: TransferCheckpoint[] = [];
    const r = await transferDisk({
      source: await httpSource({ url: srv.url }),
      sink: fileSink(out),
      format: 'qcow2',
      hashes: ['md5'],
      workDir: join(dir, 'work'),
      sourceId: 'vm-1/disk-2000',
      checkpoint: (c) => checkpoints.push(c),
      signal: new AbortController().signal,
    });
    expect(r.route).toBe('convert');
    expect(r.inspection.subformat).toBe('streamOptimized');
    expect(r.localBytes).toBeGreaterThan(0);
    expect(execFileSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', out, d.raw]).toString()).toMatch(
      /identical/,
    );
    expect(checkpoints.map((c) => c.phase)).toContain('convert');
    // The staged copy is removed after the upload.
    expect(existsSync(checkpoints.find((c) => c.phase === 'convert')!.stagedPath!)).toBe(false);
  });

  it('resumes from a converted file recorded in the checkpoint without reading the source', async () => {
    const work = join(dir, 'work2');
    const first: TransferCheckpoint[] = [];
    const failingSink: DiskSink = {
      description: 'failing',
      async write(stream) {
        stream.destroy();
        throw new Error('Glance went away');
      },
    };
    const source = await fileSource(d.streamOptimized);
    await expect(
      transferDisk({
        source,
        sink: failingSink,
        format: 'raw',
        hashes: ['md5'],
        workDir: work,
        sourceId: 'disk-a',
        checkpoint: (c) => first.push(c),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('Glance went away');
    const cp = first.find((c) => c.phase === 'convert')!;
    expect(existsSync(cp.stagedPath!)).toBe(true);

    let opened = 0;
    const counting = {
      ...source,
      open: (o: number, s: AbortSignal) => {
        opened++;
        return source.open(o, s);
      },
    };
    const events: string[] = [];
    const { sink, got } = memorySink();
    const r = await transferDisk({
      source: counting,
      sink,
      format: 'raw',
      hashes: ['md5'],
      workDir: work,
      sourceId: 'disk-a',
      lastCheckpoint: cp,
      onEvent: (t) => events.push(t),
      signal: new AbortController().signal,
    });
    expect(opened).toBe(0);
    expect(events).toContain('transfer.resume');
    expect(got.body!.equals(readFileSync(d.raw))).toBe(true);
    expect(r.route).toBe('convert');
  });

  it('stages a source without Range before converting (qemu-img reads at random), then removes it', async () => {
    const file = readFileSync(d.streamOptimized);
    srv = await serveBytes(file, { range: false });
    const work = join(dir, 'work4');
    const { sink, got } = memorySink();
    const r = await transferDisk({
      source: await httpSource({ url: srv.url }),
      sink,
      format: 'raw',
      hashes: ['md5'],
      workDir: work,
      sourceId: 'no-range',
      signal: new AbortController().signal,
    });
    expect(r.route).toBe('convert');
    // The staged VMDK and the converted raw file both counted as local space.
    expect(r.localBytes).toBe(file.length + readFileSync(d.raw).length);
    expect(got.body!.equals(readFileSync(d.raw))).toBe(true);
    expect(srv.ranges.every((x) => x === undefined)).toBe(true);
    expect(existsSync(join(work, 'no-range.source'))).toBe(false);
  });

  it('waits for a limiter slot before touching the source', async () => {
    const limiter = new TransferLimiter({ overall: 1 });
    let release!: () => void;
    const busy = limiter.run(
      { source: 'x', target: 'y' },
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    const { sink } = memorySink();
    let opened = false;
    const source = await fileSource(d.streamOptimized);
    const p = transferDisk({
      source: {
        ...source,
        open: (o: number, s: AbortSignal) => {
          opened = true;
          return source.open(o, s);
        },
      },
      sink,
      format: 'vmdk',
      hashes: ['md5'],
      limiter,
      signal: new AbortController().signal,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toBe(false);
    release();
    await busy;
    await p;
    expect(opened).toBe(true);
  });

  it('streams a disk that already has the target format without converting', async () => {
    const { sink, got } = memorySink();
    const r = await transferDisk({
      source: await fileSource(d.qcow2),
      sink,
      format: 'qcow2',
      hashes: ['md5'],
      workDir: join(dir, 'work3'),
      signal: new AbortController().signal,
    });
    expect(r.route).toBe('stream');
    expect(got.body!.equals(readFileSync(d.qcow2))).toBe(true);
  });
});
