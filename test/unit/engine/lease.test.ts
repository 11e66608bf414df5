// The runner's side of the lease: fenced writes, the heartbeat that stops I/O before the lease
// expires, stopAtStepBoundary (a worker's drain), affinity and write ordering. Fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../../src/engine/errors.js';
import type { Journal } from '../../../src/engine/journal/types.js';
import type { StepDefinition, WorkflowDefinition } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import { type Kit, kit, until } from './helpers.js';

let k: Kit;
afterEach(() => k?.journal.close());

const wf = (steps: StepDefinition<unknown, unknown, unknown>[]): WorkflowDefinition => ({
  name: 'test',
  version: 1,
  description: 'test workflow',
  steps,
});
const TTL = 20_000;

describe('runner and lease', () => {
  it('a heartbeat that cannot renew aborts the step before the lease expires and records nothing more', async () => {
    k = kit();
    let stepSignal: AbortSignal | undefined;
    const w = wf([
      {
        id: 'copy',
        title: 'copy',
        run: async (ctx) => {
          stepSignal = ctx.signal;
          await ctx.sleep(10 * 60_000);
        },
      },
    ]);
    // The database is gone for renewals (a partition); everything else still answers.
    const journal: Journal = Object.create(k.journal, {
      fenced: {
        value: (f: Parameters<Journal['fenced']>[0]) => ({
          ...k.journal.fenced(f),
          heartbeat: async () => {
            throw new Error('connection lost');
          },
        }),
      },
    });
    const p = k
      .runner([w], { journal, sleep: k.clock.sleep, heartbeatMs: 5, leaseTtlMs: TTL })
      .start(w, {}, 's');
    await until(() => stepSignal !== undefined);
    const runId = (await k.journal.listRuns(1))[0].id;
    const { expiresAt } = (await k.journal.getLease(runId))!;
    k.clock.advance(TTL - TTL / 4 - 1); // not yet: within ttl − margin
    await new Promise((r) => setTimeout(r, 30));
    expect(stepSignal!.aborted).toBe(false);
    k.clock.advance(2);
    const out = await p;
    expect(stepSignal!.aborted).toBe(true);
    expect(stepSignal!.reason).toBeInstanceOf(LeaseLostError);
    expect(out).toMatchObject({ exitCode: ExitCode.failed, error: expect.any(LeaseLostError) });
    expect(k.clock.now()).toBeLessThan(expiresAt); // stopped while the lease still held
    expect((await k.journal.getStep(runId, 'copy'))?.state).toBe('running'); // nothing recorded after
  });

  it('after a takeover, the old runner writes nothing: its checkpoint is refused and its step never succeeds', async () => {
    k = kit();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let refused: unknown;
    const w = wf([
      {
        id: 'copy',
        title: 'copy',
        run: async (ctx) => {
          await gate;
          refused = await ctx.checkpoint({ bytes: 1 }).catch((e) => e);
          return 'done';
        },
      },
    ]);
    const p = k
      .runner([w], { owner: { pid: 1, host: 'h1' }, leaseTtlMs: TTL, heartbeatMs: 60_000 })
      .start(w, {}, 's');
    let runId = '';
    while (!runId || !(await k.journal.getLease(runId))) {
      runId = (await k.journal.listRuns(1))[0]?.id ?? '';
      await new Promise((r) => setTimeout(r, 5));
    }
    k.clock.advance(TTL + 1);
    const other = await k.journal.acquireLease(runId, { pid: 2, host: 'h2', worker: 'w2' }, TTL, () => true);
    const before = await k.journal.events(runId);
    release();
    const out = await p;
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(out.error).toBeInstanceOf(LeaseLostError);
    expect(out.message).toContain('nothing more was recorded here');
    expect(await k.journal.events(runId)).toEqual(before);
    expect((await k.journal.getStep(runId, 'copy'))?.state).toBe('running');
    expect(await k.journal.lastCheckpoint(runId, 'copy')).toBeUndefined();
    expect((await k.journal.getLease(runId))?.token).toBe(other.token); // the old runner released nothing
  });

  it('stopAtStepBoundary: the step in flight finishes, the next does not start, the lease is released', async () => {
    k = kit();
    const drain = new AbortController();
    const ran: string[] = [];
    const w = wf([
      {
        id: 'a',
        title: 'a',
        run: async () => {
          ran.push('a');
          drain.abort(); // SIGTERM arrives while a runs
          return 1;
        },
      },
      {
        id: 'b',
        title: 'b',
        run: async () => {
          ran.push('b');
          return 2;
        },
      },
    ]);
    const out = await k.runner([w], { stopAtStepBoundary: drain.signal }).start(w, {}, 's');
    expect(out).toMatchObject({ stoppedAtBoundary: true, state: 'pending', stepId: 'b' });
    expect(ran).toEqual(['a']);
    expect((await k.journal.getSteps(out.runId)).map((s) => s.state)).toEqual(['succeeded', 'pending']);
    expect((await k.journal.requireRun(out.runId)).state).toBe('pending');
    expect(await k.journal.getLease(out.runId)).toBeUndefined();
    expect((await k.runner([w]).resume(out.runId)).state).toBe('succeeded');
    expect(ran).toEqual(['a', 'b']);
  });

  it('ctx.worker, ctx.setAffinity, and events not awaited: applied in order before the step succeeds', async () => {
    k = kit();
    let worker: string | undefined;
    const w = wf([
      {
        id: 'attach',
        title: 'attach',
        run: async (ctx) => {
          worker = ctx.worker;
          for (let i = 0; i < 3; i++) void ctx.event('tick', { i });
          void ctx.setAffinity(ctx.worker ?? null);
          void ctx.checkpoint({ last: true });
          return 'ok';
        },
      },
    ]);
    const out = await k.runner([w], { owner: { pid: 7, host: 'h', worker: 'conv-1' } }).start(w, {}, 's');
    expect(out.state).toBe('succeeded');
    expect(worker).toBe('conv-1');
    expect((await k.journal.requireRun(out.runId)).affinity).toBe('conv-1');
    expect(await k.journal.lastCheckpoint(out.runId, 'attach')).toEqual({ last: true });
    const types = (await k.journal.events(out.runId)).map((e) => e.type);
    expect(types.slice(types.indexOf('step.started'))).toEqual([
      'step.started',
      'tick',
      'tick',
      'tick',
      'run.affinity',
      'step.succeeded',
      'run.succeeded',
    ]);
  });

  it('a failed step write fails the step instead of recording it succeeded', async () => {
    k = kit();
    const w = wf([
      {
        id: 'a',
        title: 'a',
        run: async (ctx) => {
          void ctx.event('bad', { n: 1n as unknown as number }); // BigInt: JSON cannot store it
          return 'ok';
        },
      },
    ]);
    const out = await k.runner([w]).start(w, {}, 's');
    expect(out.state).toBe('failed');
    expect((await k.journal.getStep(out.runId, 'a'))?.state).toBe('failed');
  });
});
