import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceHttpError } from '../../../src/transfer/errors.js';
import { resilientStream } from '../../../src/transfer/resilient-stream.js';
import { type LeaseLike, leaseSource } from '../../../src/transfer/sources/lease-source.js';
import type { NfcDeviceUrl } from '../../../src/vsphere/objects/nfc-lease.js';
import { serveBytes, type TestServer } from './helpers.js';

const data = randomBytes(3 * 1024 * 1024);
let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

/** A lease whose open() does what NfcLease.open does: GET with Range, body with contentLength. */
function fakeLease(url: string, rangeOverride?: (offset: number) => number): LeaseLike {
  return {
    open: (_d, o = {}) =>
      new Promise((resolve, reject) => {
        const offset = o.offset ?? 0;
        const asked = rangeOverride ? rangeOverride(offset) : offset;
        const req = http.get(
          url,
          { headers: offset > 0 ? { range: `bytes=${asked}-` } : {}, signal: o.signal },
          (res) => resolve(Object.assign(res, { contentLength: Number(res.headers['content-length']) })),
        );
        req.on('error', reject);
      }),
  };
}

const device = (url: string, fileSize?: number): NfcDeviceUrl => ({
  key: '/vm-1/disk0',
  importKey: 'k',
  url: new URL(url),
  disk: true,
  fileSize,
});

describe('leaseSource', () => {
  it('learns size and Range support from the first response, then heals a drop', async () => {
    srv = await serveBytes(data, { dropAfter: { 0: 1_000_000 } });
    const src = leaseSource(fakeLease(srv.url), device(srv.url));
    expect(src.size).toBeUndefined();
    const got = await buffer(resilientStream(src, { reconnectDelayMs: 1 }));
    expect(src.size).toBe(data.length);
    expect(src.supportsRange).toBe(true);
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(srv.ranges[1]).toMatch(/^bytes=\d+-$/);
  });

  it('refuses a Range reply that starts elsewhere than asked', async () => {
    srv = await serveBytes(data);
    const src = leaseSource(
      fakeLease(srv.url, (o) => o + 1),
      device(srv.url, data.length),
      { supportsRange: true },
    );
    await expect(src.open(100, new AbortController().signal)).rejects.toBeInstanceOf(SourceHttpError);
  });

  it('reports no Range when the server does not advertise it', async () => {
    srv = await serveBytes(data, { range: false });
    const src = leaseSource(fakeLease(srv.url), device(srv.url));
    (await src.open(0, new AbortController().signal)).destroy();
    expect(src.supportsRange).toBe(false);
  });
});
