import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { PlainProgress } from '../../../src/cli/progress/plain-progress.js';
import { approveRun } from '../../../src/engine/approve.js';
import {
  LeaseHeldError,
  RunParamsError,
  RunStateError,
  WorkflowVersionMismatchError,
} from '../../../src/engine/errors.js';
import type { StepDefinition, WorkflowDefinition } from '../../../src/engine/types.js';
import { ConfigError, ExitCode, NonRetryableError } from '../../../src/errors.js';
import { type Kit, kit, until } from './helpers.js';

let k: Kit;
afterEach(() => k?.journal.close());

const wf = (steps: StepDefinition<unknown, unknown, unknown>[], version = 1): WorkflowDefinition => ({
  name: 'test',
  version,
  description: 'test workflow',
  steps,
});
const ok = (
  id: string,
  calls: string[],
  out: unknown = { id },
): StepDefinition<unknown, unknown, unknown> => ({
  id,
  title: id,
  run: async () => {
    calls.push(id);
    return out;
  },
});
const successes = async (k: Kit, runId: string) =>
  (await k.journal.events(runId)).filter((e) => e.type === 'step.succeeded').map((e) => e.stepId);

describe('runner', () => {
  it('runs steps in order, commits each output with its success, and passes outputs on', async () => {
    k = kit();
    const calls: string[] = [];
    let seen: unknown;
    const w = wf([
      ok('a', calls, { disk: 42 }),
      {
        id: 'b',
        title: 'b',
        run: async (ctx) => {
          seen = ctx.outputOf('a');
          calls.push('b');
          return null;
        },
      },
    ]);
    const out = await k.runner([w]).start(w, { x: 1 }, 'vm-1');
    expect(out).toMatchObject({ state: 'succeeded', exitCode: ExitCode.ok });
    expect(calls).toEqual(['a', 'b']);
    expect(seen).toEqual({ disk: 42 });
    expect(await k.journal.getStep(out.runId, 'a')).toMatchObject({
      state: 'succeeded',
      output: { disk: 42 },
      attempts: 1,
    });
    expect(await k.journal.requireRun(out.runId)).toMatchObject({
      state: 'succeeded',
      subject: 'vm-1',
      params: { x: 1 },
    });
    expect(await k.journal.getLease(out.runId)).toBeUndefined();
  });

  it('retries with exponential backoff on the injected clock, capped at maxDelayMs', async () => {
    k = kit();
    let n = 0;
    const w = wf([
      {
        id: 'flaky',
        title: 'flaky',
        retry: { attempts: 5, initialDelayMs: 1_000, backoff: 2, maxDelayMs: 3_000 },
        run: async () => {
          if (++n <= 3) throw new Error(`boom ${n}`);
          return n;
        },
      },
    ]);
    const t0 = k.clock.now();
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('succeeded');
    expect(k.clock.sleeps).toEqual([1_000, 2_000, 3_000]);
    expect(k.clock.now() - t0).toBe(6_000);
    expect(await k.journal.getStep(out.runId, 'flaky')).toMatchObject({ attempts: 4, output: 4 });
    expect((await k.journal.events(out.runId)).filter((e) => e.type === 'step.retrying')).toHaveLength(3);
  });

  it('fails the run when the attempts run out', async () => {
    k = kit();
    const w = wf([
      {
        id: 'bad',
        title: 'bad',
        retry: { attempts: 3, initialDelayMs: 10 },
        run: async () => {
          throw new Error('always');
        },
      },
    ]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out).toMatchObject({ state: 'failed', exitCode: ExitCode.failed, stepId: 'bad' });
    expect(await k.journal.getStep(out.runId, 'bad')).toMatchObject({
      state: 'failed',
      attempts: 3,
      error: { message: 'always' },
    });
    expect((await k.journal.requireRun(out.runId)).error?.message).toBe('always');
  });

  it.each([
    ['NonRetryableError', () => new NonRetryableError('no')],
    ['ConfigError', () => new ConfigError('bad flag')],
    [
      'a name listed in the policy',
      () => Object.assign(new Error('quota'), { name: 'QuotaExceeded' }) as Error,
    ],
  ])('fails at once on %s', async (_label, make) => {
    k = kit();
    let n = 0;
    const w = wf([
      {
        id: 'x',
        title: 'x',
        retry: { attempts: 5, initialDelayMs: 10, nonRetryable: ['QuotaExceeded'] },
        run: async () => {
          n++;
          throw make();
        },
      },
    ]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('failed');
    expect(n).toBe(1);
    expect(k.clock.sleeps).toEqual([]);
  });

  it('aborts an attempt at its timeout and retries it', async () => {
    k = kit();
    let n = 0;
    const w = wf([
      {
        id: 'slow',
        title: 'slow',
        timeoutMs: 20,
        retry: { attempts: 2, initialDelayMs: 1 },
        // Ignores its signal on purpose: the runner must not wait for it.
        run: () => {
          n++;
          return new Promise(() => {});
        },
      },
    ]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('failed');
    expect(out.error?.name).toBe('StepTimeoutError');
    expect(n).toBe(2);
  });

  it('stops at a gate in waiting (exit 3) and continues after approve', async () => {
    k = kit();
    const calls: string[] = [];
    const w = wf([
      ok('a', calls),
      { ...ok('cut', calls), gate: () => ({ message: 'check the VM' }) },
      ok('c', calls),
    ]);
    const r = k.runner([w]);
    const first = await r.start(w, {}, 's');
    expect(first).toMatchObject({ state: 'waiting', exitCode: ExitCode.waiting, stepId: 'cut' });
    expect(first.message).toContain('check the VM');
    expect((await k.journal.requireRun(first.runId)).state).toBe('waiting');
    expect(await k.journal.getStep(first.runId, 'cut')).toMatchObject({
      state: 'waiting',
      gateMessage: 'check the VM',
    });
    expect(calls).toEqual(['a']);

    // Resume without approval changes nothing.
    const events = (await k.journal.events(first.runId)).length;
    expect((await r.resume(first.runId)).exitCode).toBe(ExitCode.waiting);
    expect(await k.journal.events(first.runId)).toHaveLength(events);

    await approveRun(k.journal, first.runId, { by: 'ops@host', at: k.clock.now() });
    expect(await k.journal.getStep(first.runId, 'cut')).toMatchObject({
      state: 'pending',
      approvedBy: 'ops@host',
    });
    const second = await r.resume(first.runId);
    expect(second.state).toBe('succeeded');
    expect(calls).toEqual(['a', 'cut', 'c']);
    expect(await successes(k, first.runId)).toEqual(['a', 'cut', 'c']);
  });

  it('cancel marks the run cancelled and resume refuses it', async () => {
    k = kit();
    const w = wf([{ ...ok('a', []), gate: () => ({ message: 'wait' }) }]);
    const r = k.runner([w]);
    const { runId } = await r.start(w, {}, 's');
    expect((await r.cancel(runId)).state).toBe('cancelled');
    expect((await k.journal.requireRun(runId)).state).toBe('cancelled');
    await expect(r.resume(runId)).rejects.toBeInstanceOf(RunStateError);
  });

  it('a cancel from elsewhere stops the runner at its next heartbeat', async () => {
    k = kit();
    const w = wf([{ id: 'long', title: 'long', run: (ctx) => ctx.sleep(60_000).then(() => 1) }]);
    const r = k.runner([w], { sleep: k.clock.sleep, heartbeatMs: 10 });
    const p = r.start(w, {}, 's');
    await until(() => k.clock.sleeps.length === 1);
    const runId = (await k.journal.listRuns())[0].id;
    await k.journal.setRunState(runId, 'cancelled', k.clock.now());
    const out = await p;
    expect(out.state).toBe('cancelled');
    expect((await k.journal.getStep(runId, 'long'))?.state).toBe('cancelled');
  });

  it('rollback runs compensations of succeeded steps in reverse order, recording each', async () => {
    k = kit();
    const undone: string[] = [];
    const comp = (id: string): StepDefinition<unknown, unknown, unknown> => ({
      ...ok(id, []),
      compensate: async (_ctx, output) => {
        undone.push(`${id}:${JSON.stringify(output)}`);
      },
    });
    const w = wf([
      comp('a'),
      ok('no-undo', []),
      comp('b'),
      comp('c'),
      { ...comp('d'), gate: () => ({ message: 'x' }) },
    ]);
    const r = k.runner([w]);
    const { runId } = await r.start(w, {}, 's'); // stops at d's gate: d never ran
    const out = await r.cancel(runId, { rollback: true });
    expect(out).toMatchObject({ state: 'cancelled', exitCode: ExitCode.ok });
    expect(undone).toEqual(['c:{"id":"c"}', 'b:{"id":"b"}', 'a:{"id":"a"}']);
    expect((await k.journal.getSteps(runId)).map((s) => s.state)).toEqual([
      'compensated',
      'succeeded',
      'compensated',
      'compensated',
      'waiting',
    ]);
    expect(
      (await k.journal.events(runId)).filter((e) => e.type === 'step.compensated').map((e) => e.stepId),
    ).toEqual(['c', 'b', 'a']);
  });

  it('rollback also undoes a step that failed part-way, from its checkpoint; steps never run are left', async () => {
    k = kit();
    const undone: string[] = [];
    const w = wf([
      { ...ok('a', []), compensate: async () => void undone.push('a') },
      {
        id: 'b',
        title: 'b',
        run: async (ctx) => {
          ctx.checkpoint({ made: 'thing-1' });
          throw new NonRetryableError('broke after making thing-1');
        },
        compensate: async (ctx, output) =>
          void undone.push(
            `b output=${JSON.stringify(output)} checkpoint=${JSON.stringify(ctx.lastCheckpoint)}`,
          ),
      },
      { ...ok('c', []), compensate: async () => void undone.push('c') },
    ]);
    const r = k.runner([w]);
    const { runId } = await r.start(w, {}, 's');
    expect((await k.journal.getSteps(runId)).map((s) => s.state)).toEqual(['succeeded', 'failed', 'pending']);
    expect((await r.cancel(runId, { rollback: true })).exitCode).toBe(ExitCode.ok);
    expect(undone).toEqual(['b output=undefined checkpoint={"made":"thing-1"}', 'a']);
    expect((await k.journal.getSteps(runId)).map((s) => s.state)).toEqual([
      'compensated',
      'compensated',
      'pending',
    ]);
  });

  it('a rollback whose services cannot be reached leaves the run cancelled and says to repeat the rollback', async () => {
    k = kit();
    const undone: string[] = [];
    let reachable = true;
    const w = {
      ...wf([{ ...ok('a', []), compensate: async () => void undone.push('a') }]),
      services: async () => {
        if (!reachable) throw new ConfigError('cannot reach the cloud');
        return {};
      },
    };
    const r = k.runner([w]);
    const { runId } = await r.start(w, {}, 's');
    reachable = false;
    const first = await r.cancel(runId, { rollback: true });
    expect(first).toMatchObject({ state: 'cancelled', exitCode: ExitCode.failed });
    expect(first.message).toContain(`v2o cancel ${runId} --rollback`);
    expect(first.message).not.toContain('resume');
    expect((await k.journal.getRun(runId))!.state).toBe('cancelled');
    expect(undone).toEqual([]);
    reachable = true;
    expect((await r.cancel(runId, { rollback: true })).exitCode).toBe(ExitCode.ok);
    expect(undone).toEqual(['a']);
  });

  it('a failed compensation stops the rollback; running it again continues where it stopped', async () => {
    k = kit();
    const undone: string[] = [];
    let failB = true;
    const w = wf([
      { ...ok('a', []), compensate: async () => void undone.push('a') },
      {
        ...ok('b', []),
        retry: { attempts: 1 },
        compensate: async () => {
          if (failB) throw new Error('cannot delete');
          undone.push('b');
        },
      },
      { ...ok('c', []), compensate: async () => void undone.push('c') },
    ]);
    const { runId } = await k.runner([w]).start(w, {}, 's');
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk).slice(9).trim()); // without the time of day
        cb();
      },
    });
    const r = k.runner([w], { observer: new PlainProgress(out) });
    const first = await r.cancel(runId, { rollback: true });
    expect(first).toMatchObject({ exitCode: ExitCode.failed, stepId: 'b' });
    expect(undone).toEqual(['c']);
    // The operator reads a rollback, not steps starting again.
    expect(lines).toEqual([
      'c: rolling back',
      'c: compensated',
      'b: rolling back',
      'b: rollback failed (cannot delete)',
    ]);
    failB = false;
    expect((await r.cancel(runId, { rollback: true })).exitCode).toBe(ExitCode.ok);
    expect(undone).toEqual(['c', 'b', 'a']);
  });

  it('interrupt: the step in flight is aborted and recorded interrupted (130); resume runs it again', async () => {
    k = kit();
    const calls: string[] = [];
    const stop = new AbortController();
    let block = true;
    const w = wf([
      ok('a', calls),
      {
        id: 'b',
        title: 'b',
        run: async (ctx) => {
          calls.push('b');
          if (block) await ctx.sleep(60_000);
          return 'b';
        },
      },
    ]);
    const p = k.runner([w], { sleep: k.clock.sleep, signal: stop.signal }).start(w, {}, 's');
    await until(() => k.clock.sleeps.length === 1);
    stop.abort();
    const out = await p;
    expect(out).toMatchObject({ exitCode: ExitCode.interrupted, stepId: 'b' });
    expect((await k.journal.getStep(out.runId, 'b'))?.state).toBe('interrupted');
    expect((await k.journal.requireRun(out.runId)).error?.name).toBe('InterruptedError');
    expect(await k.journal.getLease(out.runId)).toBeUndefined();
    block = false;
    expect((await k.runner([w]).resume(out.runId)).state).toBe('succeeded');
    expect(calls).toEqual(['a', 'b', 'b']);
    expect(await successes(k, out.runId)).toEqual(['a', 'b']);
  });

  it('a checkpoint survives a crash: the re-run after takeover sees it', async () => {
    k = kit();
    const seen: unknown[] = [];
    let crash = true;
    const w = wf([
      {
        id: 'copy',
        title: 'copy',
        run: async (ctx) => {
          seen.push(ctx.lastCheckpoint);
          ctx.checkpoint({ bytesCopied: 100 });
          ctx.checkpoint({ bytesCopied: 200 });
          if (crash) await new Promise(() => {}); // the process "dies" here: nothing more is written
          return 'copied';
        },
      },
    ]);
    // The first runner's owner is a pid that the second one will find dead.
    const ghost = { pid: 999_999, host: 'this-host' };
    void k.runner([w], { owner: ghost }).start(w, {}, 's');
    await until(() => seen.length === 1);
    const runId = (await k.journal.listRuns())[0].id;
    expect((await k.journal.getStep(runId, 'copy'))?.state).toBe('running');
    crash = false;
    const out = await k
      .runner([w], { owner: { pid: 1234, host: 'this-host' }, isAlive: (pid) => pid !== ghost.pid })
      .resume(runId);
    expect(out.state).toBe('succeeded');
    expect(seen).toEqual([undefined, { bytesCopied: 200 }]);
    const types = (await k.journal.events(runId)).map((e) => e.type);
    expect(types).toContain('lease.taken-over');
    expect(types).toContain('step.recovered');
    expect((await k.journal.getStep(runId, 'copy'))?.attempts).toBe(2);
  });

  it('one runner per run: a live holder refuses a second runner; an expired lease is taken over', async () => {
    k = kit();
    const w = wf([{ ...ok('a', []), gate: () => ({ message: 'x' }) }, ok('b', [])]);
    const { runId } = await k.runner([w]).start(w, {}, 's');
    await approveRun(k.journal, runId, { by: 'me', at: k.clock.now() });
    const holder = { pid: 4242, host: 'other-host' };
    await k.journal.acquireLease(runId, holder, 20_000, () => true);
    const before = (await k.journal.events(runId)).length;
    const err = await k
      .runner([w])
      .resume(runId)
      .catch((e) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect(err.message).toMatch(
      new RegExp(`^run ${runId} is held by pid 4242 on host other-host since \\d{4}-`),
    );
    expect(await k.journal.events(runId)).toHaveLength(before);
    k.clock.advance(20_001);
    expect((await k.runner([w]).resume(runId)).state).toBe('succeeded');
  });

  it('refuses a run whose workflow version changed, leaving the journal untouched', async () => {
    k = kit();
    const v1 = wf([{ ...ok('a', []), gate: () => ({ message: 'x' }) }]);
    const { runId } = await k.runner([v1]).start(v1, {}, 's');
    const before = JSON.stringify([
      await k.journal.requireRun(runId),
      await k.journal.getSteps(runId),
      await k.journal.events(runId),
    ]);
    const v2 = wf(v1.steps, 2);
    const err = await k
      .runner([v2])
      .resume(runId)
      .catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowVersionMismatchError);
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(
      JSON.stringify([
        await k.journal.requireRun(runId),
        await k.journal.getSteps(runId),
        await k.journal.events(runId),
      ]),
    ).toBe(before);
  });

  it('resume and rollback give the steps the params parseParams returns, and refuse params it rejects before writing', async () => {
    k = kit();
    const seen: unknown[] = [];
    const parseParams = (raw: unknown) => {
      const p = raw as { n?: unknown };
      if (typeof p.n !== 'number') throw new Error('n: missing (number)');
      return { n: p.n, parsed: true };
    };
    const step = (id: string): StepDefinition<unknown, unknown, unknown> => ({
      id,
      title: id,
      run: async (ctx) => void seen.push([id, ctx.params]),
      compensate: async (ctx) => void seen.push([`undo ${id}`, ctx.params]),
    });
    const w: WorkflowDefinition = {
      ...wf([step('a'), { ...step('b'), gate: () => ({ message: 'ok?' }) }]),
      parseParams,
    };
    const good = await k.runner([w]).start(w, { n: 1 }, 's');
    await approveRun(k.journal, good.runId, { by: 't', at: 1 });
    expect((await k.runner([w]).resume(good.runId)).state).toBe('succeeded');
    await k.runner([w]).cancel(good.runId, { rollback: true });
    expect(seen).toEqual([
      ['a', { n: 1 }], // a new run's params are used as given
      ['b', { n: 1, parsed: true }],
      ['undo b', { n: 1, parsed: true }],
      ['undo a', { n: 1, parsed: true }],
    ]);

    const bad = await k.runner([w]).start(w, { m: 1 }, 's');
    const snapshot = async () =>
      JSON.stringify([
        await k.journal.requireRun(bad.runId),
        await k.journal.getSteps(bad.runId),
        await k.journal.events(bad.runId),
      ]);
    const before = await snapshot();
    for (const act of [
      () => k.runner([w]).resume(bad.runId),
      () => k.runner([w]).cancel(bad.runId, { rollback: true }),
    ]) {
      const err = await act().catch((e) => e);
      expect(err).toBeInstanceOf(RunParamsError);
      expect(err.exitCode).toBe(ExitCode.badInput);
      expect(err.message).toBe(
        `run ${bad.runId} has params that workflow test v1 does not understand: n: missing (number)`,
      );
      expect(err.hint).toMatch(
        /made by another v2o version: finish or cancel it with that version, or `v2o cancel/,
      );
      expect(await snapshot()).toBe(before);
    }
  });

  it('skips a step whose skipIf holds, and never runs it on resume', async () => {
    k = kit();
    const calls: string[] = [];
    const w = wf([{ ...ok('a', calls), skipIf: () => true }, ok('b', calls)]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('succeeded');
    expect(calls).toEqual(['b']);
    expect((await k.journal.getStep(out.runId, 'a'))?.state).toBe('skipped');
  });
});
