import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchVirtioIso } from '../../../src/migration/steps/fetch-virtio-iso.js';
import { ctx, params } from './fakes.js';

const ISO = Buffer.alloc(300_000, 7);
ISO.write('virtio-win', 0);
const SHA = createHash('sha256').update(ISO).digest('hex');
const URL_ = 'http://downloads.example.com/virtio-win.iso';

function setup(sha256?: string) {
  const state = mkdtempSync(join(tmpdir(), 'v2o-iso-'));
  const p = params();
  p.plan.drivers!.iso = { url: URL_, sha256, datastore: 'ds1' };
  return { state, c: ctx('fetch-virtio-iso', { stateDir: state }, p) };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

/** What an interrupted download leaves in the cache. */
function leavePartial(state: string, bytes: Buffer): void {
  const dir = join(state, 'cache/virtio-win');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${SHA}.iso.part`), bytes);
}

describe('fetch-virtio-iso', () => {
  it('downloads, verifies the sha256 and caches the ISO by its hash', async () => {
    const scope = nock('http://downloads.example.com').get('/virtio-win.iso').reply(200, ISO);
    const { state, c } = setup(SHA);
    const out = await fetchVirtioIso.run(c);
    expect(out).toMatchObject({
      sha256: SHA,
      size: ISO.length,
      cached: false,
      localPath: join(state, 'cache/virtio-win', `${SHA}.iso`),
    });
    expect(readFileSync(out.localPath).equals(ISO)).toBe(true);
    // Second time: from the cache, no request at all.
    const again = await fetchVirtioIso.run(c);
    expect(again.cached).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('resumes a partial download with Range', async () => {
    const { state, c } = setup(SHA);
    leavePartial(state, ISO.subarray(0, 100_000));
    const scope = nock('http://downloads.example.com', { reqheaders: { range: 'bytes=100000-' } })
      .get('/virtio-win.iso')
      .reply(206, ISO.subarray(100_000), { 'Content-Range': `bytes 100000-${ISO.length - 1}/${ISO.length}` });
    const out = await fetchVirtioIso.run(c);
    expect(out.sha256).toBe(SHA);
    expect(scope.isDone()).toBe(true);
  });

  it('starts over when the server ignores Range (200)', async () => {
    const { state, c } = setup(SHA);
    leavePartial(state, Buffer.from('garbage'));
    const scope = nock('http://downloads.example.com').get('/virtio-win.iso').reply(200, ISO);
    expect((await fetchVirtioIso.run(c)).sha256).toBe(SHA);
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a file whose sha256 differs, and does not keep it', async () => {
    const scope = nock('http://downloads.example.com')
      .get('/virtio-win.iso')
      .reply(200, Buffer.from('not the iso'));
    const { state, c } = setup('0'.repeat(64));
    await expect(fetchVirtioIso.run(c)).rejects.toThrow(/has sha256 .* the plan expects 0000/);
    expect(existsSync(join(state, 'cache/virtio-win', `${'0'.repeat(64)}.iso`))).toBe(false);
    expect(scope.isDone()).toBe(true);
  });

  it('says what went wrong on HTTP errors', async () => {
    const scope = nock('http://downloads.example.com').get('/virtio-win.iso').reply(404, 'nope');
    const { c } = setup(SHA);
    await expect(fetchVirtioIso.run(c)).rejects.toThrow(/HTTP 404/);
    expect(scope.isDone()).toBe(true);
  });
});
