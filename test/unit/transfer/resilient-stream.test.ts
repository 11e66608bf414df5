import { createHash, randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceInterruptedError, TransferStallError } from '../../../src/transfer/errors.js';
import { resilientStream } from '../../../src/transfer/resilient-stream.js';
import { httpSource } from '../../../src/transfer/sources/http-source.js';
import { serveBytes, type TestServer } from './helpers.js';

const data = randomBytes(5 * 1024 * 1024 + 123);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('resilientStream', () => {
  it('heals a dropped connection by reopening with Range; the bytes are identical', async () => {
    srv = await serveBytes(data, { dropAfter: { 0: 1_000_000, 1: 2_000_000 } });
    const src = await httpSource({ url: srv.url });
    expect(src).toMatchObject({ size: data.length, supportsRange: true });
    const reconnects: number[] = [];
    const rs = resilientStream(src, {
      reconnectDelayMs: 1,
      onReconnect: ({ offset }) => reconnects.push(offset),
    });
    const got = await buffer(rs);
    expect(sha(got)).toBe(sha(data));
    expect(rs.reconnects).toBe(2);
    // Each reopen asks for exactly the bytes already delivered.
    expect(srv.ranges).toEqual([undefined, `bytes=${reconnects[0]}-`, `bytes=${reconnects[1]}-`]);
    expect(reconnects[0]).toBeGreaterThan(0);
    expect(reconnects[1]).toBeGreaterThan(reconnects[0]!);
  });

  it('reopens a source that stalls (sends nothing, keeps the socket open)', async () => {
    srv = await serveBytes(data, { stallAfter: { 0: 700_000 } });
    const src = await httpSource({ url: srv.url });
    const t0 = Date.now();
    const rs = resilientStream(src, { stallTimeoutMs: 300, reconnectDelayMs: 1 });
    const got = await buffer(rs);
    expect(sha(got)).toBe(sha(data));
    expect(rs.reconnects).toBe(1);
    expect(srv.ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('fails with a retryable error when the source cannot do Range', async () => {
    srv = await serveBytes(data, { range: false, dropAfter: { 0: 1_000_000 } });
    const src = await httpSource({ url: srv.url });
    expect(src.supportsRange).toBe(false);
    const err = await buffer(resilientStream(src, { reconnectDelayMs: 1 })).catch((e) => e);
    expect(err).toBeInstanceOf(SourceInterruptedError);
    expect(err.message).toMatch(/cannot be resumed \(no Range support\)/);
    expect(srv.ranges).toHaveLength(1);
  });

  it('gives up after maxReconnects without progress, with the stall as the error', async () => {
    srv = await serveBytes(data, { stallAfter: { 0: 0, 1: 0, 2: 0 } });
    const src = await httpSource({ url: srv.url });
    const err = await buffer(
      resilientStream(src, { stallTimeoutMs: 100, maxReconnects: 2, reconnectDelayMs: 1 }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(TransferStallError);
    expect(err.side).toBe('source');
    expect(srv.ranges).toHaveLength(3);
  });

  it('starts at an offset for a resumed download', async () => {
    srv = await serveBytes(data);
    const src = await httpSource({ url: srv.url });
    const got = await buffer(resilientStream(src, { startOffset: 4096 }));
    expect(sha(got)).toBe(sha(data.subarray(4096)));
    expect(srv.ranges).toEqual(['bytes=4096-']);
  });

  it('stops at once when the signal aborts', async () => {
    srv = await serveBytes(data, { stallAfter: { 0: 100_000 } });
    const src = await httpSource({ url: srv.url });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await buffer(resilientStream(src, { stallTimeoutMs: 10_000, signal: ac.signal })).catch(
      (e) => e,
    );
    expect(err.name).toBe('InterruptedError');
  });
});
