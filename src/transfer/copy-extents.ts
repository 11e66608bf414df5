// Copies byte ranges of a disk onto an attached volume's device: one streamed Range GET per extent
// (split at 256 MiB), each chunk written at its position as it arrives, two extents in flight. The
// checkpoint counts a contiguous prefix of the work that was written and then fsync'ed, so a killed
// copy resumes at the last durable byte rather than at the start of the disk (Temporal's heartbeat
// details: restart from what the last heartbeat recorded).
import type { Readable } from 'node:stream';
import { InterruptedError } from '../errors.js';
import type { DiskReader } from './disk-reader.js';
import { type Extent, extentBytes } from './extents.js';
import { sharedLimiter } from './limiter.js';
import { resilientStream } from './resilient-stream.js';
import type { DeviceWriter } from './sinks/device-writer.js';
import type { ByteSource } from './types.js';

export interface ExtentCopyCheckpoint {
  v: 1;
  /** Which copy this is (e.g. "base:2000", "pass-3:2000"); a checkpoint with another key is ignored. */
  key: string;
  /** Bytes of `extents` (in order) that are written AND flushed (fsync) on the device. */
  doneBytes: number;
}
export interface ExtentCopy {
  key: string;
  reader: DiskReader;
  writer: DeviceWriter;
  extents: Extent[];
  /** Areas that get zeros instead (unallocated areas on an encrypted volume); written after the extents. */
  zeroFill?: Extent[];
  lastCheckpoint?: unknown;
  /** Called after a flush, at most every checkpointEveryBytes (default 64 MiB) and at the end. */
  checkpoint(c: ExtentCopyCheckpoint): void;
  onProgress?(doneBytes: number, totalBytes: number): void;
  checkpointEveryBytes?: number;
  stallTimeoutMs: number;
  limits?: { overall: number; perSource: number; perTarget: number };
  /** The limiter's source key: the VM's ESXi host (default: one key for the vCenter). */
  sourceKey?: string;
  signal: AbortSignal;
}
export interface ExtentCopyResult {
  /** Bytes read from the source in this call (not counting what a checkpoint skipped). */
  bytesRead: number;
  /** Bytes of zeros written. */
  zeroBytes: number;
  /** extentBytes(extents): what the whole copy covers. */
  totalBytes: number;
  /** True when a checkpoint let this call skip work. */
  resumed: boolean;
  seconds: number;
}

const PIECE_MAX = 256 * 1024 * 1024;
const IN_FLIGHT = 2;
const ZERO_CHUNK = 1024 * 1024;
const DEFAULT_CHECKPOINT_EVERY = 64 * 1024 * 1024;

interface Piece {
  start: number;
  length: number;
  zero: boolean;
  /** Bytes of this piece written so far, from its start (a stream writes in order). */
  written: number;
  done: boolean;
}

function split(e: Extent[], zero: boolean): Piece[] {
  const out: Piece[] = [];
  for (const x of e) {
    for (let at = 0; at < x.length; at += PIECE_MAX) {
      out.push({
        start: x.start + at,
        length: Math.min(PIECE_MAX, x.length - at),
        zero,
        written: 0,
        done: false,
      });
    }
  }
  return out;
}

function readCheckpoint(c: unknown, key: string): number {
  const k = c as Partial<ExtentCopyCheckpoint> | undefined;
  return k && k.v === 1 && k.key === key && typeof k.doneBytes === 'number' && k.doneBytes > 0
    ? k.doneBytes
    : 0;
}

/** One piece of the disk as a ByteSource, so resilient-stream's stall watchdog and Range reopen apply. */
function pieceSource(reader: DiskReader, p: Piece, from: number): ByteSource {
  return {
    size: p.length - from,
    supportsRange: true,
    description: `${reader.description} [${p.start + from}, ${p.start + p.length})`,
    open: (offset, signal) => reader.readRange(p.start + from + offset, p.length - from - offset, signal),
  };
}

/**
 * Copies `extents` then writes zeros over `zeroFill`. The checkpoint's doneBytes counts, in this
 * order, the extents' bytes and then (past extentBytes(extents)) the zero-filled bytes; onProgress
 * gets the same count against both totals.
 */
