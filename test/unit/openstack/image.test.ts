// Glance: the create body, the data upload and re-auth in the middle of an upload (restarted from a
// fresh stream when the data can be re-opened), and a failed import visible only in the tasks.
// Hashing and the comparison with Glance's checksums are src/transfer's (test/unit/transfer).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCloud } from '../../../src/openstack/cloud.js';
import { isStatus } from '../../../src/openstack/errors.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import { importImage, stageImageData } from '../../../src/openstack/image/imageimport/requests.js';
import {
  createImage,
  toImageCreateBody,
  toImagePatch,
} from '../../../src/openstack/image/images/requests.js';
import { ImageImportError, waitForImport } from '../../../src/openstack/image/tasks/requests.js';
import { GLANCE, mockAuth, noSleep, testConfig } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const DATA = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
for (let i = 0; i < DATA.length; i++) DATA[i] = (i * 7 + (i >> 11)) & 0xff;
const md5 = createHash('md5').update(DATA).digest('hex');
const sha512 = createHash('sha512').update(DATA).digest('hex');

/** A source that yields DATA in 64 KiB chunks and counts how often it was opened. */
function source() {
  let opened = 0;
  return {
    get opened() {
      return opened;
    },
    open: () => {
      opened++;
      return Readable.from(
        (function* () {
          for (let o = 0; o < DATA.length; o += 65536) yield DATA.subarray(o, o + 65536);
        })(),
      );
    },
  };
}

const imageJson = (over: Record<string, unknown> = {}) => ({
  id: 'img1',
  name: 'w',
  status: 'active',
  disk_format: 'raw',
  container_format: 'bare',
  size: DATA.length,
  checksum: md5,
  os_hash_algo: 'sha512',
  os_hash_value: sha512,
  tags: ['v2o'],
  os_type: 'windows',
  ...over,
});

async function openImageOnly(authTimes: number, imageEndpoint?: string) {
  const auth = mockAuth(authTimes);
  const cfg = testConfig(imageEndpoint ? { endpointOverrides: { image: imageEndpoint } } : {});
  const cloud = await openCloud(cfg, { sleep: noSleep, services: ['image'] });
  return { cloud, auth };
}

describe('create body (pure)', () => {
  it('carries properties as strings, tags and the core fields', () => {
    expect(
      toImageCreateBody({
        name: 'win2022',
        diskFormat: 'raw',
        tags: ['v2o', 'run-1'],
        minDisk: 40,
        properties: { v2o_run_id: 'run-1', min_vram: 64, os_type: 'windows', hw_firmware_type: 'uefi' },
      }),
    ).toEqual({
      name: 'win2022',
      disk_format: 'raw',
      container_format: 'bare',
      tags: ['v2o', 'run-1'],
      min_disk: 40,
      v2o_run_id: 'run-1',
      min_vram: '64',
      os_type: 'windows',
      hw_firmware_type: 'uefi',
    });
  });

  it('JSON patch escapes pointers and keeps numbers numeric', () => {
    expect(toImagePatch({ set: { min_disk: '40', 'a/b': 'x' }, remove: ['old~key'] })).toEqual([
      { op: 'add', path: '/min_disk', value: 40 },
      { op: 'add', path: '/a~1b', value: 'x' },
      { op: 'remove', path: '/old~0key' },
    ]);
  });

  it('createImage posts the body and parses properties', async () => {
    const { cloud, auth } = await openImageOnly(1);
    const scope = nock(GLANCE)
      .post('/v2/images', (b) => b.os_type === 'windows' && b.name === 'w')
      .reply(201, imageJson({ status: 'queued', size: null, checksum: null }));
    const img = await createImage(cloud.image, {
      name: 'w',
      diskFormat: 'raw',
      properties: { os_type: 'windows' },
    });
    expect(img).toMatchObject({
      id: 'img1',
      status: 'queued',
      properties: { os_type: 'windows' },
      tags: ['v2o'],
    });
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });
});

