import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { qemuImgConvertArgs } from '../../../src/transfer/convert.js';
import { hashingStream, verifyDigests } from '../../../src/transfer/hashing-stream.js';
import { estimateLocalSpace } from '../../../src/transfer/space.js';

const GiB = 1024 ** 3;

describe('hashingStream', () => {
  it('computes sha256, md5 and sha512 in one pass and passes the bytes through unchanged', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const chunks = [data.subarray(0, 1000), data.subarray(1000, 2_000_000), data.subarray(2_000_000)];
    const h = hashingStream(['sha256', 'md5', 'sha512']);
    const out = await buffer(Readable.from(chunks).pipe(h));
    expect(out.equals(data)).toBe(true);
    expect(h.bytes).toBe(data.length);
    for (const alg of ['sha256', 'md5', 'sha512'] as const) {
      expect(h.digests()[alg]).toBe(createHash(alg).update(data).digest('hex'));
    }
  });

  it('hashes on a worker thread with the same results, holding back when the worker falls behind', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    // Odd-sized chunks straddle the 1 MiB blocks the worker is sent.
    const chunks = Array.from({ length: 81 }, (_, i) => data.subarray(i * 65_537, (i + 1) * 65_537));
    const h = hashingStream(['sha256', 'md5', 'sha512'], { worker: true, maxInFlight: 256 * 1024 });
    const out = await buffer(Readable.from(chunks).pipe(h));
    expect(out.equals(data)).toBe(true);
    const d = await h.done;
    for (const alg of ['sha256', 'md5', 'sha512'] as const) {
      expect(d[alg]).toBe(createHash(alg).update(data).digest('hex'));
    }
  });

  it('verifyDigests compares md5 with checksum and the os_hash algorithm named by the target', () => {
    const local = { md5: 'aa', sha512: 'bb' };
    expect(() =>
      verifyDigests(local, { checksum: 'AA', osHashAlgo: 'sha512', osHashValue: 'bb' }, 'd'),
    ).not.toThrow();
    expect(() => verifyDigests(local, { checksum: 'ab' }, 'd')).toThrow(/md5 differs/);
    expect(() => verifyDigests(local, { osHashAlgo: 'sha512', osHashValue: 'cc' }, 'd')).toThrow(
      /sha512 differs/,
    );
  });
});

describe('estimateLocalSpace', () => {
  it('needs nothing for the vmdk streaming route', () => {
    expect(estimateLocalSpace({ capacityBytes: 100 * GiB }, 'vmdk')).toMatchObject({ bytes: 0 });
  });

  it('needs the converted image for qcow2/raw, plus the staged source without Range', () => {
    const q = estimateLocalSpace({ capacityBytes: 100 * GiB, allocatedBytes: 10 * GiB }, 'qcow2');
    expect(q.bytes).toBeGreaterThan(10 * GiB);
    expect(q.bytes).toBeLessThan(10.01 * GiB);
    expect(q.route).toMatch(/while streaming/);
    const r = estimateLocalSpace({ capacityBytes: 100 * GiB }, 'raw');
    expect(r.bytes).toBe(100 * GiB);
    const staged = estimateLocalSpace(
      {
        capacityBytes: 100 * GiB,
        allocatedBytes: 10 * GiB,
        sourceBytes: 6 * GiB,
        sourceSupportsRange: false,
      },
      'raw',
    );
    expect(staged.bytes).toBe(16 * GiB);
    expect(staged.parts.map((p) => p.what)).toEqual([
      'staged source VMDK (no Range support)',
      'converted raw (sparse file)',
    ]);
  });
});

describe('qemuImgConvertArgs', () => {
  it('always names the input format (never lets qemu-img probe)', () => {
    expect(qemuImgConvertArgs('nbd+unix:///?socket=/s', 'vmdk', 'qcow2', '/o')).toEqual([
      'convert',
      '-f',
      'vmdk',
      '-O',
      'qcow2',
      '-o',
      'compat=1.1',
      '-m',
      '1',
      'nbd+unix:///?socket=/s',
      '/o',
    ]);
  });
});
