import { describe, expect, it } from 'vitest';
import type { LeaseRecord, RunRecord } from '../../../src/engine/journal/types.js';
import { requirePostgresJournal } from '../../../src/fleet/enqueue.js';
import { decideAfterDrive, decideTake, orphaned, STRANDED_AFTER_MS } from '../../../src/fleet/worker.js';

const run = (over: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r-1',
  workflow: 'example',
  workflowVersion: 1,
  subject: 'vm',
  params: {},
  state: 'pending',
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

describe('decideTake', () => {
  it('drops jobs of runs that are gone, succeeded, cancelled or failed', () => {
    expect(decideTake(undefined, 'w1', 0).kind).toBe('drop');
    for (const state of ['succeeded', 'cancelled', 'failed'] as const)
      expect(decideTake(run({ state }), 'w1', 0)).toEqual({ kind: 'drop', why: `run ${state}` });
  });
  it("forwards a run pinned to another worker to that worker's queue", () => {
    expect(decideTake(run({ affinity: 'w2' }), 'w1', 0)).toEqual({ kind: 'forward', worker: 'w2' });
    expect(decideTake(run({ affinity: 'w1' }), 'w1', 0)).toEqual({ kind: 'drive' });
  });
  it('puts back a run whose timer is not due by database time', () => {
    expect(decideTake(run({ state: 'waiting', wakeAt: 5000 }), 'w1', 4000)).toEqual({
      kind: 'later',
      startAfter: 5000,
    });
    expect(decideTake(run({ state: 'waiting', wakeAt: 5000 }), 'w1', 5000)).toEqual({ kind: 'drive' });
  });
});

describe('decideAfterDrive', () => {
  it('queues nothing for an end, a failure or a gate', () => {
    for (const state of ['succeeded', 'cancelled', 'failed', 'waiting'] as const)
      expect(decideAfterDrive({ state }, { draining: false })).toEqual({ kind: 'none' });
  });
  it('queues a timed wait with startAfter, pinned when the run has affinity', () => {
    expect(decideAfterDrive({ state: 'waiting', wakeAt: 9 }, { draining: false, affinity: 'w2' })).toEqual({
      kind: 'enqueue',
      startAfter: 9,
      worker: 'w2',
    });
  });
  it('queues a run stopped at a step boundary by a drain at once', () => {
    expect(decideAfterDrive({ state: 'running' }, { draining: true })).toEqual({ kind: 'enqueue' });
    expect(decideAfterDrive({ state: 'pending' }, { draining: true, affinity: 'w1' })).toEqual({
      kind: 'enqueue',
      worker: 'w1',
    });
  });
});

describe('orphaned', () => {
  const lease = (expiresAt: number): LeaseRecord => ({
    runId: 'x',
    pid: 1,
    host: 'h',
    token: 1,
    acquiredAt: 0,
    heartbeatAt: 0,
    expiresAt,
  });
  it('hands back running runs whose lease expired by database time or that have none', () => {
    const runs = [
      run({ id: 'a', state: 'running' }),
      run({ id: 'b', state: 'running' }),
      run({ id: 'c', state: 'running' }),
      run({ id: 'd', state: 'waiting' }),
    ];
    const leases = new Map([
      ['a', lease(100)],
      ['b', lease(101)],
      ['c', undefined],
      ['d', lease(1)],
    ]);
    expect(orphaned(runs, leases, new Set(), 100).map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('hands back a pending run left a minute with neither a lease nor a job (a lost hand-back)', () => {
    const now = 1_000_000;
    const old = now - STRANDED_AFTER_MS;
    const runs = [
      run({ id: 'stranded', state: 'pending', updatedAt: old }),
      run({ id: 'queued', state: 'pending', updatedAt: old }),
      run({ id: 'leased', state: 'pending', updatedAt: old }),
      run({ id: 'just-created', state: 'pending', updatedAt: old + 1 }),
    ];
    const leases = new Map([['leased', lease(now + 5_000)]]);
    expect(orphaned(runs, leases, new Set(['queued']), now).map((r) => r.id)).toEqual(['stranded']);
  });
});

describe('requirePostgresJournal', () => {
  it('accepts postgres URLs and refuses SQLite (a path or nothing)', () => {
    expect(requirePostgresJournal('postgresql://u@h/db')).toBe('postgresql://u@h/db');
    expect(() => requirePostgresJournal(undefined)).toThrow(/need the journal on PostgreSQL/);
    expect(() => requirePostgresJournal('/var/lib/v2o/journal.db')).toThrow(/--journal postgres/);
  });
});
