import { describe, expect, it } from 'vitest';
import { WorkflowRegistry } from '../../../src/engine/registry.js';
import {
  DEFAULT_RETRY_POLICY,
  isRetryable,
  resolveRetryPolicy,
  retryDelay,
} from '../../../src/engine/retry.js';
import { InterruptedError } from '../../../src/errors.js';

describe('retry policy as data', () => {
  it('defaults: 3 attempts, 1 s doubling, capped at 30 s', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      attempts: 3,
      initialDelayMs: 1_000,
      backoff: 2,
      maxDelayMs: 30_000,
    });
    const p = resolveRetryPolicy({ initialDelayMs: 10_000 });
    expect([1, 2, 3, 4].map((n) => retryDelay(p, n))).toEqual([10_000, 20_000, 30_000, 30_000]);
    expect(resolveRetryPolicy({ attempts: 0 }).attempts).toBe(1);
  });

  it('never retries an interrupt, and follows the cause chain for listed names', () => {
    const p = resolveRetryPolicy({ nonRetryable: ['OverQuota'] });
    expect(isRetryable(p, new InterruptedError())).toBe(false);
    const inner = Object.assign(new Error('quota'), { name: 'OverQuota' });
    expect(isRetryable(p, new Error('upload failed', { cause: inner }))).toBe(false);
    expect(isRetryable(p, new Error('flaky network'))).toBe(true);
  });
});

describe('workflow registry', () => {
  it('refuses duplicate step ids and unknown names', () => {
    const step = { id: 'a', title: 'a', run: async () => 1 };
    expect(
      () => new WorkflowRegistry([{ name: 'w', version: 1, description: '', steps: [step, step] }]),
    ).toThrow(/step id a appears twice/);
    expect(() => new WorkflowRegistry().get('nope')).toThrow(/unknown workflow 'nope'/);
  });
});
