// Hashes computed in the same pass as the copy. The caller compares them with what the target reports
// (Glance: `checksum` = md5, `os_hash_value` = sha512 by default). Hashing costs more CPU than the
// copy itself (per GiB on the lab machine: md5 1.8 s, sha256 0.8 s with SHA-NI, sha512 2.3 s), so
// callers hash only what they compare, and with more than 2 CPUs it runs on a worker thread and
// never holds up the main thread's I/O.
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { ChecksumMismatchError } from './errors.js';
import type { Hashes, HashName, SinkResult } from './types.js';

export interface HashingStream extends Transform {
  /** Bytes that passed through. */
  readonly bytes: number;
  /** Hex digests; valid once the stream has flushed (the worker is drained in flush). */
  digests(): Hashes;
  /** Resolves with the digests once every byte is hashed; a sink may answer before that (Content-Length). */
  readonly done: Promise<Hashes>;
}

function withDone(t: HashingStream, get: () => Hashes | undefined): { settle: (err?: Error | null) => void } {
  let resolve!: (h: Hashes) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<Hashes>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  Object.defineProperty(t, 'done', { value: done });
  return {
    settle: (err) => {
      const h = get();
      if (err || !h) reject(err ?? new Error('hashing stream ended without digests'));
      else resolve(h);
    },
  };
}

export interface HashingOptions {
  /**
   * Hash on a worker thread. Default: only with more than 2 CPUs; on 2 the copy to the worker costs
   * more than it frees (bench/transfer.ts on loopback, 1 GiB, medians of 3: 268-284 MB/s against
   * 283-316 inline), as Glance and the source compete for the same cores.
   */
  worker?: boolean;
  /** Bytes handed to the worker and not yet hashed before the stream waits. Default 4 MiB. */
  maxInFlight?: number;
}

// CommonJS source for an eval'd worker: no file to resolve, works from src (tsx) and dist alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = workerData.map((a) => [a, createHash(a)]);
parentPort.on('message', (m) => {
  if (m === 'end') {
    parentPort.postMessage({ digests: Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')])) });
    return;
  }
  const b = new Uint8Array(m.buf, 0, m.len);
  for (const [, h] of hashes) h.update(b);
  parentPort.postMessage(m, [m.buf]); // the block goes back to be filled again
});
`;

/** `algorithms` is the caller's choice (the plan's uploadHashes): the transfer layer has no default. */
export function hashingStream(algorithms: readonly HashName[], o: HashingOptions = {}): HashingStream {
  const useWorker = (o.worker ?? availableParallelism() > 2) && algorithms.length > 0;
  return useWorker ? workerHashing(algorithms, o.maxInFlight ?? 4 * 1024 * 1024) : inlineHashing(algorithms);
}

function inlineHashing(algorithms: readonly HashName[]): HashingStream {
  const hashes = new Map<HashName, Hash>(algorithms.map((a) => [a, createHash(a)]));
  let bytes = 0;
  let result: Hashes | undefined;
  const compute = () => {
    if (!result) {
      result = {};
      for (const [name, h] of hashes) result[name] = h.digest('hex');
    }
    return result;
  };
  const t = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      for (const h of hashes.values()) h.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      compute();
      d.settle();
      cb();
    },
    destroy(err, cb) {
      if (!result) d.settle(err ?? new Error('hashing stream destroyed'));
      cb(err);
    },
  }) as HashingStream;
  const d = withDone(t, () => result);
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  t.digests = compute;
  return t;
}

/** A staging block on its way to or from the hash worker: `len` bytes of `buf` are data. */
interface Block {
  buf: ArrayBuffer;
  len: number;
}

function workerHashing(algorithms: readonly HashName[], maxInFlight: number): HashingStream {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: [...algorithms] });
  worker.unref();
  let bytes = 0;
  let inFlight = 0;
  let result: Hashes | undefined;
  let failure: Error | undefined;
  let waiting: (() => void) | undefined;
  // Blocks the worker has hashed and handed back, ready to be filled again.
  const free: ArrayBuffer[] = [];
  worker.on('message', (m: Block | { digests: Hashes }) => {
    if ('buf' in m) {
      inFlight -= m.len;
      free.push(m.buf);
    } else result = m.digests;
    const w = waiting;
    waiting = undefined;
    w?.();
  });
  worker.on('error', (e) => {
    failure = e;
    waiting?.();
  });
  const until = (cond: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (cond() || failure) resolve();
        else waiting = check;
      };
      check();
    });

  // Chunks are copied into a staging block that is moved (not cloned) to the worker when full: one
  // message per MiB, not per 16 KiB TLS record; the originals go on downstream untouched. The worker
  // moves each block back, so a few blocks circulate: blocks left to the worker's garbage collector
  // (it allocates almost nothing, so it seldom runs) piled up to ~90 MiB of RSS.
  const BLOCK = 1024 * 1024;
  let block = new Uint8Array(BLOCK);
  let used = 0;
  const post = () => {
    if (!used) return;
    inFlight += used;
    const m: Block = { buf: block.buffer as ArrayBuffer, len: used };
    worker.postMessage(m, [m.buf]);
    const next = free.pop();
    block = next ? new Uint8Array(next) : new Uint8Array(BLOCK);
    used = 0;
  };
  const t = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(BLOCK - used, chunk.length - at);
        block.set(chunk.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === BLOCK) post();
      }
      if (inFlight <= maxInFlight) return cb(null, chunk);
      until(() => inFlight <= maxInFlight).then(() => cb(failure ?? null, chunk));
    },
    flush(cb) {
      post();
      worker.postMessage('end');
      until(() => result !== undefined).then(() => {
        void worker.terminate();
        d.settle(failure);
        cb(failure ?? null);
      });
    },
    destroy(err, cb) {
      void worker.terminate();
      if (!result) d.settle(err ?? new Error('hashing stream destroyed'));
      cb(err);
    },
  }) as HashingStream;
  const d = withDone(t, () => result);
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  t.digests = () => {
    if (!result) throw new Error('digests() before the hashing stream finished');
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
