// Timed waits (ctx.waitUntil), approvals for a later time (notBefore), and the journal's schema
// migration that stores them. A fake clock moves time; nothing here sleeps.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { approveRun } from '../../../src/engine/approve.js';
import { JournalTooNewError } from '../../../src/engine/errors.js';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { migrations, SCHEMA_VERSION } from '../../../src/engine/journal/sqlite-schema.js';
import type { StepDefinition, WorkflowDefinition } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import { type Kit, kit, tmpDir } from './helpers.js';

let k: Kit;
afterEach(() => k?.journal.close());

const HOUR = 3600_000;

const wf = (steps: StepDefinition<unknown, unknown, unknown>[]): WorkflowDefinition => ({
  name: 'test',
  version: 1,
  description: 'test workflow',
  steps,
});

/**
 * A precopy-like step: each run does one "pass" (checkpointed), then waits an hour, until 3 passes
 * are done or the cutover is approved and due.
 */
function passes(calls: { pass: number; seen: unknown }[]) {
  const step: StepDefinition<unknown, unknown, unknown> = {
    id: 'precopy',
    title: 'precopy',
    run: async (ctx) => {
      const last = ctx.lastCheckpoint as { pass: number } | undefined;
      const pass = (last?.pass ?? 0) + 1;
      calls.push({ pass, seen: last });
      ctx.checkpoint({ pass });
      const cut = ctx.approvalOf('cutover');
      if (pass >= 3 || (cut && (cut.notBefore ?? cut.at) <= ctx.clock.now())) return { passes: pass };
      ctx.waitUntil(ctx.clock.now() + HOUR, `pass ${pass} done; next pass`);
    },
  };
  return step;
}
const cutover = (ran: string[]): StepDefinition<unknown, unknown, unknown> => ({
  id: 'cutover',
  title: 'cutover',
  gate: () => ({ message: 'say when: v2o cutover' }),
  run: async () => {
    ran.push('cutover');
    return {};
  },
});

