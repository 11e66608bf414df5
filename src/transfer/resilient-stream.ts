// One Readable over a ByteSource that heals itself: when the source stalls (no bytes for
// stallTimeoutMs) or the connection drops, it reopens the source at the byte offset already delivered
// (HTTP Range), so the consumer (the Glance PUT) never notices. Without Range support it fails with a
// retryable SourceInterruptedError and the step's retry policy restarts the copy.
//
// Written as a plain Readable fed by 'data' events with pause/resume (what pipe() does) rather than an
// async generator: at 16 KiB TLS records the generator's promise per chunk cost more CPU than the TLS
// decryption. Chunks go on as they came: joining them into larger buffers (tried, up to 256 KiB) cost
// more in copies and garbage collection than the stages downstream saved (bench/transfer.ts, 1 GiB on
// loopback, v2o's CPU per GiB with md5: 2.9-3.5 s passing through, 4.3 s joined).
import { Readable } from 'node:stream';
import { InterruptedError } from '../errors.js';
import { SourceInterruptedError, TransferStallError } from './errors.js';
import { DEFAULT_STALL_TIMEOUT_MS, StallWatchdog } from './stall-watchdog.js';
import type { ByteSource } from './types.js';

export interface ResilientStreamOptions {
  /** No bytes from the source for this long counts as a drop. Default 60 s. */
  stallTimeoutMs?: number;
  /** Reopens allowed without any progress in between (progress resets the count). Default 5. */
  maxReconnects?: number;
  /** Delay before reopening; doubles per consecutive reconnect, capped at 30 s. Default 500 ms. */
  reconnectDelayMs?: number;
  /** Start here instead of 0 (resume of a staged copy). Needs Range when > 0. */
  startOffset?: number;
  /** Called with the absolute offset delivered so far, once per pushed buffer. */
  onProgress?: (offset: number) => void;
  /** Called before each reopen (for logs and journal events). */
  onReconnect?: (info: { offset: number; attempt: number; cause: unknown }) => void;
  signal?: AbortSignal;
  highWaterMark?: number;
}

export interface ResilientReadable extends Readable {
  /** Bytes delivered, as an absolute offset in the source. */
  readonly offset: number;
  /** Reopens done so far. */
  readonly reconnects: number;
  /** True while waiting for the source (opening it or awaiting its next chunk), false while the consumer holds us back. */
  readonly waitingOnSource: boolean;
}

interface Connection {
  ctl: AbortController;
  dog: StallWatchdog;
  up?: Readable;
  startedAt: number;
  over: boolean;
}

class Resilient extends Readable implements ResilientReadable {
  offset: number;
  reconnects = 0;
  private conn?: Connection;
  private paused = false;
  private consecutive = 0;
  private timer?: NodeJS.Timeout;
  private readonly stallTimeoutMs: number;
  private readonly onOuterAbort = () =>
    this.destroy(new InterruptedError('transfer aborted', { cause: this.o.signal?.reason }));