export async function copyExtents(o: ExtentCopy): Promise<ExtentCopyResult> {
  const t0 = Date.now();
  const pieces = [...split(o.extents, false), ...split(o.zeroFill ?? [], true)];
  const totalBytes = extentBytes(o.extents);
  const workBytes = totalBytes + extentBytes(o.zeroFill ?? []);
  const every = o.checkpointEveryBytes ?? DEFAULT_CHECKPOINT_EVERY;
  const skip = Math.min(readCheckpoint(o.lastCheckpoint, o.key), workBytes);
  let bytesRead = 0;
  let zeroBytes = 0;

  // Mark the checkpointed prefix as done.
  let rest = skip;
  for (const p of pieces) {
    const n = Math.min(rest, p.length);
    p.written = n;
    p.done = n === p.length;
    rest -= n;
    if (!rest) break;
  }
  let first = 0; // first piece not done
  let base = 0; // bytes of the pieces before `first`
  const prefix = () => {
    while (first < pieces.length && pieces[first]!.done) base += pieces[first++]!.length;
    return base + (pieces[first]?.written ?? 0);
  };
  prefix();

  let checkpointed = skip;
  let flushing: Promise<void> | undefined;
  const saveCheckpoint = async () => {
    // Only what was written before the fsync began is claimed durable after it.
    const upTo = prefix();
    if (upTo <= checkpointed) return;
    await o.writer.flush();
    checkpointed = upTo;
    o.checkpoint({ v: 1, key: o.key, doneBytes: upTo });
  };
  const maybeCheckpoint = async () => {
    if (flushing || prefix() - checkpointed < every) return;
    flushing = saveCheckpoint().finally(() => {
      flushing = undefined;
    });
    await flushing;
  };
  const progress = () => o.onProgress?.(prefix(), workBytes);

  const ctl = new AbortController();
  const onAbort = () => ctl.abort(o.signal.reason);
  if (o.signal.aborted) throw new InterruptedError('copy aborted');
  o.signal.addEventListener('abort', onAbort, { once: true });

  const copyPiece = async (p: Piece) => {
    if (p.zero) {
      const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, p.length));
      while (p.written < p.length) {
        if (ctl.signal.aborted) throw new InterruptedError('copy aborted');
        const n = Math.min(zeros.length, p.length - p.written);
        await o.writer.write(n === zeros.length ? zeros : zeros.subarray(0, n), p.start + p.written);
        p.written += n;
        zeroBytes += n;
        progress();
        await maybeCheckpoint();
      }
    } else {
      const stream: Readable = resilientStream(pieceSource(o.reader, p, p.written), {
        stallTimeoutMs: o.stallTimeoutMs,
        signal: ctl.signal,
      });
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (p.written + chunk.length > p.length) {
            throw new Error(`${o.reader.description}: more bytes than asked at ${p.start} (+${p.length})`);
          }
          await o.writer.write(chunk, p.start + p.written);
          p.written += chunk.length;
          bytesRead += chunk.length;
          progress();
          await maybeCheckpoint();
        }
      } finally {
        stream.destroy();
      }
      if (p.written !== p.length) {
        throw new Error(`${o.reader.description}: got ${p.written} of ${p.length} bytes at ${p.start}`);
      }
    }
    p.done = true;
  };

  const run = async () => {
    let next = first;
    const worker = async () => {
      while (next < pieces.length) {
        const p = pieces[next++]!;
        if (p.done) continue;
        try {
          await copyPiece(p);
        } catch (err) {
          ctl.abort(err);
          throw err;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: IN_FLIGHT }, worker));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed)
      throw o.signal.aborted ? new InterruptedError('copy aborted', { cause: failed.reason }) : failed.reason;
    if (flushing) await flushing;
    await saveCheckpoint();
  };

  try {
    if (o.limits) {
      // One slot per disk copy, as transferDisk takes one per upload. The plan has one vCenter, so
      // all datastore reads share the source key.
      await sharedLimiter(o.limits).run(
        { source: o.sourceKey ?? 'vsphere', target: o.writer.path },
        run,
        o.signal,
      );
    } else await run();
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
  return { bytesRead, zeroBytes, totalBytes, resumed: skip > 0, seconds: (Date.now() - t0) / 1000 };
}
