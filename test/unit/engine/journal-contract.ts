// The Journal contract as one suite, run against SQLite (journal-contract.test.ts) and
// PostgreSQL (test/integration/engine/journal-postgres.test.ts): leases, fencing, database time,
// affinity and ordering behave the same on both.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseHeldError, LeaseLostError } from '../../../src/engine/errors.js';
import type { Journal } from '../../../src/engine/journal/types.js';

export interface ContractBackend {
  /** Two journals on one fresh database (two hosts' view of it). */
  open(): Promise<{ a: Journal; b: Journal; close(): Promise<void> }>;
  /** Lets the journal's clock pass `ms` (SQLite: a fake clock; PostgreSQL: real sleep). */
  pass(ms: number): Promise<void>;
  /** A lease this short expires within the test (PostgreSQL needs real time to pass). */
  shortTtlMs: number;
}

const newRun = (j: Journal) =>
  j.createRun({ workflow: 'w', workflowVersion: 1, subject: 's', params: {}, stepIds: ['a', 'b'], at: 1 });
const hostA = { pid: 111, host: 'host-a', worker: 'wa' };
const hostB = { pid: 222, host: 'host-b', worker: 'wb' };
const alive = () => true;

export function journalContract(name: string, backend: ContractBackend): void {
  describe(`journal contract (${name})`, () => {
    let env: Awaited<ReturnType<ContractBackend['open']>> | undefined;
    afterEach(async () => {
      vi.restoreAllMocks();
      await env?.close();
      env = undefined;
    });

    it('two journals racing for one lease: exactly one wins, the other is told who holds it', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const results = await Promise.allSettled([
        env.a.acquireLease(run.id, hostA, 60_000, alive),
        env.b.acquireLease(run.id, hostB, 60_000, alive),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(LeaseHeldError);
      const holder = (await env.a.getLease(run.id))!;
      expect(lost[0].reason.message).toContain(
        `pid ${holder.pid} on host ${holder.host} (worker ${holder.worker})`,
      );
    });

    it('a fenced write after a takeover is refused and writes nothing; the new holder writes', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const old = await env.a.acquireLease(run.id, hostA, backend.shortTtlMs, alive);
      await env.a.fenced(old).stepAttemptStarted(run.id, 'a', 2, 1);
      await backend.pass(backend.shortTtlMs + 200);
      const taken = await env.b.acquireLease(run.id, hostB, 60_000, alive);
      expect(taken.token).toBeGreaterThan(old.token);
      const before = { steps: await env.a.getSteps(run.id), events: await env.a.events(run.id) };
      const stale = env.a.fenced(old);
      await expect(stale.stepSucceeded(run.id, 'a', 3, { done: true })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      await expect(stale.checkpoint(run.id, 'a', 3, { bytes: 1 })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(stale.appendEvent(run.id, 3, 'x')).rejects.toBeInstanceOf(LeaseLostError);
      await expect(stale.setRunState(run.id, 'failed', 3)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await stale.heartbeat(60_000)).toBe(false);
      await stale.releaseLease(); // not ours: leaves the new holder's lease alone
      expect(await env.a.getSteps(run.id)).toEqual(before.steps);
      expect(await env.a.events(run.id)).toEqual(before.events);
      expect(await env.a.lastCheckpoint(run.id, 'a')).toBeUndefined();
      expect((await env.a.getLease(run.id))?.token).toBe(taken.token);
      const types = before.events.map((e) => e.type);
      expect(types).toContain('lease.taken-over');
      await env.b.fenced(taken).stepSucceeded(run.id, 'a', 4, { done: true });
      expect((await env.a.getStep(run.id, 'a'))?.state).toBe('succeeded');
    });

    it('an expired lease refuses fenced writes and renewals even before anyone takes it over', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const f = await env.a.acquireLease(run.id, hostA, backend.shortTtlMs, alive);
      expect(await env.a.heartbeat(f, backend.shortTtlMs)).toBe(true);
      await backend.pass(backend.shortTtlMs + 200);
      expect(await env.a.heartbeat(f, 60_000)).toBe(false);
      await expect(env.a.fenced(f).appendEvent(run.id, 5, 'late')).rejects.toBeInstanceOf(LeaseLostError);
      expect((await env.a.events(run.id)).map((e) => e.type)).toEqual(['run.created']);
    });

    it("lease times come from the journal's clock, not the caller's", async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const skewed = Date.UTC(2001, 0, 1);
      vi.spyOn(Date, 'now').mockReturnValue(skewed); // a worker whose clock is years off
      const dbNow = await env.a.now();
      await env.a.acquireLease(run.id, hostA, 60_000, alive);
      const lease = (await env.a.getLease(run.id))!;
      expect(Math.abs(lease.acquiredAt - dbNow)).toBeLessThan(5_000);
      expect(Math.abs(lease.acquiredAt - skewed)).toBeGreaterThan(86_400_000);
      expect(lease.expiresAt - lease.acquiredAt).toBe(60_000);
      // The other host sees it live by the database's clock, whatever its own says.
      await expect(env.b.acquireLease(run.id, hostB, 60_000, alive)).rejects.toBeInstanceOf(LeaseHeldError);
    });

    it('tokens only grow: a released and re-taken lease has a new token, the old fence stays dead', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const first = await env.a.acquireLease(run.id, hostA, 60_000, alive);
      await env.a.releaseLease(first);
      expect(await env.a.getLease(run.id)).toBeUndefined();
      const second = await env.b.acquireLease(run.id, hostB, 60_000, alive);
      expect(second.token).toBeGreaterThan(first.token);
      await expect(env.a.fenced(first).ensureSteps(run.id, ['a', 'b', 'c'])).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      expect((await env.a.getSteps(run.id)).map((s) => s.stepId)).toEqual(['a', 'b']);
    });

    it('affinity: the driver pins the run under its fence, an operator moves it unfenced', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const f = await env.a.acquireLease(run.id, hostA, 60_000, alive);
      await env.a.fenced(f).setAffinity('wa');
      expect((await env.b.getRun(run.id))?.affinity).toBe('wa');
      await env.b.setAffinity(run.id, 'wb'); // `v2o reassign`
      expect((await env.a.getRun(run.id))?.affinity).toBe('wb');
      await env.b.setAffinity(run.id, null);
      expect((await env.a.getRun(run.id))?.affinity).toBeUndefined();
    });

    it('writes from two hosts at once keep one gap-free event sequence', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const f = await env.a.acquireLease(run.id, hostA, 60_000, alive);
      const fj = env.a.fenced(f);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 ? fj.appendEvent(run.id, i, 'driver', 'a') : env!.b.approveStep(run.id, 'b', i, 'ops'),
        ),
      );
      const seqs = (await env.a.events(run.id)).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    });

    it('the same records on both backends: runs, steps, checkpoints, waits, approvals', async () => {
      env = await backend.open();
      const run = await newRun(env.a);
      const f = await env.a.acquireLease(run.id, hostA, 60_000, alive);
      const fj = env.a.fenced(f);
      await fj.stepAttemptStarted(run.id, 'a', 10, 1);
      await fj.checkpoint(run.id, 'a', 11, { bytes: 1 });
      await fj.checkpoint(run.id, 'a', 12, { bytes: 2 });
      expect(await env.b.lastCheckpoint(run.id, 'a')).toEqual({ bytes: 2 });
      await fj.stepWaiting(run.id, 'a', 13, 'next pass', 1_000);
      expect(await env.b.getRun(run.id)).toMatchObject({ state: 'waiting', wakeAt: 1_000 });
      await env.b.approveStep(run.id, 'b', 14, 'ops', 500);
      expect(await env.b.getStep(run.id, 'a')).toMatchObject({ state: 'waiting', wakeAt: 500 });
      expect(await env.b.getStep(run.id, 'b')).toMatchObject({ approvedBy: 'ops', approvalNotBefore: 500 });
      await fj.stepSucceeded(run.id, 'a', 15, { out: [1, 'x'] });
      await fj.setRunState(run.id, 'failed', 16, new Error('boom'));
      expect(await env.b.getRun(run.id)).toMatchObject({
        state: 'failed',
        finishedAt: 16,
        error: { name: 'Error' },
      });
      expect(await env.b.getStep(run.id, 'a')).toMatchObject({
        state: 'succeeded',
        output: { out: [1, 'x'] },
      });
      expect((await env.b.events(run.id)).map((e) => e.type)).toEqual([
        'run.created',
        'step.started',
        'step.waiting',
        'step.approved',
        'step.succeeded',
        'run.failed',
      ]);
      expect((await env.b.listRuns(5)).map((r) => r.id)).toEqual([run.id]);
      expect((await env.b.runsInState(['failed', 'running'])).map((r) => r.id)).toEqual([run.id]);
      expect(await env.b.runsInState(['pending'])).toEqual([]);
      expect(await env.b.countRunsByState()).toEqual({ failed: 1 });
    });
  });
}
