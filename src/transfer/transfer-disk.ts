// transferDisk: what the export/upload step calls for one disk. Streams the source into the sink with
// backpressure, the format checked before the first byte leaves and the hashes computed in the same
// pass; heals source drops with Range; aborts a stalled sink so the step's retry reissues the upload.
// For qcow2/raw targets the source is converted by qemu-img over v2o's NBD bridge (one local copy).
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { InterruptedError, NonRetryableError } from '../errors.js';
import { convertStream } from './convert.js';
import { downloadToFile } from './download.js';
import { ChecksumMismatchError, SourceInterruptedError, TransferStallError } from './errors.js';
import { hashingStream, verifyDigests } from './hashing-stream.js';
import { inspectGate } from './inspect-gate.js';
import type { SlotLimiter, TransferSlotKeys } from './limiter.js';
import { resilientStream } from './resilient-stream.js';
import { fileSource } from './sources/file-source.js';
import { DEFAULT_STALL_TIMEOUT_MS, StallWatchdog } from './stall-watchdog.js';
import type {
  ByteSource,
  DiskSink,
  Hashes,
  HashName,
  ProgressLike,
  SinkResult,
  TargetFormat,
  TransferCheckpoint,
} from './types.js';
import {
  assertSafe,
  assertUploadable,
  type DiskInspection,
  INSPECT_HEAD_BYTES,
  inspectDisk,
  qemuFormatOf,
} from './vmdk.js';

/** Checkpoints at most this often: each is a journal write, and a lost half minute is cheap to redo. */
const CHECKPOINT_EVERY_MS = 30_000;

export interface TransferDiskOptions {
  source: ByteSource;
  sink: DiskSink;
  /** disk_format the sink receives. vmdk streams as is; qcow2/raw convert unless the source already is one. */
  format: TargetFormat;
  /** For messages, e.g. 'vm-42 disk 2000'. Defaults to the source description. */
  what?: string;
  /** Identity of the source content (VM moref + disk key + snapshot/changeId); staged files from another source are discarded. */
  sourceId?: string;
  /** No progress for this long on either side aborts (source: reconnect; sink: fail for retry). Default 60 s. */
  stallTimeoutMs?: number;
  /** Source reopens without progress before giving up. Default 5. */
  maxReconnects?: number;
  /**
   * Hashes computed here and compared with what the sink reports: md5 with Glance's `checksum`,
   * sha512 (or sha256) with its os_hash_value; [] when the sink computes them itself or the size
   * check is enough. Required: the caller's setting (the plan's uploadHashes) is the only default.
   */
  hashes: HashName[];
  /** Hash on a worker thread; default: when there are more than 2 CPUs (see hashingStream). */
  hashWorker?: boolean;
  /** Where converted images are staged (qcow2/raw). Required for conversion. */
  workDir?: string;
  qemuImg?: string;
  /** Keep the converted file after a successful upload. */
  keepStaged?: boolean;
  /** ctx.checkpoint / ctx.lastCheckpoint of the calling step. */
  checkpoint?: (c: TransferCheckpoint) => void;
  lastCheckpoint?: unknown;
  /** How often to checkpoint upload progress (ms). Default CHECKPOINT_EVERY_MS. */
  checkpointEveryMs?: number;
  progress?: ProgressLike;
  /** Bytes read from the source so far, at most 4 times a second: feed the export lease's progress. */
  onBytes?: (done: number, total: number | undefined) => void;
  /** Journal events (reconnects, restarts). */
  onEvent?: (type: string, data: Record<string, unknown>) => void;
  limiter?: SlotLimiter;
  /** Limiter keys; default: the source's host and the sink description. */
  limiterKeys?: TransferSlotKeys;
  signal: AbortSignal;
}

export interface TransferDiskResult {
  route: 'stream' | 'convert';
  format: TargetFormat;
  /** The source as inspected. */
  inspection: DiskInspection;
  /** Bytes the sink received and their hashes. */
  bytes: number;
  hashes: Hashes;
  sink: SinkResult;
  /** Source reopens that healed drops or stalls. */
  reconnects: number;
  /** Peak local disk space used (staged/converted files). */
  localBytes: number;
  durationMs: number;
}

function parseCheckpoint(c: unknown): TransferCheckpoint | undefined {
  if (!c || typeof c !== 'object') return undefined;
  const x = c as Partial<TransferCheckpoint>;
  if (x.v !== 1 || typeof x.phase !== 'string' || typeof x.bytes !== 'number') return undefined;
  return x as TransferCheckpoint;
}

