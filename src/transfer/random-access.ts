// Random reads over a ByteSource that is really a stream. qemu-img reading a streamOptimized VMDK jumps
// to the footer and grain tables once, then reads grains almost strictly forward; a sliding window plus
// forward skipping serves that from one long GET, and only real jumps reopen the source with Range.
import { InterruptedError } from '../errors.js';
import { type ResilientReadable, resilientStream } from './resilient-stream.js';
import type { ByteSource } from './types.js';

export interface RandomAccessOptions {
  stallTimeoutMs?: number;
  maxReconnects?: number;
  /** Bytes kept behind the read position for slightly out-of-order reads. Default 16 MiB. */
  windowBytes?: number;
  /** A read this far ahead is reached by reading on rather than reopening. Default 64 MiB. */
  skipAheadBytes?: number;
  signal?: AbortSignal;
}

interface Chunk {
  offset: number;
  buf: Buffer;
}

export class RandomAccessReader {
  private stream: ResilientReadable | undefined;
  private iter: AsyncIterator<Buffer> | undefined;
  private chunks: Chunk[] = [];
  private windowed = 0;
  /** Offset of the next byte the stream will yield. */
  private pos = 0;
  /** Reopens of the source (jumps), for tests and logs. */
  opens = 0;
  /** Bytes pulled from the source, including skipped and re-read ones. */
  bytesFetched = 0;
  /** Highest offset ever served: the conversion's progress. */
  highWater = 0;
  private readonly windowBytes: number;
  private readonly skipAhead: number;

  constructor(
    readonly source: ByteSource,
    private readonly opts: RandomAccessOptions = {},
  ) {
    this.windowBytes = opts.windowBytes ?? 16 * 1024 * 1024;
    this.skipAhead = opts.skipAheadBytes ?? 64 * 1024 * 1024;
  }

  get size(): number | undefined {
    return this.source.size;
  }

  private get winStart(): number {
    return this.chunks.length ? this.chunks[0]!.offset : this.pos;
  }

  private reopen(offset: number): void {
    this.close();
    this.stream = resilientStream(this.source, {
      startOffset: offset,
      stallTimeoutMs: this.opts.stallTimeoutMs,
      maxReconnects: this.opts.maxReconnects,
      signal: this.opts.signal,
    });
    this.iter = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.pos = offset;
    this.opens++;
  }

  private trim(keepFrom: number): void {
    const floor = Math.min(keepFrom, this.pos - this.windowBytes);
    while (this.chunks.length && this.chunks[0]!.offset + this.chunks[0]!.buf.length <= floor) {
      this.windowed -= this.chunks.shift()!.buf.length;
    }
  }

  /** Bytes [offset, offset+length), shorter only at the end of the source. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (this.opts.signal?.aborted) throw new InterruptedError('read aborted');
    const end = this.size === undefined ? offset + length : Math.min(offset + length, this.size);
    if (end <= offset) return Buffer.alloc(0);
    if (!this.stream || offset < this.winStart || offset > this.pos + this.skipAhead) this.reopen(offset);
    while (this.pos < end) {
      const r = await this.iter!.next();
      if (r.done) break;
      this.chunks.push({ offset: this.pos, buf: r.value });
      this.windowed += r.value.length;
      this.pos += r.value.length;
      this.bytesFetched += r.value.length;
      // Skipped bytes below `offset` need not be kept beyond the window.
      this.trim(offset);
    }
    const out = Buffer.allocUnsafe(Math.min(end, this.pos) - offset);
    for (const c of this.chunks) {
      const cEnd = c.offset + c.buf.length;
      if (cEnd <= offset || c.offset >= end) continue;
      const from = Math.max(offset, c.offset);
      const to = Math.min(end, cEnd);
      c.buf.copy(out, from - offset, from - c.offset, to - c.offset);
    }
    this.highWater = Math.max(this.highWater, offset + out.length);
    this.trim(this.pos);
    return out;
  }

  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
    this.iter = undefined;
    this.chunks = [];
    this.windowed = 0;
  }
}
