// transferDisk into the lab's real Glance: a streamOptimized VMDK served over HTTP that drops
// mid-transfer (healed by Range), Glance's own hashes equal to the file's, an unsafe descriptor
// refused before Glance sees a byte, and a retried upload into the image an interrupted one left.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cloud, openCloud } from '../../../src/openstack/cloud.js';
import { loadCloudConfig } from '../../../src/openstack/config.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import { createImage, deleteImage, getImage } from '../../../src/openstack/image/images/requests.js';
import { UnsafeDiskError } from '../../../src/transfer/errors.js';
import { glanceSink } from '../../../src/transfer/sinks/glance-sink.js';
import { httpSource } from '../../../src/transfer/sources/http-source.js';
import { transferDisk } from '../../../src/transfer/transfer-disk.js';
import { labProcessEnv } from '../../helpers/lab-env.js';
import { makeDisks, serveBytes, tempDir } from '../../unit/transfer/helpers.js';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
let cloud: Cloud;
let dir: string;
let disks: ReturnType<typeof makeDisks>;
const created: string[] = [];

beforeAll(async () => {
  cloud = await openCloud(loadCloudConfig({ env: labProcessEnv() }), { services: ['image'] });
  dir = tempDir();
  disks = makeDisks(dir, 64 * 1024 * 1024, 24 * 1024 * 1024);
});
afterAll(async () => {
  for (const id of created) await deleteImage(cloud.image, id, { ignoreMissing: true });
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The image's status once Glance has stopped `saving` (an upload that ended or broke off). */
async function settledStatus(id: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await getImage(cloud.image, id);
    if ((status !== 'saving' && status !== 'uploading') || Date.now() >= deadline) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function newImage(name: string, diskFormat: 'vmdk' | 'qcow2' | 'raw') {
  const img = await createImage(cloud.image, { name, diskFormat, tags: ['v2o-test-transfer'] });
  created.push(img.id);
  return img;
}

describe('transferDisk → Glance', () => {
  it('streams a VMDK whose source connection drops; Glance stores exactly the file', async () => {
    const file = readFileSync(disks.streamOptimized);
    const srv = await serveBytes(file, { dropAfter: { 0: 5_000_000 } });
    try {
      const img = await newImage('v2o-test-transfer-vmdk', 'vmdk');
      const r = await transferDisk({
        source: await httpSource({ url: srv.url }),
        sink: glanceSink(cloud.image, img.id),
        format: 'vmdk',
        hashes: ['md5'],
        signal: AbortSignal.timeout(120_000),
      });
      expect(r.reconnects).toBe(1);
      expect(srv.ranges[1]).toMatch(/^bytes=\d+-$/);
      expect(r.hashes).toEqual({ md5: hex('md5', file) });
      const after = await getImage(cloud.image, img.id);
      expect(after.status).toBe('active');
      expect(after.size).toBe(file.length);
      // Glance's own digests of what it stored.
      expect(after.checksum).toBe(hex('md5', file));
      expect(after.osHashValue).toBe(hex('sha512', file));
    } finally {
      await srv.close();
    }
  });

  it('refuses a flat VMDK descriptor; the image gets no data', async () => {
    const img = await newImage('v2o-test-transfer-flat', 'vmdk');
    const srv = await serveBytes(readFileSync(disks.monolithicFlat));
    try {
      const err = await transferDisk({
        source: await httpSource({ url: srv.url }),
        sink: glanceSink(cloud.image, img.id),
        format: 'vmdk',
        hashes: ['md5'],
        signal: AbortSignal.timeout(60_000),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(UnsafeDiskError);
      expect(err.hint).toMatch(/CVE-2022-47951/);
      expect(await settledStatus(img.id, 20_000)).toBe('queued');
      expect((await getImage(cloud.image, img.id)).size).toBeUndefined();
    } finally {
      await srv.close();
    }
  });

  it('converts to qcow2 while streaming and uploads it', async () => {
    const file = readFileSync(disks.streamOptimized);
    const srv = await serveBytes(file);
    try {
      const img = await newImage('v2o-test-transfer-qcow2', 'qcow2');
      const r = await transferDisk({
        source: await httpSource({ url: srv.url }),
        sink: glanceSink(cloud.image, img.id),
        format: 'qcow2',
        workDir: dir,
        sourceId: 'it-qcow2',
        hashes: ['sha256', 'md5', 'sha512'],
        signal: AbortSignal.timeout(120_000),
      });
      expect(r.route).toBe('convert');
      const after = await getImage(cloud.image, img.id);
      expect(after.status).toBe('active');
      expect(after.virtualSize).toBe(64 * 1024 * 1024);
      expect(after.osHashValue).toBe(r.hashes.sha512);
    } finally {
      await srv.close();
    }
  });

  it('an interrupted upload leaves the image queued again, and the retried upload lands', async () => {
    const img = await newImage('v2o-test-transfer-retry', 'raw');
    const ac = new AbortController();
    async function* slow() {
      for (let i = 0; i < 100; i++) {
        yield Buffer.alloc(1 << 20, i);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    setTimeout(() => ac.abort(new Error('stalled')), 150);
    await expect(
      uploadImageData(cloud.image, img.id, () => Readable.from(slow()), {
        size: 100 << 20,
        signal: ac.signal,
      }),
    ).rejects.toThrow();
    expect(await settledStatus(img.id, 30_000)).toBe('queued');
    const raw = readFileSync(disks.raw);
    const srv = await serveBytes(raw);
    try {
      await transferDisk({
        source: await httpSource({ url: srv.url }),
        sink: glanceSink(cloud.image, img.id),
        format: 'raw',
        hashes: ['md5'],
        workDir: dir,
        signal: AbortSignal.timeout(120_000),
      });
      const after = await getImage(cloud.image, img.id);
      expect(after.status).toBe('active');
      expect(after.osHashValue).toBe(hex('sha512', raw));
    } finally {
      await srv.close();
    }
  });
});
