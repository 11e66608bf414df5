// A pass-through stream that hashes (md5, sha256, optionally sha512) and counts what flows,
// so the upload never buffers the image to know its digests.
import { createHash, type Hash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { UploadDigests } from './results.js';

export interface UploadProgress {
  bytes: number;
  total?: number;
}

export class HashingStream extends Transform {
  bytes = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  private readonly sha512?: Hash;
  private lastReport = 0;

  constructor(
    opts: {
      sha512?: boolean;
      onProgress?: (p: UploadProgress) => void;
      total?: number;
      progressEveryMs?: number;
    } = {},
  ) {
    // 1 MiB keeps syscalls few while memory stays at a handful of chunks.
    super({ highWaterMark: 1024 * 1024 });
    if (opts.sha512 !== false) this.sha512 = createHash('sha512');
    this.onProgress = opts.onProgress;
    this.total = opts.total;
    this.progressEveryMs = opts.progressEveryMs ?? 500;
  }

  private readonly onProgress?: (p: UploadProgress) => void;
  private readonly total?: number;
  private readonly progressEveryMs: number;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.sha512?.update(chunk);
    this.bytes += chunk.length;
    const now = Date.now();
    if (this.onProgress && now - this.lastReport >= this.progressEveryMs) {
      this.lastReport = now;
      this.onProgress({ bytes: this.bytes, total: this.total });
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.onProgress?.({ bytes: this.bytes, total: this.total });
    cb();
  }

  /** Valid once the stream has ended. */
  digests(): UploadDigests {
    return {
      bytes: this.bytes,
      md5: this.md5.copy().digest('hex'),
      sha256: this.sha256.copy().digest('hex'),
      sha512: this.sha512?.copy().digest('hex'),
    };
  }
}

/** source → hasher, with errors and teardown propagated both ways. */
export function hashed(source: Readable, hasher: HashingStream): Readable {
  source.once('error', (e) => hasher.destroy(e));
  hasher.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return source.pipe(hasher);
}
