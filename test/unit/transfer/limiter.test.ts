import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSFER_LIMITS, Semaphore, TransferLimiter } from '../../../src/transfer/limiter.js';

/** Run jobs through the limiter and record the highest concurrency seen per key. */
async function runJobs(l: TransferLimiter, jobs: { source: string; target: string }[]) {
  const peak = { overall: 0, source: {} as Record<string, number>, target: {} as Record<string, number> };
  const order: number[] = [];
  await Promise.all(
    jobs.map((k, i) =>
      l.run(k, async () => {
        const s = l.stats();
        peak.overall = Math.max(peak.overall, s.overall);
        for (const [key, n] of Object.entries(s.source))
          peak.source[key] = Math.max(peak.source[key] ?? 0, n);
        for (const [key, n] of Object.entries(s.target))
          peak.target[key] = Math.max(peak.target[key] ?? 0, n);
        await sleep(20);
        order.push(i);
      }),
    ),
  );
  return { peak, order };
}

describe('TransferLimiter', () => {
  it('holds per-source, per-target and overall limits', async () => {
    const l = new TransferLimiter({ overall: 3, perSource: 2, perTarget: 2 });
    const jobs = [
      ...Array.from({ length: 4 }, () => ({ source: 'esx1', target: 'glance' })),
      ...Array.from({ length: 4 }, () => ({ source: 'esx2', target: 'cinder' })),
    ];
    const { peak, order } = await runJobs(l, jobs);
    expect(order).toHaveLength(8);
    expect(peak.overall).toBe(3);
    expect(peak.source).toEqual({ esx1: 2, esx2: 2 });
    expect(peak.target).toEqual({ glance: 2, cinder: 2 });
    expect(l.stats().overall).toBe(0);
  });

  it('uses the documented defaults and releases slots when a job fails', async () => {
    const l = new TransferLimiter();
    expect(l.limits).toEqual(DEFAULT_TRANSFER_LIMITS);
    await expect(
      l.run({ source: 'a', target: 'b' }, async () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(l.stats()).toEqual({ overall: 0, source: { a: 0 }, target: { b: 0 } });
  });

  it('a waiter leaves the queue when its signal aborts', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    expect(s.pending).toBe(1);
    ac.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    expect(s.pending).toBe(0);
    s.release();
    expect(s.active).toBe(0);
  });
});
