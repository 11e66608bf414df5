// A staged download that resumes: bytes already in the file are kept and the rest fetched with Range.
import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resilientStream } from './resilient-stream.js';
import type { ByteSource } from './types.js';

export interface DownloadOptions {
  /** Bytes a checkpoint says are already in the file; trusted only up to the file's real size. */
  resumeFrom?: number;
  stallTimeoutMs?: number;
  maxReconnects?: number;
  /** Called with the file size so far; the caller turns it into checkpoints. */
  onProgress?: (bytes: number) => void;
  signal: AbortSignal;
}

export async function downloadToFile(source: ByteSource, path: string, o: DownloadOptions): Promise<number> {
  let start = 0;
  if (o.resumeFrom && o.resumeFrom > 0 && source.supportsRange) {
    const have = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    start = Math.min(have, o.resumeFrom);
  }
  // Bytes beyond the checkpoint may be a torn write: cut back to what was recorded.
  await truncate(path, start).catch(() => {});
  const rs = resilientStream(source, {
    startOffset: start,
    stallTimeoutMs: o.stallTimeoutMs,
    maxReconnects: o.maxReconnects,
    signal: o.signal,
  });
  let written = start;
  const count = new Transform({
    transform(c: Buffer, _e, cb) {
      written += c.length;
      o.onProgress?.(written);
      cb(null, c);
    },
  });
  await pipeline(rs, count, createWriteStream(path, { flags: start > 0 ? 'r+' : 'w', start }), {
    signal: o.signal,
  });
  return written;
}