  constructor(
    private readonly source: ByteSource,
    private readonly o: ResilientStreamOptions,
  ) {
    super({ highWaterMark: o.highWaterMark ?? 1024 * 1024 });
    this.offset = o.startOffset ?? 0;
    this.stallTimeoutMs = o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    if (o.signal?.aborted) queueMicrotask(this.onOuterAbort);
    else o.signal?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get waitingOnSource(): boolean {
    return !this.paused && !this.readableEnded && !this.destroyed;
  }

  override _read(): void {
    this.paused = false;
    if (this.conn) {
      this.conn.dog.arm();
      this.conn.up?.resume();
    } else if (!this.timer) {
      this.connect();
    }
  }

  private connect(): void {
    this.timer = undefined;
    if (this.destroyed) return;
    if (this.source.size !== undefined && this.offset >= this.source.size) {
      this.push(null);
      return;
    }
    const c: Connection = {
      ctl: new AbortController(),
      dog: new StallWatchdog(this.stallTimeoutMs, () =>
        this.fail(c, new TransferStallError('source', this.stallTimeoutMs, this.offset)),
      ),
      startedAt: this.offset,
      over: false,
    };
    this.conn = c;
    this.source.open(this.offset, c.ctl.signal).then(
      (up) => this.attach(c, up),
      (err) => this.fail(c, err),
    );
  }

  private attach(c: Connection, up: Readable): void {
    if (c.over || this.destroyed) {
      up.destroy();
      return;
    }
    c.up = up;
    c.dog.touch();
    if (this.paused) {
      c.dog.disarm();
      up.pause();
    }
    up.on('data', (chunk: Buffer) => {
      if (c.over) return;
      c.dog.touch();
      this.offset += chunk.length;
      this.o.onProgress?.(this.offset);
      if (!this.push(chunk)) {
        // The consumer is full: stop reading, and stop blaming the source for the silence.
        this.paused = true;
        c.dog.disarm();
        up.pause();
      }
    });
    up.once('end', () => {
      if (c.over) return;
      const size = this.source.size;
      if (size !== undefined && this.offset > size) {
        this.finish(c);
        this.destroy(
          new SourceInterruptedError(
            `${this.source.description} sent ${this.offset - size} bytes more than its size ${size}`,
            this.offset,
          ),
        );
        return;
      }
      if (size === undefined || this.offset === size) {
        this.finish(c);
        this.push(null);
        return;
      }
      this.fail(c, new Error(`${this.source.description} ended at byte ${this.offset} of ${size}`));
    });
    up.once('error', (err) => this.fail(c, err));
    up.once('close', () => {
      if (!c.over && !up.readableEnded)
        this.fail(c, new Error(`${this.source.description}: connection closed`));
    });
  }

  /** Tear down a connection (idempotent). */
  private finish(c: Connection): void {
    if (c.over) return;
    c.over = true;
    c.dog.stop();
    c.ctl.abort();
    c.up?.destroy();
    if (this.conn === c) this.conn = undefined;
  }

  private fail(c: Connection, cause: unknown): void {
    if (c.over || this.destroyed) return;
    this.finish(c); // bytes received before the drop were pushed; the reopen starts after them
    if (this.o.signal?.aborted) {
      this.onOuterAbort();
      return;
    }
    this.consecutive = this.offset > c.startedAt ? 1 : this.consecutive + 1;
    if (!this.source.supportsRange) {
      this.destroy(
        new SourceInterruptedError(
          `${this.source.description} was interrupted at byte ${this.offset} and cannot be resumed (no Range support)`,
          this.offset,
          { cause },
        ),
      );
      return;
    }
    const max = this.o.maxReconnects ?? 5;
    if (this.consecutive > max) {
      this.destroy(
        cause instanceof TransferStallError
          ? cause
          : new SourceInterruptedError(
              `${this.source.description}: gave up at byte ${this.offset} after ${max} reconnects without progress`,
              this.offset,
              { cause },
            ),
      );
      return;
    }
    this.reconnects++;
    this.o.onReconnect?.({ offset: this.offset, attempt: this.reconnects, cause });
    const delay = Math.min(30_000, (this.o.reconnectDelayMs ?? 500) * 2 ** (this.consecutive - 1));
    this.timer = setTimeout(() => this.connect(), delay);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.conn) this.finish(this.conn);
    if (this.timer) clearTimeout(this.timer);
    this.o.signal?.removeEventListener('abort', this.onOuterAbort);
    cb(err);
  }
}

export function resilientStream(source: ByteSource, opts: ResilientStreamOptions = {}): ResilientReadable {
  if ((opts.startOffset ?? 0) > 0 && !source.supportsRange) {
    throw new SourceInterruptedError(
      `${source.description} cannot resume at byte ${opts.startOffset}: no Range`,
      0,
    );
  }
  return new Resilient(source, opts);
}
