// A Glance image as a DiskSink: PUT /v2/images/{id}/file from the stream, then read back what Glance
// stored (size, checksum = md5, os_hash_value) for transferDisk to compare with its own hashes. The
// PUT is sent here rather than through uploadImageData so every byte is hashed once, by transferDisk.
import type { Readable } from 'node:stream';
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

/**
 * An upload into the existing image `imageId`, which must be `queued`. Glance cannot resume an
 * upload, but an interrupted PUT leaves the image `saving` for a moment and then `queued` again
 * (test/integration/transfer/glance-upload.test.ts), so a retried upload can reuse the image.
 */
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