describe('timed waits', () => {
  it('a step that waits stops the run in waiting (exit 3) with wakeAt; its checkpoint stays; not a failure or a retry', async () => {
    k = kit();
    const calls: { pass: number; seen: unknown }[] = [];
    const w = wf([passes(calls)]);
    const t0 = k.clock.now();
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out).toMatchObject({
      state: 'waiting',
      exitCode: ExitCode.waiting,
      stepId: 'precopy',
      wakeAt: t0 + HOUR,
    });
    expect(out.message).toMatch(
      new RegExp(
        `^run ${out.runId} waits until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d) at step precopy: pass 1 done; next pass\\n  then: v2o resume ${out.runId} .*--wait`,
      ),
    );
    expect(calls).toHaveLength(1); // no retry
    expect(k.clock.sleeps).toEqual([]);
    expect(await k.journal.getStep(out.runId, 'precopy')).toMatchObject({
      state: 'waiting',
      wakeAt: t0 + HOUR,
      attempts: 1,
      error: undefined,
    });
    expect(await k.journal.requireRun(out.runId)).toMatchObject({ state: 'waiting', wakeAt: t0 + HOUR });
    expect(await k.journal.lastCheckpoint(out.runId, 'precopy')).toEqual({ pass: 1 });
    const types = (await k.journal.events(out.runId)).map((e) => e.type);
    expect(types).not.toContain('step.failed');
    expect(types).not.toContain('step.retrying');
    expect(types).toContain('step.waiting');
    expect(await k.journal.getLease(out.runId)).toBeUndefined();
  });

  it('resume before it is due exits waiting and changes nothing', async () => {
    k = kit();
    const calls: { pass: number; seen: unknown }[] = [];
    const w = wf([passes(calls)]);
    const first = await k.runner([w]).start(w, {}, 's');
    k.clock.advance(HOUR - 1);
    const before = {
      events: await k.journal.events(first.runId),
      run: await k.journal.requireRun(first.runId),
    };
    const again = await k.runner([w]).resume(first.runId);
    expect(again).toMatchObject({ state: 'waiting', exitCode: ExitCode.waiting, wakeAt: first.wakeAt });
    expect(calls).toHaveLength(1);
    expect(await k.journal.events(first.runId)).toEqual(before.events);
    expect(await k.journal.requireRun(first.runId)).toEqual(before.run);
  });

  it('resume once due runs the step again from its start with its checkpoint, and waits again', async () => {
    k = kit();
    const calls: { pass: number; seen: unknown }[] = [];
    const w = wf([passes(calls)]);
    const first = await k.runner([w]).start(w, {}, 's');
    k.clock.advance(HOUR);
    const second = await k.runner([w]).resume(first.runId);
    expect(second).toMatchObject({ state: 'waiting', wakeAt: k.clock.now() + HOUR });
    expect(calls).toEqual([
      { pass: 1, seen: undefined },
      { pass: 2, seen: { pass: 1 } },
    ]);
    k.clock.advance(HOUR);
    const third = await k.runner([w]).resume(first.runId);
    expect(third).toMatchObject({ state: 'succeeded', exitCode: ExitCode.ok });
    expect(await k.journal.getStep(first.runId, 'precopy')).toMatchObject({
      state: 'succeeded',
      output: { passes: 3 },
      wakeAt: undefined,
    });
  });

  it('an approval of another step wakes a timed wait: resume runs it at once', async () => {
    k = kit();
    const calls: { pass: number; seen: unknown }[] = [];
    const ran: string[] = [];
    const w = wf([passes(calls), cutover(ran)]);
    const first = await k.runner([w]).start(w, {}, 's');
    k.clock.advance(60_000);
    await approveRun(k.journal, first.runId, { stepId: 'cutover', by: 'ops', at: k.clock.now() });
    expect((await k.journal.getStep(first.runId, 'precopy'))?.wakeAt).toBe(k.clock.now());
    expect(await k.journal.getStep(first.runId, 'cutover')).toMatchObject({
      state: 'pending',
      approvedBy: 'ops',
    });
    const out = await k.runner([w]).resume(first.runId);
    expect(out.state).toBe('succeeded');
    expect(calls.map((c) => c.pass)).toEqual([1, 2]);
    expect(ran).toEqual(['cutover']);
  });

  it('an approval for a later time wakes a timed wait at that time when it is sooner', async () => {
    k = kit();
    const w = wf([passes([]), cutover([])]);
    const first = await k.runner([w]).start(w, {}, 's');
    const t = k.clock.now();
    await approveRun(k.journal, first.runId, {
      stepId: 'cutover',
      by: 'ops',
      at: t,
      notBefore: t + 10 * 60_000,
    });
    expect((await k.journal.getStep(first.runId, 'precopy'))?.wakeAt).toBe(t + 10 * 60_000);
    // Later than the step's own time: its time stays.
    await approveRun(k.journal, first.runId, {
      stepId: 'cutover',
      by: 'ops',
      at: t,
      notBefore: t + 5 * HOUR,
    });
    expect((await k.journal.getStep(first.runId, 'precopy'))?.wakeAt).toBe(t + 10 * 60_000);
    expect((await k.journal.getStep(first.runId, 'cutover'))?.approvalNotBefore).toBe(t + 5 * HOUR);
  });

  it('a gate approved for a later time waits on a timer, then runs when due', async () => {
    k = kit();
    const ran: string[] = [];
    const w = wf([cutover(ran)]);
    const first = await k.runner([w]).start(w, {}, 's');
    expect(first.state).toBe('waiting');
    expect(first.wakeAt).toBeUndefined();
    const t = k.clock.now();
    await approveRun(k.journal, first.runId, { by: 'ops', at: t, notBefore: t + 2 * HOUR });
    const early = await k.runner([w]).resume(first.runId);
    expect(early).toMatchObject({ state: 'waiting', exitCode: ExitCode.waiting, wakeAt: t + 2 * HOUR });
    expect(early.message).toContain('approved by ops for');
    expect(ran).toEqual([]);
    // Resumed again before it is due: nothing happens, not even an event.
    const n = (await k.journal.events(first.runId)).length;
    k.clock.advance(HOUR);
    expect((await k.runner([w]).resume(first.runId)).wakeAt).toBe(t + 2 * HOUR);
    expect(await k.journal.events(first.runId)).toHaveLength(n);
    k.clock.advance(HOUR);
    expect((await k.runner([w]).resume(first.runId)).state).toBe('succeeded');
    expect(ran).toEqual(['cutover']);
  });

  it('an approval recorded while the run is driven is seen when the runner reaches the gate', async () => {
    k = kit();
    const ran: string[] = [];
    let id = '';
    const w = wf([
      {
        id: 'copy',
        title: 'copy',
        run: async (ctx) => {
          id = ctx.runId;
          // Another process (`v2o cutover`) approves while this step runs.
          await approveRun(k.journal, ctx.runId, { stepId: 'cutover', by: 'ops', at: ctx.clock.now() });
          return {};
        },
      },
      cutover(ran),
    ]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('succeeded');
    expect(id).toBe(out.runId);
    expect(ran).toEqual(['cutover']);
  });

  it('a process that died while the woken step ran: resume takes over and runs it again with its checkpoint', async () => {
    k = kit();
    const calls: { pass: number; seen: unknown }[] = [];
    const w = wf([passes(calls)]);
    const first = await k.runner([w]).start(w, {}, 's');
    k.clock.advance(HOUR);
    // A runner (pid 999999, gone) took the run, started pass 2, checkpointed, and died.
    const host = (await import('node:os')).hostname();
    await k.journal.acquireLease(first.runId, { pid: 999_999, host }, 20_000, () => true);
    await k.journal.stepAttemptStarted(first.runId, 'precopy', k.clock.now(), 1);
    await k.journal.checkpoint(first.runId, 'precopy', k.clock.now(), { pass: 2 });
    const out = await k.runner([w], { isAlive: () => false }).resume(first.runId);
    expect(out).toMatchObject({ state: 'succeeded' }); // pass 3 was the last
    expect(calls.map((c) => c.seen)).toEqual([undefined, { pass: 2 }]);
    expect((await k.journal.events(first.runId)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['lease.taken-over', 'step.recovered']),
    );
  });

  it('a process that died right after recording the wait: resume before due still changes nothing', async () => {
    k = kit();
    const w = wf([passes([])]);
    const first = await k.runner([w]).start(w, {}, 's');
    const host = (await import('node:os')).hostname();
    // Its lease was never released (killed between the wait and the release).
    await k.journal.acquireLease(first.runId, { pid: 999_999, host }, 20_000, () => true);
    const n = (await k.journal.events(first.runId)).length;
    const out = await k.runner([w], { isAlive: () => false }).resume(first.runId);
    expect(out).toMatchObject({ state: 'waiting', wakeAt: first.wakeAt });
    expect(await k.journal.events(first.runId)).toHaveLength(n);
  });

  it('approve without --step names the timer a run waits on instead of approving it', async () => {
    k = kit();
    const w = wf([passes([])]);
    const first = await k.runner([w]).start(w, {}, 's');
    await expect(approveRun(k.journal, first.runId, { by: 'ops', at: k.clock.now() })).rejects.toThrow(
      /not waiting for approval: step precopy waits until/,
    );
  });
});

