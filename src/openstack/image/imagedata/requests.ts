// PUT /v2/images/{id}/file (gophercloud's imagedata): the bytes of a queued image, from a stream.
// Hashes nothing and checks nothing about the data: verification belongs to the caller
// (src/transfer compares its own hashes with the image's checksum/os_hash_value afterwards).
import type { ServiceClient, UploadData } from '../../client/service-client.js';
import { imageFileUrl } from './urls.js';

export interface UploadImageDataOptions {
  /** Bytes in all, when known: sent as Content-Length (else chunked). */
  size?: number;
  signal?: AbortSignal;
  /** Socket inactivity limit (default 10 min: Glance may pause while writing to its store). */
  timeoutMs?: number;
}

/**
 * Upload `data` into image `id`, which must be `queued`. With a function instead of a Readable, a 401
 * in the middle (an expired token) re-authenticates and sends the data again from a fresh stream.
 */
export async function uploadImageData(
  image: ServiceClient,
  id: string,
  data: UploadData,
  o: UploadImageDataOptions = {},
): Promise<void> {
  await image.upload('PUT', imageFileUrl(image, id), data, {
    okCodes: [204],
    size: o.size,
    signal: o.signal,
    timeoutMs: o.timeoutMs ?? 10 * 60_000,
  });
}
