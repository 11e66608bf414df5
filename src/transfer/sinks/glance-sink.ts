// A Glance image as a DiskSink: the stream goes to imagedata's PUT /v2/images/{id}/file, then what
// Glance stored (size, checksum = md5, os_hash_value) is read back for transferDisk to compare with
// the hashes it computed in the same pass (hashing-stream.ts is the one copy of that check).
import type { Readable } from 'node:stream';
import type { ServiceClient } from '../../openstack/client/service-client.js';
import { uploadImageData } from '../../openstack/image/imagedata/requests.js';
import { getImage } from '../../openstack/image/images/requests.js';
import type { Image } from '../../openstack/image/images/results.js';
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
 * The disk stream can be consumed once: a 401 mid-upload is not replayed here but fails the
 * attempt (with the token forgotten), and the step's retry uploads again.
 */
export function glanceSink(image: ServiceClient, imageId: string, o: GlanceSinkOptions = {}): DiskSink {
  return {
    description: `glance image ${imageId}`,
    async write(stream: Readable, info: SinkWriteInfo): Promise<GlanceSinkResult> {
      await uploadImageData(image, imageId, stream, {
        size: info.size,
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
