// One Readable over a ByteSource that heals itself: when the source stalls (no bytes for
// stallTimeoutMs) or the connection drops, it reopens the source at the byte offset already delivered
// (HTTP Range), so the consumer (the Glance PUT) never notices. Without Range support it fails with a
// retryable SourceInterruptedError and the step's retry policy restarts the copy.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../errors.js';
import { SourceInterruptedError, TransferStallError } from './errors.js';
import { StallWatchdog } from './stall-watchdog.js';
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
  /** Called after each chunk with the absolute offset delivered so far. */
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

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export function resilientStream(source: ByteSource, opts: ResilientStreamOptions = {}): ResilientReadable {
  const stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const maxReconnects = opts.maxReconnects ?? 5;
  const baseDelay = opts.reconnectDelayMs ?? 500;
  const outer = opts.signal;
  const state = { offset: opts.startOffset ?? 0, reconnects: 0, waiting: false };

  if (state.offset > 0 && !source.supportsRange) {
    throw new SourceInterruptedError(
      `${source.description} cannot resume at byte ${state.offset}: no Range`,
      0,
    );
  }

  async function* chunks(): AsyncGenerator<Buffer> {
    let consecutive = 0;
    for (;;) {
      if (outer?.aborted) throw new InterruptedError('transfer aborted', { cause: outer.reason });
      if (source.size !== undefined && state.offset >= source.size) return;
      // One controller per connection: aborting it (stall, consumer gone) tears the socket down.
      const conn = new AbortController();
      const onOuterAbort = () => conn.abort(outer?.reason);
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      let stalled = false;
      const dog = new StallWatchdog(stallTimeoutMs, () => {
        stalled = true;
        conn.abort(new TransferStallError('source', stallTimeoutMs, state.offset));
      });
      const startedAt = state.offset;
      let cause: unknown;
      let upstream: Readable | undefined;
      try {
        state.waiting = true;
        upstream = await source.open(state.offset, conn.signal);
        dog.touch();
        // Our abort must end the iteration even when a source forgets to honour its signal.
        const up = upstream;
        conn.signal.addEventListener('abort', () => up.destroy(conn.signal.reason as Error), { once: true });
        for await (const chunk of upstream) {
          state.waiting = false;
          dog.disarm(); // the consumer's pace is not the source's fault
          const buf = chunk as Buffer;
          state.offset += buf.length;
          opts.onProgress?.(state.offset);
          yield buf;
          dog.arm();
          state.waiting = true;
        }
        state.waiting = false;
        if (source.size === undefined || state.offset === source.size) return;
        if (state.offset > source.size) {
          throw new SourceInterruptedError(
            `${source.description} sent ${state.offset - source.size} bytes more than its size ${source.size}`,
            state.offset,
          );
        }
        cause = new Error(`${source.description} ended at byte ${state.offset} of ${source.size}`);
      } catch (err) {
        if (err instanceof SourceInterruptedError) throw err;
        if (outer?.aborted) throw new InterruptedError('transfer aborted', { cause: outer.reason });
        cause = stalled
          ? new TransferStallError('source', stallTimeoutMs, state.offset, { cause: err })
          : err;
      } finally {
        state.waiting = false;
        dog.stop();
        outer?.removeEventListener('abort', onOuterAbort);
        upstream?.destroy();
      }
      consecutive = state.offset > startedAt ? 1 : consecutive + 1;
      if (!source.supportsRange) {
        throw new SourceInterruptedError(
          `${source.description} was interrupted at byte ${state.offset} and cannot be resumed (no Range support)`,
          state.offset,
          { cause },
        );
      }
      if (consecutive > maxReconnects) {
        if (cause instanceof TransferStallError) throw cause;
        throw new SourceInterruptedError(
          `${source.description}: gave up at byte ${state.offset} after ${maxReconnects} reconnects without progress`,
          state.offset,
          { cause },
        );
      }
      state.reconnects++;
      opts.onReconnect?.({ offset: state.offset, attempt: state.reconnects, cause });
      const delay = Math.min(30_000, baseDelay * 2 ** (consecutive - 1));
      try {
        await sleep(delay, undefined, { signal: outer });
      } catch {
        throw new InterruptedError('transfer aborted', { cause: outer?.reason });
      }
    }
  }

  const readable = Readable.from(chunks(), {
    objectMode: false,
    highWaterMark: opts.highWaterMark ?? 1024 * 1024,
  }) as ResilientReadable;
  Object.defineProperties(readable, {
    offset: { get: () => state.offset },
    reconnects: { get: () => state.reconnects },
    waitingOnSource: { get: () => state.waiting },
  });
  return readable;
}