describe('upload', () => {
  it('401 during the upload: re-authenticates once and restarts from a fresh stream', async () => {
    const { cloud, auth } = await openImageOnly(2);
    const src = source();
    const received: Buffer[] = [];
    const scope = nock(GLANCE)
      .put('/v2/images/img1/file')
      .matchHeader('x-auth-token', 'token-1')
      .reply(401, { error: { code: 401, message: 'Token expired' } })
      .put('/v2/images/img1/file', (body) => {
        received.push(Buffer.from(body, 'hex'));
        return true;
      })
      .matchHeader('x-auth-token', 'token-2')
      .matchHeader('content-type', 'application/octet-stream')
      .matchHeader('content-length', String(DATA.length))
      .reply(204);
    await uploadImageData(cloud.image, 'img1', src.open, { size: DATA.length });
    expect(src.opened).toBe(2);
    expect(Buffer.concat(received).equals(DATA)).toBe(true);
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });

  it('a Readable cannot be sent twice: a 401 fails the upload and the next call gets a new token', async () => {
    const { cloud, auth } = await openImageOnly(2);
    const scope = nock(GLANCE)
      .put('/v2/images/img1/file')
      .matchHeader('x-auth-token', 'token-1')
      .reply(401, { error: { code: 401, message: 'Token expired' } })
      .put('/v2/images/img1/file')
      .matchHeader('x-auth-token', 'token-2')
      .reply(204);
    const err = await uploadImageData(cloud.image, 'img1', source().open()).catch((e: unknown) => e);
    expect(isStatus(err, 401)).toBe(true);
    await uploadImageData(cloud.image, 'img1', source().open());
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });

  describe('a real server that answers 401 after 1 MiB of a 64 MiB body', () => {
    let server: Server;
    let base: string;
    const seen: { token: string; bytes: number; status: number }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        const token = String(req.headers['x-auth-token']);
        let bytes = 0;
        let answered = false;
        const h = createHash('sha256');
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          h.update(c);
          if (token === 'token-1' && bytes >= 1024 * 1024 && !answered) {
            answered = true;
            seen.push({ token, bytes, status: 401 });
            res.writeHead(401, { 'Content-Type': 'application/json', Connection: 'close' });
            res.end('{"error": {"code": 401, "message": "token expired mid-upload"}}');
            req.destroy();
          }
        });
        req.on('end', () => {
          if (answered) return;
          if (req.method === 'PUT') {
            seen.push({ token, bytes, status: 204 });
            res.writeHead(204).end();
          } else {
            res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      nock.enableNetConnect('127.0.0.1');
    });
    afterAll(() => {
      server.close();
      nock.disableNetConnect();
    });

    it('stops sending, re-authenticates, and sends the whole body again', async () => {
      const { cloud, auth } = await openImageOnly(2, `${base}/v2`);
      const size = 64 * 1024 * 1024;
      let opened = 0;
      const open = () => {
        opened++;
        let sent = 0;
        return new Readable({
          read() {
            if (sent >= size) return this.push(null);
            const n = Math.min(1 << 20, size - sent);
            sent += n;
            this.push(Buffer.alloc(n, 1));
          },
        });
      };
      await stageImageData(cloud.image, 'img1', open, { size });
      expect(opened).toBe(2);
      expect(seen[0]).toMatchObject({ token: 'token-1', status: 401 });
      expect(seen[0]!.bytes).toBeLessThan(size);
      expect(seen[1]).toEqual({ token: 'token-2', bytes: size, status: 204 });
      expect(auth.isDone()).toBe(true);
    });
  });
});

describe('interoperable import', () => {
  it('a failed import task fails the wait with the task message (the image stays importing)', async () => {
    const { cloud, auth } = await openImageOnly(1);
    const scope = nock(GLANCE)
      .post('/v2/images/img1/import', { method: { name: 'glance-direct' } })
      .reply(202)
      .get('/v2/images/img1')
      .reply(200, imageJson({ status: 'importing', checksum: null }))
      .get('/v2/images/img1/tasks')
      .reply(200, {
        tasks: [
          {
            id: 't1',
            type: 'api_image_import',
            status: 'processing',
            created_at: '2026-01-01T00:00:00.000000',
          },
        ],
      })
      .get('/v2/images/img1')
      .reply(200, imageJson({ status: 'importing', checksum: null }))
      .get('/v2/images/img1/tasks')
      .reply(200, {
        tasks: [
          {
            id: 't1',
            type: 'api_image_import',
            status: 'failure',
            message: 'Image disk format vmdk has an unsafe extent',
            created_at: '2026-01-01T00:00:00.000000',
          },
        ],
      });
    await importImage(cloud.image, 'img1');
    const err = await waitForImport(cloud.image, 'img1', { sleep: noSleep, timeoutMs: 60_000 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ImageImportError);
    expect(err.message).toBe(
      'import of image img1 failed (task t1): Image disk format vmdk has an unsafe extent',
    );
    expect(err.task.status).toBe('failure');
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });

  it('times out with what it saw last', async () => {
    const { cloud, auth } = await openImageOnly(1);
    const scope = nock(GLANCE)
      .get('/v2/images/img1')
      .reply(200, imageJson({ status: 'importing' }))
      .get('/v2/images/img1/tasks')
      .reply(200, { tasks: [] });
    let t = 0;
    const err = await waitForImport(cloud.image, 'img1', {
      sleep: noSleep,
      timeoutMs: 10,
      now: () => (t += 20),
    }).catch((e) => e);
    expect(err.message).toMatch(
      /timed out after 0 s waiting for image img1 import \(last: image importing\)/,
    );
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });
});
