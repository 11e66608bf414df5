// Hashes computed in the same pass as the copy. The caller compares them with what the target reports
// (Glance: `checksum` = md5, `os_hash_value` = sha512 by default) and records sha256 for the journal.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumMismatchError } from './errors.js';
import type { Hashes, HashName, SinkResult } from './types.js';

export interface HashingStream extends Transform {
  /** Bytes that passed through. */
  readonly bytes: number;
  /** Hex digests; only valid after the stream ended ('finish'/'end'). */
  digests(): Hashes;
}

export function hashingStream(algorithms: readonly HashName[] = ['sha256', 'md5']): HashingStream {
  const hashes = new Map<HashName, Hash>(algorithms.map((a) => [a, createHash(a)]));
  let bytes = 0;
  let result: Hashes | undefined;
  const t = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      for (const h of hashes.values()) h.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  }) as HashingStream;
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  t.digests = () => {
    if (!result) {
      result = {};
      for (const [name, h] of hashes) result[name] = h.digest('hex');
    }
    return result;
  };
  return t;
}

/**
 * Compare local digests with what the target reports. Missing values on either side are not compared
 * (a sink that reports nothing is checked by the caller another way); any difference throws.
 */
export function verifyDigests(local: Hashes, remote: SinkResult, what: string): void {
  const pairs: [string, string | undefined, string | undefined][] = [
    ['md5', local.md5, remote.checksum],
    [
      remote.osHashAlgo ?? 'sha512',
      remote.osHashAlgo ? local[remote.osHashAlgo as HashName] : undefined,
      remote.osHashValue,
    ],
  ];
  for (const [name, mine, theirs] of pairs) {
    if (mine && theirs && mine.toLowerCase() !== theirs.toLowerCase()) {
      throw new ChecksumMismatchError(`${what}: ${name} differs: sent ${mine}, target stored ${theirs}`, {
        hint: 'The data was corrupted on the way; delete the image and run the step again.',
      });
    }
  }
}
