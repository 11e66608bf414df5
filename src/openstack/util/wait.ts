// Polling with a deadline and an abort signal, shared by the wait helpers.
import { InterruptedError, V2oError } from '../../errors.js';
import { defaultSleep } from '../client/http.js';
import { isStatus } from '../errors.js';

export interface WaitOptions {
  timeoutMs?: number;
  /** Poll interval; grows ×1.5 up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  /** Injected in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export class WaitTimeoutError extends V2oError {}

/**
 * Call `probe` until it returns a value (done) or throws (failed), or the deadline passes.
 * `describe` says what we were waiting for and what was seen last, for the timeout message.
 */
export async function poll<T>(
  probe: () => Promise<{ done: true; value: T } | { done: false; seen: string }>,
  what: string,
  opts: WaitOptions = {},
): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const deadline = now() + timeoutMs;
  let interval = opts.intervalMs ?? 1000;
  let seen = 'nothing yet';
  for (;;) {
    if (opts.signal?.aborted) throw new InterruptedError('interrupted', { cause: opts.signal.reason });
    const r = await probe();
    if (r.done) return r.value;
    seen = r.seen;
    if (now() >= deadline) {
      throw new WaitTimeoutError(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (last: ${seen})`,
        {
          hint: 'the cloud is slow or stuck: check the resource with the openstack CLI, then resume (or raise the timeout)',
        },
      );
    }
    await sleep(Math.min(interval, Math.max(0, deadline - now())), opts.signal);
    interval = Math.min(opts.maxIntervalMs ?? 10_000, interval * 1.5);
  }
}

/**
 * Poll `get` until the resource answers 404. `inspect` returns what it saw, or throws for a state
 * that will never end in deletion (error_deleting, ERROR).
 */
export async function waitUntilGone<T>(
  get: (signal?: AbortSignal) => Promise<T>,
  inspect: (resource: T) => string,
  what: string,
  opts: WaitOptions = {},
): Promise<void> {
  await poll<void>(
    async () => {
      try {
        return { done: false, seen: inspect(await get(opts.signal)) };
      } catch (err) {
        if (isStatus(err, 404)) return { done: true, value: undefined };
        throw err;
      }
    },
    what,
    opts,
  );
}
