// A Glance image as a DiskSink: PUT /v2/images/{id}/file from the stream. The OpenStack client hashes
// (md5, sha256, sha512) and compares with Glance's checksum/os_hash_value itself, so transferDisk does
// not hash a second time (computesHashes).
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { V2oError } from '../../errors.js';
import type { ServiceClient } from '../../openstack/client/service-client.js';
import { getImage, uploadImageData } from '../../openstack/image/images/requests.js';
import type { Image } from '../../openstack/image/images/results.js';
import type { DiskSink, SinkResult, SinkWriteInfo } from '../types.js';

export interface GlanceSinkOptions {
  /** Compute sha512 (Glance's default os_hash_algo) to compare os_hash_value. Default true. */
  sha512?: boolean;
  /** Socket inactivity limit for the PUT. Default 10 min (the stall watchdog acts sooner). */
  timeoutMs?: number;
}

export interface GlanceSinkResult extends SinkResult {
  imageId: string;
  image: Image;
}

/** An upload into the existing image `imageId`, which must be `queued` (see prepareImageForUpload). */
export function glanceSink(image: ServiceClient, imageId: string, o: GlanceSinkOptions = {}): DiskSink {
  return {
    description: `glance image ${imageId}`,
    computesHashes: true,
    async write(stream: Readable, info: SinkWriteInfo): Promise<GlanceSinkResult> {
      let opened = false;
      const r = await uploadImageData(
        image,
        imageId,
        () => {
          // The disk stream can be consumed once; a client-level retry must become a step retry.
          if (opened)
            throw new V2oError('the disk stream cannot be replayed; the step will retry the upload');
          opened = true;
          return stream;
        },
        { size: info.size, signal: info.signal, sha512: o.sha512 ?? true, timeoutMs: o.timeoutMs },
      );
      return {
        imageId,
        image: r.image,
        bytes: r.bytes,
        checksum: r.image.checksum,
        osHashAlgo: r.image.osHashAlgo,
        osHashValue: r.image.osHashValue,
        hashes: { md5: r.md5, sha256: r.sha256, ...(r.sha512 ? { sha512: r.sha512 } : {}) },
      };
    },
  };
}

/**
 * What a retried upload must do with an image a previous attempt wrote into. Glance cannot resume an
 * upload, but (measured on the Zed lab) an interrupted PUT leaves the image `saving` for a moment and
 * then puts it back to `queued`, which takes a new PUT. So: `queued` → upload again; `saving` /
 * `uploading` → wait up to `timeoutMs` for `queued` (an orphaned upload that never returns, or
 * `killed`, means delete and create the image again); `active` → already done.
 */
export async function imageUploadState(
  image: ServiceClient,
  imageId: string,
  o: { signal?: AbortSignal; timeoutMs?: number; pollMs?: number } = {},
): Promise<'upload' | 'recreate' | 'done'> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (;;) {
    const img = await getImage(image, imageId, o);
    if (img.status === 'queued') return 'upload';
    if (img.status === 'active') return 'done';
    if ((img.status !== 'saving' && img.status !== 'uploading') || Date.now() >= deadline) return 'recreate';
    await sleep(o.pollMs ?? 500, undefined, { signal: o.signal });
  }
}