describe('journal schema 1 → 3', () => {
  it('migrates a journal written with schema 1, keeping its runs, and stores the new fields', async () => {
    const file = path.join(tmpDir(), 'journal.db');
    // A journal as the previous v2o left it: schema 1 only, one run waiting at a gate.
    const old = new Database(file);
    old.exec(migrations[0]);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO runs (id, workflow, workflow_version, subject, params, state, created_at, updated_at)
         VALUES ('r-old00001', 'test', 1, 'vm', '{}', 'waiting', 1, 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO steps (run_id, step_id, idx, state, gate_message) VALUES ('r-old00001', 'cutover', 0, 'waiting', 'go?')`,
      )
      .run();
    old.close();

    expect(SCHEMA_VERSION).toBe(3);
    const j = SqliteJournal.open(file);
    try {
      expect(await j.getStep('r-old00001', 'cutover')).toMatchObject({
        state: 'waiting',
        gateMessage: 'go?',
        wakeAt: undefined,
        approvalNotBefore: undefined,
      });
      await approveRun(j, 'r-old00001', { by: 'ops', at: 5, notBefore: 1_000 });
      expect(await j.getStep('r-old00001', 'cutover')).toMatchObject({
        state: 'pending',
        approvalNotBefore: 1_000,
      });
      await j.stepWaiting('r-old00001', 'cutover', 6, 'later', 1_000);
      expect(await j.requireRun('r-old00001')).toMatchObject({ state: 'waiting', wakeAt: 1_000 });
    } finally {
      await j.close();
    }
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });

  it('still refuses, untouched, a journal from a newer v2o', () => {
    const file = path.join(tmpDir(), 'journal.db');
    const db = new Database(file);
    db.pragma('user_version = 4');
    db.close();
    expect(() => SqliteJournal.open(file)).toThrow(JournalTooNewError);
    expect(() => SqliteJournal.open(file)).toThrow(/has schema version 4; this v2o understands up to 3/);
  });
});
