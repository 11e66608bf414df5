import { describe, expect, it } from 'vitest';
import type { Journal } from '../../../src/engine/journal/types.js';
import { bytesOfEvents, summarizeWave, waveSummary } from '../../../src/fleet/wave.js';

describe('summarizeWave', () => {
  it('counts states (pending as waiting) and sums bytes', () => {
    const runs = (
      ['succeeded', 'succeeded', 'running', 'pending', 'waiting', 'failed', 'cancelled'] as const
    ).map((state) => ({ state, createdAt: 0 }));
    const s = summarizeWave(runs, [10, 20, 30, 0, 0, 0, 0], { now: 10_000 });
    expect(s).toEqual({ done: 2, running: 1, waiting: 2, failed: 1, cancelled: 1, bytes: 60 });
  });
  it('gives an ETA from the rate so far and the planned total', () => {
    // 100 bytes in 10 s = 10 B/s; 400 left → 40 s
    const s = summarizeWave([{ state: 'running', createdAt: 1000 }], [100], {
      now: 11_000,
      plannedBytes: 500,
    });
    expect(s.etaSeconds).toBe(40);
    expect(
      summarizeWave([{ state: 'running', createdAt: 0 }], [0], { now: 5, plannedBytes: 5 }).etaSeconds,
    ).toBe(undefined);
  });
  it('gives no ETA once nothing is running or waiting (a failed run moves nothing more)', () => {
    const runs = [
      { state: 'succeeded' as const, createdAt: 0 },
      { state: 'failed' as const, createdAt: 0 },
    ];
    expect(summarizeWave(runs, [100, 0], { now: 10_000, plannedBytes: 200 }).etaSeconds).toBe(undefined);
  });
  it('reads bytes from events that carry them', () => {
    expect(
      bytesOfEvents([{ data: { bytes: 5 } }, { data: { bytes: 'x' } }, {}, { data: { bytes: 7 } }]),
    ).toBe(12);
  });
});

describe('waveSummary', () => {
  it('reads the runs and their events from the journal, skipping unknown ids, at database time', async () => {
    const runs: Record<string, { state: 'succeeded' | 'running'; createdAt: number }> = {
      'r-1': { state: 'succeeded', createdAt: 0 },
      'r-2': { state: 'running', createdAt: 0 },
    };
    const journal = {
      getRun: async (id: string) => runs[id],
      events: async (id: string) => (id === 'r-1' ? [{ data: { bytes: 300 } }] : [{ data: { bytes: 100 } }]),
      now: async () => 4000,
    } as unknown as Journal;
    const s = await waveSummary(journal, ['r-1', 'r-2', 'r-none'], { plannedBytes: 800 });
    // 400 B in 4 s = 100 B/s, 400 B left
    expect(s).toEqual({
      done: 1,
      running: 1,
      waiting: 0,
      failed: 0,
      cancelled: 0,
      bytes: 400,
      etaSeconds: 4,
    });
  });
});
