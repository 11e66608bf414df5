// A Glance image as a DiskSink: PUT /v2/images/{id}/file from the stream, then read back what Glance
// stored (size, checksum = md5, os_hash_value) for transferDisk to compare with its own hashes. The
// PUT is sent here rather than through uploadImageData so every byte is hashed once, by transferDisk.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { V2oError } from '../../errors.js';
import { type ServiceClient, streamBody } from '../../openstack/client/service-client.js';
import { getImage } from '../../openstack/image/images/requests.js';
import type { Image } from '../../openstack/image/images/results.js';
import { imageFileUrl } from '../../openstack/image/images/urls.js';
import type { DiskSink, SinkResult, SinkWriteInfo } from '../types.js';

export interface GlanceSinkOptions {
  /** Socket inactivity limit for the PUT. Default 10 min (the stall watchdog acts sooner). */
  timeoutMs?: number;
}

export interface GlanceSinkResult extends SinkResult {
  imageId: string;
  image: Image;
}

/** An upload into the existing image `imageId`, which must be `queued` (see imageUploadState). */
export function glanceSink(image: ServiceClient, imageId: string, o: GlanceSinkOptions = {}): DiskSink {
  return {
    description: `glance image ${imageId}`,
    async write(stream: Readable, info: SinkWriteInfo): Promise<GlanceSinkResult> {
      let opened = false;
      const open = () => {
        // The disk stream can be consumed once; a client-level retry (re-auth) becomes a step retry.
        if (opened) throw new V2oError('the disk stream cannot be replayed; the step will retry the upload');
        opened = true;
        return stream;
      };
      await image.request('PUT', imageFileUrl(image, imageId), {
        okCodes: [204],
        body: streamBody(open, info.size),
        signal: info.signal,
        timeoutMs: o.timeoutMs ?? 10 * 60_000,
      });
      const after = await getImage(image, imageId, { signal: info.signal });
      return {
        imageId,
        image: after,
        storedBytes: after.size,
        checksum: after.checksum,
        osHashAlgo: after.osHashAlgo,
        osHashValue: after.osHashValue,
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
