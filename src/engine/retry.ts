// Retry policy as data, applied with p-retry. Delays use the injected sleep (not
// p-retry's own timer) so tests run retries on a fake clock.
import pRetry from 'p-retry';
import { ConfigError, hasCause, NonRetryableError } from '../errors.js';
import type { Sleep } from './clock.js';
import type { RetryPolicy } from './types.js';

/** What a step gets when it says nothing: 3 attempts, 1 s, 2 s (capped at 30 s). */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 3,
  initialDelayMs: 1_000,
  backoff: 2,
  maxDelayMs: 30_000,
  nonRetryable: [],
});

/** Error names that are never retried whatever the policy says. */
const ALWAYS_NON_RETRYABLE = ['NonRetryableError', 'ConfigError', 'InterruptedError'];

export function resolveRetryPolicy(p: Partial<RetryPolicy> | undefined): RetryPolicy {
  const r = { ...DEFAULT_RETRY_POLICY, ...p };
  return { ...r, attempts: Math.max(1, Math.floor(r.attempts)) };
}

/** Delay before retry number `retry` (1 = the first retry). */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, Math.round(policy.initialDelayMs * policy.backoff ** (retry - 1)));
}

export function isRetryable(policy: RetryPolicy, err: unknown): boolean {
  if (hasCause(err, NonRetryableError) || hasCause(err, ConfigError)) return false;
  const names = [...ALWAYS_NON_RETRYABLE, ...(policy.nonRetryable ?? [])];
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    if (e instanceof Error && names.includes(e.name)) return false;
    e = (e as { cause?: unknown }).cause;
  }
  return true;
}

export interface RetryHooks {
  sleep: Sleep;
  signal: AbortSignal;
  /** Called after a failed attempt that will be retried after delayMs. */
  onRetry?(err: Error, attempt: number, delayMs: number): void;
}

export function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  hooks: RetryHooks,
): Promise<T> {
  return pRetry(attempt, {
    retries: policy.attempts - 1,
    minTimeout: 0, // our sleep below does the waiting
    maxTimeout: 0,
    randomize: false,
    signal: hooks.signal,
    shouldRetry: async ({ error, attemptNumber }) => {
      if (hooks.signal.aborted || !isRetryable(policy, error)) return false;
      const delay = retryDelay(policy, attemptNumber);
      hooks.onRetry?.(error, attemptNumber, delay);
      await hooks.sleep(delay, hooks.signal);
      return true;
    },
  });
}
