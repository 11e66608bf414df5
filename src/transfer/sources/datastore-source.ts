// A file on a datastore (the datastore HTTP /folder endpoint) as a ByteSource: the alternative to the
// export lease. Only single-file sparse VMDKs may be uploaded as they are; a descriptor (the usual
// `<vm>.vmdk` beside `<vm>-flat.vmdk`) is refused by the inspection, so point this at the -flat file
// (raw) or use the export lease.
import type { Readable } from 'node:stream';
import type { VSphereClient } from '../../vsphere/objects/client.js';
import { type DatastoreFile, datastoreDownload, datastoreStat } from '../../vsphere/objects/datastore.js';
import { SourceHttpError } from '../errors.js';
import type { ByteSource } from '../types.js';

export async function datastoreSource(
  client: VSphereClient,
  file: DatastoreFile,
  opts: { signal?: AbortSignal } = {},
): Promise<ByteSource> {
  const st = await datastoreStat(client, file, opts);
  if (!st.exists) {
    throw new SourceHttpError(`[${file.datastore}] ${file.path}: not found`, 404);
  }
  const size = st.size;
  const description = `[${file.datastore}] ${file.path}`;
  return {
    size,
    supportsRange: true,
    description,
    async open(offset: number, signal: AbortSignal): Promise<Readable> {
      const res = await datastoreDownload(client, file, {
        signal,
        range: offset > 0 ? { start: offset } : undefined,
      });
      if (
        offset > 0 &&
        size !== undefined &&
        res.contentLength !== undefined &&
        res.contentLength !== size - offset
      ) {
        res.destroy();
        throw new SourceHttpError(
          `${description}: Range from ${offset} returned ${res.contentLength} bytes`,
          206,
        );
      }
      return res;
    },
  };
}
