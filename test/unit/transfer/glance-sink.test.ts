// glanceSink over nock: the disk goes to imagedata's PUT /file as it streams, what Glance stored is
// read back, and transferDisk's one verification (hashing-stream.ts) catches a checksum that differs.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCloud } from '../../../src/openstack/cloud.js';
import { ChecksumMismatchError } from '../../../src/transfer/errors.js';
import { glanceSink } from '../../../src/transfer/sinks/glance-sink.js';
import { fileSource } from '../../../src/transfer/sources/file-source.js';
import { transferDisk } from '../../../src/transfer/transfer-disk.js';
import { GLANCE, mockAuth, noSleep, testConfig } from '../openstack/fixtures.js';
import { makeDisks, tempDir } from './helpers.js';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
let dir: string;
let disk: string;
let file: Buffer;
beforeAll(() => {
  nock.disableNetConnect();
  dir = tempDir();
  disk = makeDisks(dir).streamOptimized;
  file = readFileSync(disk);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => nock.cleanAll());

async function imageClient() {
  mockAuth(1);
  return (await openCloud(testConfig(), { sleep: noSleep, services: ['image'] })).image;
}

const stored = (over: Record<string, unknown> = {}) => ({
  id: 'img1',
  status: 'active',
  disk_format: 'vmdk',
  container_format: 'bare',
  size: file.length,
  checksum: hex('md5', file),
  os_hash_algo: 'sha512',
  os_hash_value: hex('sha512', file),
  tags: [],
  ...over,
});

describe('glanceSink', () => {
  it('uploads the stream and reports what Glance stored; transferDisk finds it matches', async () => {
    const image = await imageClient();
    const received: Buffer[] = [];
    const scope = nock(GLANCE)
      .put('/v2/images/img1/file', (body) => {
        received.push(Buffer.from(body, 'hex'));
        return true;
      })
      .matchHeader('content-length', String(file.length))
      // Glance answers once the data is in its store, never in the same tick as the last byte
      // (nock without a delay can close the request while the body's last end is still queued).
      .delay(20)
      .reply(204)
      .get('/v2/images/img1')
      .reply(200, stored());
    const r = await transferDisk({
      source: await fileSource(disk),
      sink: glanceSink(image, 'img1'),
      format: 'vmdk',
      hashes: ['md5', 'sha512'],
      signal: new AbortController().signal,
    });
    expect(Buffer.concat(received).equals(file)).toBe(true);
    expect(r.sink).toMatchObject({ imageId: 'img1', storedBytes: file.length, osHashAlgo: 'sha512' });
    expect(r.hashes).toEqual({ md5: hex('md5', file), sha512: hex('sha512', file) });
    expect(scope.isDone()).toBe(true);
  });

  it('a checksum that differs from what was sent fails the transfer', async () => {
    const image = await imageClient();
    const scope = nock(GLANCE)
      .put('/v2/images/img1/file')
      .delay(20)
      .reply(204)
      .get('/v2/images/img1')
      .reply(200, stored({ checksum: '0'.repeat(32) }));
    const err = await transferDisk({
      source: await fileSource(disk),
      sink: glanceSink(image, 'img1'),
      format: 'vmdk',
      hashes: ['md5'],
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toContain(
      `md5 differs: sent ${hex('md5', file)}, target stored ${'0'.repeat(32)}`,
    );
    expect(scope.isDone()).toBe(true);
  });
});
