// A flat extent on a datastore read at offsets over the /folder HTTP endpoint with Range: the first
// DiskReader. It goes through the vSphere client's transport, so it carries the session cookie (and
// logs in again on a 401) and verifies TLS exactly as the SOAP calls do. A flat extent is the disk's
// raw bytes, so a byte offset in the file is the same offset in the disk (VMware's Virtual Disk
// Format 5.0, "Extent descriptions": FLAT / VMFS extents have no grain tables).
import { Transform, type TransformCallback } from 'node:stream';
import { parseDatastorePath } from '../../vsphere/model.js';
import type { VSphereClient } from '../../vsphere/objects/client.js';
import { datastoreDownload } from '../../vsphere/objects/datastore.js';
import type { DiskReader } from '../disk-reader.js';
import { SourceHttpError } from '../errors.js';

/** Fails the stream when it ends before `length` bytes or carries more. */
function exactly(length: number, what: string): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      n += chunk.length;
      if (n > length) cb(new SourceHttpError(`${what}: more than the ${length} bytes asked for`, 206));
      else cb(null, chunk);
    },
    flush(cb) {
      cb(n === length ? null : new SourceHttpError(`${what}: short read, ${n} of ${length} bytes`, 206));
    },
  });
}

/**
 * `flatExtent` is "[ds] dir/vm-flat.vmdk"; `datacenter` its datacenter's inventory path (dcPath).
 * A reply other than 206 with the asked Content-Range, or fewer bytes than asked, is an error.
 */
export function datastoreRangeReader(
  client: VSphereClient,
  datacenter: string,
  flatExtent: string,
  size: number,
): DiskReader {
  const { datastore, path } = parseDatastorePath(flatExtent);
  const file = { datacenter, datastore, path };
  const description = flatExtent;
  return {
    size,
    description,
    async readRange(offset, length, signal) {
      const len = Math.max(0, Math.min(length, size - offset));
      if (len === 0 || offset < 0) {
        throw new RangeError(`${description}: nothing to read at ${offset} (+${length}) of ${size}`);
      }
      const what = `${description} bytes ${offset}-${offset + len - 1}`;
      // datastoreDownload accepts only 206 for a Range request; a 200 (the whole file) is refused there.
      const res = await datastoreDownload(client, file, {
        signal,
        range: { start: offset, end: offset + len - 1 },
      });
      // A server that honours only part of the Range would shift every byte that follows.
      if (res.rangeStart !== offset || (res.contentLength !== undefined && res.contentLength !== len)) {
        res.destroy();
        throw new SourceHttpError(
          `${what}: the server answered bytes from ${res.rangeStart ?? '?'}, ${res.contentLength ?? '?'} of them`,
          206,
        );
      }
      const out = exactly(len, what);
      res.once('error', (err) => out.destroy(err));
      return res.pipe(out);
    },
  };
}