function hostOf(description: string): string {
  try {
    return new URL(description).host;
  } catch {
    return description;
  }
}

export async function transferDisk(o: TransferDiskOptions): Promise<TransferDiskResult> {
  if (!o.limiter) return doTransfer(o);
  const keys = o.limiterKeys ?? { source: hostOf(o.source.description), target: o.sink.description };
  return o.limiter.run(keys, () => doTransfer(o), o.signal);
}

async function readHead(o: TransferDiskOptions): Promise<Buffer> {
  const stream = resilientStream(o.source, {
    stallTimeoutMs: o.stallTimeoutMs,
    maxReconnects: o.maxReconnects,
    signal: o.signal,
  });
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream) {
      parts.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= INSPECT_HEAD_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, INSPECT_HEAD_BYTES);
}

async function doTransfer(o: TransferDiskOptions): Promise<TransferDiskResult> {
  const started = Date.now();
  const what = o.what ?? o.source.description;
  const last = parseCheckpoint(o.lastCheckpoint);
  const sourceId = o.sourceId ?? o.source.description;
  if (last?.phase === 'upload' && last.bytes > 0) {
    // Glance cannot append to an upload: the previous attempt's bytes are gone, start over.
    o.onEvent?.('transfer.restart', { what, previousBytes: last.bytes, reason: 'uploads cannot resume' });
  }

  if (o.format === 'vmdk') {
    const r = await streamToSink(o, o.source, what, (i) => assertUploadable(i, 'vmdk', what));
    return { ...r, route: 'stream', localBytes: 0, durationMs: Date.now() - started };
  }

  // qcow2/raw: a source already in that format streams as is; anything else goes through qemu-img.
  if (!o.workDir) throw new NonRetryableError(`transferDisk: workDir is required to convert to ${o.format}`);
  await mkdir(o.workDir, { recursive: true });
  const base = join(o.workDir, safeName(sourceId));
  const outPath = `${base}.${o.format}`;
  let localBytes = 0;
  let converted: ByteSource | undefined;
  let inspection: DiskInspection | undefined;

  if (last?.phase === 'convert' && last.sourceId === sourceId && last.stagedPath === outPath) {
    const size = await stat(outPath).then(
      (s) => s.size,
      () => -1,
    );
    if (size === last.bytes) {
      o.onEvent?.('transfer.resume', { what, from: 'converted file', path: outPath });
      converted = await fileSource(outPath);
      localBytes = size;
    }
  }

  if (!converted) {
    const head = await readHead(o);
    inspection = inspectDisk(head);
    assertSafe(inspection, what);
    if (inspection.format === o.format) {
      const r = await streamToSink(o, o.source, what, (i) => assertUploadable(i, o.format, what));
      return { ...r, route: 'stream', localBytes: 0, durationMs: Date.now() - started };
    }
    let input = o.source;
    const stagedSrc = `${base}.source`;
    if (!o.source.supportsRange) {
      // qemu-img reads at random; a source that cannot seek has to be staged first.
      const resumeFrom = last?.phase === 'stage' && last.sourceId === sourceId ? last.bytes : 0;
      let lastSaved = Date.now();
      const bytes = await downloadToFile(o.source, stagedSrc, {
        resumeFrom,
        stallTimeoutMs: o.stallTimeoutMs,
        maxReconnects: o.maxReconnects,
        signal: o.signal,
        onProgress: (b) => {
          report(o, b, o.source.size, 'staging');
          if (Date.now() - lastSaved > (o.checkpointEveryMs ?? CHECKPOINT_EVERY_MS)) {
            lastSaved = Date.now();
            o.checkpoint?.({ v: 1, phase: 'stage', bytes: b, stagedPath: stagedSrc, sourceId });
          }
        },
      });
      localBytes += bytes;
      input = await fileSource(stagedSrc);
    }
    const part = `${outPath}.part`;
    try {
      await convertStream({
        source: input,
        inputFormat: qemuFormatOf(inspection),
        outputFormat: o.format,
        outPath: part,
        qemuImg: o.qemuImg,
        stallTimeoutMs: o.stallTimeoutMs,
        maxReconnects: o.maxReconnects,
        signal: o.signal,
        onProgress: (off) => report(o, off, input.size, `converting to ${o.format}`),
      });
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    } finally {
      if (input !== o.source) await rm(stagedSrc, { force: true });
    }
    await rename(part, outPath);
    const size = (await stat(outPath)).size;
    localBytes += size;
    o.checkpoint?.({ v: 1, phase: 'convert', bytes: size, stagedPath: outPath, sourceId });
    converted = await fileSource(outPath);
  }

  const r = await streamToSink(o, converted, what, (i) =>
    assertUploadable(i, o.format, `${what} (converted)`),
  );
  if (!o.keepStaged) await rm(outPath, { force: true });
  return {
    ...r,
    inspection: inspection ?? r.inspection,
    route: 'convert',
    localBytes,
    durationMs: Date.now() - started,
  };
}

