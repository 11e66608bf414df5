// A 2 GiB image streamed into Glance from a deterministic generator (no file): Glance's md5 and
// sha512 must equal ours, and the client's memory must stay flat while it flows.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../../../src/openstack/cloud.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import { createImage, deleteImage, getImage } from '../../../src/openstack/image/images/requests.js';
import { openLab, quietly, runTag } from './helpers.js';

const SIZE = 2 * 1024 ** 3;
const CHUNK = 1024 * 1024;

/** Chunk i is a 1 MiB pattern with i stamped every 4 KiB: deterministic, and no two chunks equal. */
function generator(size = SIZE): Readable {
  const base = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) base[i] = (i * 131 + (i >> 9)) & 0xff;
  let i = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      const off = i * CHUNK;
      if (off >= size) return void this.push(null);
      const c = Buffer.from(base.subarray(0, Math.min(CHUNK, size - off)));
      for (let p = 0; p + 4 <= c.length; p += 4096) c.writeUInt32LE(i, p);
      i++;
      this.push(c);
    },
  });
}

async function expectedDigests(): Promise<{ md5: string; sha512: string }> {
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  for await (const c of generator()) {
    md5.update(c);
    sha512.update(c);
  }
  return { md5: md5.digest('hex'), sha512: sha512.digest('hex') };
}

describe('2 GiB streamed upload', () => {
  let cloud: Cloud;
  let imageId: string | undefined;
  const tag = runTag('v2o-it-2g');
  beforeAll(async () => {
    cloud = await openLab('demo', ['image']);
  });
  afterAll(async () => {
    if (imageId) await quietly(() => deleteImage(cloud.image, imageId!, { ignoreMissing: true }));
    await cloud?.close();
  });

  it('hashes match Glance’s and RSS stays flat', async () => {
    const expected = await expectedDigests();
    const img = await createImage(cloud.image, { name: tag, diskFormat: 'raw', tags: [tag] });
    imageId = img.id;

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const progress: number[] = [];
    const started = Date.now();
    try {
      // Bytes as the upload takes them: a stalled or buffering upload shows as few, late reports.
      let sent = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          sent += chunk.length;
          if (sent % (256 * CHUNK) === 0 || sent === SIZE) progress.push(sent);
          cb(null, chunk);
        },
      });
      await uploadImageData(cloud.image, img.id, () => generator().pipe(counter), { size: SIZE });
      const r = await getImage(cloud.image, img.id);
      const secs = (Date.now() - started) / 1000;
      const growthMiB = (peak - baseline) / 1024 ** 2;
      console.log(
        `2 GiB upload: ${secs.toFixed(1)} s, ${(SIZE / 1024 ** 2 / secs).toFixed(0)} MiB/s, rss baseline ${(baseline / 1024 ** 2).toFixed(0)} MiB, peak +${growthMiB.toFixed(0)} MiB, ${progress.length} progress reports`,
      );
      expect(sent).toBe(SIZE);
      expect(r).toMatchObject({
        status: 'active',
        size: SIZE,
        checksum: expected.md5,
        osHashValue: expected.sha512,
      });
      // Buffering the body would add 2048 MiB; a streaming upload holds a few chunks.
      expect(growthMiB).toBeLessThan(128);
      expect(progress.length).toBeGreaterThan(2);
      expect(progress.at(-1)).toBe(SIZE);
    } finally {
      clearInterval(sampler);
    }
  });
});