function safeName(id: string): string {
  return id.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'disk';
}

const lastReport = new WeakMap<TransferDiskOptions, number>();
function report(o: TransferDiskOptions, done: number, total: number | undefined, message?: string): void {
  const now = Date.now();
  if (now - (lastReport.get(o) ?? 0) < 250 && done !== total) return;
  lastReport.set(o, now);
  o.progress?.update({ done, total, unit: 'bytes', message });
  o.onBytes?.(done, total);
}

/** Stream `src` through the format gate, the hashes and the sink stall watchdog into the sink. */
async function streamToSink(
  o: TransferDiskOptions,
  src: ByteSource,
  what: string,
  check: (i: DiskInspection) => void,
): Promise<Omit<TransferDiskResult, 'route' | 'localBytes' | 'durationMs'>> {
  const stallTimeoutMs = o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const ac = new AbortController();
  const onOuter = () => ac.abort(o.signal.reason);
  if (o.signal.aborted) throw new InterruptedError('transfer aborted', { cause: o.signal.reason });
  o.signal.addEventListener('abort', onOuter, { once: true });

  let lastSaved = Date.now();
  const rs = resilientStream(src, {
    stallTimeoutMs,
    maxReconnects: o.maxReconnects,
    signal: ac.signal,
    onProgress: (off) => {
      report(o, off, src.size);
      if (o.checkpoint && Date.now() - lastSaved > (o.checkpointEveryMs ?? CHECKPOINT_EVERY_MS)) {
        lastSaved = Date.now();
        o.checkpoint({ v: 1, phase: 'upload', bytes: off, total: src.size });
      }
    },
    onReconnect: ({ offset, attempt, cause }) =>
      o.onEvent?.('transfer.reconnect', {
        what,
        offset,
        attempt,
        cause: cause instanceof Error ? cause.message : String(cause),
      }),
  });
  const gate = inspectGate(check);
  const hash = hashingStream(o.hashes, { worker: o.hashWorker });
  // The sink is only to blame when the source is not the one keeping it waiting.
  const dog = new StallWatchdog(
    stallTimeoutMs,
    () => ac.abort(new TransferStallError('sink', stallTimeoutMs, rs.offset)),
    Date.now,
    () => rs.waitingOnSource,
  );
  const meter = new Transform({
    highWaterMark: 1024 * 1024,
    transform(c: Buffer, _e, cb) {
      dog.touch();
      cb(null, c);
    },
  });
  let streamError: unknown;
  const body: Readable = pipeline(rs, gate, hash, meter, (err) => {
    if (err && !streamError) {
      streamError = err;
      // A sink that ignores a broken body would wait forever; abort it.
      ac.abort(err);
    }
  });
  try {
    const sink = await o.sink.write(body, { size: src.size, format: o.format, signal: ac.signal });
    if (streamError) throw streamError;
    const hashes = await hash.done;
    if (src.size !== undefined && hash.bytes !== src.size) {
      throw new SourceInterruptedError(
        `${what}: ${o.sink.description} took ${hash.bytes} bytes of ${src.size}`,
        hash.bytes,
      );
    }
    if (sink.storedBytes !== undefined && sink.storedBytes !== hash.bytes) {
      throw new ChecksumMismatchError(
        `${what}: sent ${hash.bytes} bytes, ${o.sink.description} stored ${sink.storedBytes}`,
        {
          hint: 'Delete the image and run the step again.',
        },
      );
    }
    verifyDigests(hashes, sink, what);
    report(o, rs.offset, src.size);
    return {
      format: o.format,
      inspection: gate.inspection!,
      bytes: hash.bytes,
      hashes,
      sink,
      reconnects: rs.reconnects,
    };
  } catch (err) {
    body.destroy();
    if (o.signal.aborted) throw new InterruptedError('transfer aborted', { cause: o.signal.reason });
    const reason = ac.signal.reason;
    if (reason instanceof TransferStallError) throw reason;
    throw streamError ?? err;
  } finally {
    dog.stop();
    o.signal.removeEventListener('abort', onOuter);
  }
}
