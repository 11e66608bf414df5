// `v2o cutover`, `v2o resume --wait`, and how status and list show timed waits and copy passes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCutoverTime } from '../../../src/cli/commands/cutover.js';
import { resumeRun, runWorkflow } from '../../../src/cli/run-workflow.js';
import { approveRun } from '../../../src/engine/approve.js';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { WorkflowRegistry } from '../../../src/engine/registry.js';
import { journalPath } from '../../../src/engine/state-dir.js';
import type { WorkflowDefinition } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import { cli, tmpState } from './helpers.js';

const runIdOf = (out: string) => /run (r-[0-9a-z]{8})/.exec(out)?.[1] ?? '';

/** A run made straight in the journal, with the given steps (for refusals that read only the journal). */
async function journalRun(state: string, stepIds: string[], workflow = 'example'): Promise<string> {
  const j = SqliteJournal.open(journalPath(state));
  try {
    return (
      await j.createRun({ workflow, workflowVersion: 1, subject: 'vm', params: {}, stepIds, at: Date.now() })
    ).id;
  } finally {
    await j.close();
  }
}

async function withJournal<T>(state: string, fn: (j: SqliteJournal) => T | Promise<T>): Promise<T> {
  const j = SqliteJournal.open(journalPath(state));
  try {
    return await fn(j);
  } finally {
    await j.close();
  }
}

/** Runs fn with stdout/stderr captured (and quiet). */
async function captured<T>(
  fn: (err: () => string) => Promise<T>,
): Promise<{ value: T; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    return { value: await fn(() => err), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('--at TIME', () => {
  const now = new Date(2026, 11, 2, 21, 30, 15).getTime(); // local 21:30:15

  it('reads HH:MM as today, local time, or tomorrow when past; the current minute is now', () => {
    expect(parseCutoverTime('22:00', now)).toBe(new Date(2026, 11, 2, 22, 0).getTime());
    expect(parseCutoverTime('21:00', now)).toBe(new Date(2026, 11, 3, 21, 0).getTime());
    expect(parseCutoverTime('21:30', now)).toBe(new Date(2026, 11, 2, 21, 30).getTime());
    expect(parseCutoverTime('7:05', now)).toBe(new Date(2026, 11, 3, 7, 5).getTime());
  });

  it('reads ISO 8601 with or without an offset', () => {
    expect(parseCutoverTime('2026-12-02T22:00:00+01:00', now)).toBe(Date.UTC(2026, 11, 2, 21, 0));
    expect(parseCutoverTime('2026-12-02T22:00Z', now)).toBe(Date.UTC(2026, 11, 2, 22, 0));
    expect(parseCutoverTime('2026-12-02T22:00', now)).toBe(new Date(2026, 11, 2, 22, 0).getTime());
  });

  it.each(['25:00', '12:60', 'tonight', '2026-02-30T10:00', '2026-13-01T10:00', '2026-12-02', ''])(
    'refuses %j naming the formats',
    (t) => {
      expect(() => parseCutoverTime(t, now)).toThrow(/is not a time v2o reads/);
    },
  );

  it('v2o cutover with a bad TIME exits 2, names the format and records nothing', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['cutover']);
    const r = await cli(state, 'cutover', id, '--at', '22h');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--at '22h' is not a time v2o reads");
    expect(r.stderr).toMatch(/fix: give it as ISO 8601 .* or HH:MM/);
    await withJournal(state, async (j) =>
      expect((await j.getStep(id, 'cutover'))?.approvedAt).toBeUndefined(),
    );
  });
});

describe('v2o cutover refuses', () => {
  it('a run without a cutover step', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['a', 'b'], 'example-chain');
    const r = await cli(state, 'cutover', id);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run ${id} (workflow example-chain v1) has no cutover step`);
  });

  it('a cold migration (its cutover step skipped)', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['copy', 'cutover', 'launch']);
    await withJournal(state, async (j) => await j.stepEnded(id, 'cutover', Date.now(), 'skipped'));
    const r = await cli(state, 'cutover', id, '--at', '23:00');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run ${id} is a cold migration: nothing to cut over`);
    await withJournal(state, async (j) =>
      expect((await j.getStep(id, 'cutover'))?.approvedAt).toBeUndefined(),
    );
  });

  it('a run that succeeded', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['cutover']);
    await withJournal(state, async (j) => await j.setRunState(id, 'succeeded', Date.now()));
    const r = await cli(state, 'cutover', id);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('there is nothing to cut over');
  });
});

describe('v2o cutover on a run waiting at its cutover gate', () => {
  it('--at later records it; resume before then waits (exit 3); cutover now continues the run here', async () => {
    const state = tmpState();
    const work = path.join(state, 'work');
    const m = await cli(state, 'migrate', '--set', 'gate=true', '--set', `dir=${work}`);
    expect(m.code).toBe(3);
    const id = runIdOf(m.stdout);
    const later = new Date(Date.now() + 2 * 3600_000);
    const at = later.toISOString();
    const rec = await cli(state, 'cutover', id, '--at', at);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toMatch(
      new RegExp(
        `^cutover of run ${id} recorded for .+; the precopy passes go on until then: v2o resume ${id} --wait\\n$`,
      ),
    );
    await withJournal(state, async (j) =>
      expect(await j.getStep(id, 'cutover')).toMatchObject({
        state: 'pending',
        approvalNotBefore: later.getTime(),
      }),
    );

    const early = await cli(state, 'resume', id);
    expect(early.code).toBe(ExitCode.waiting);
    expect(early.stderr).toContain(`run ${id} waits until`);
    expect(early.stderr).toContain('at step cutover: approved by');
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(false);

    const hhmm = `${String(later.getHours()).padStart(2, '0')}:${String(later.getMinutes()).padStart(2, '0')}`;
    const ls = await cli(state, 'list');
    expect(ls.stdout).toMatch(
      new RegExp(`^${id} +waiting \\(until (\\d{4}-\\d\\d-\\d\\d )?${hhmm}\\) `, 'm'),
    );
    const st = await cli(state, 'status', id);
    expect(st.stdout).toContain(`next: v2o resume ${id} --wait`);

    const now = await cli(state, 'cutover', id);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain(`run ${id} succeeded`);
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(true);
  });

  it('--no-resume records a cutover due now and leaves the run to resume', async () => {
    const state = tmpState();
    const work = path.join(state, 'work');
    const id = runIdOf((await cli(state, 'migrate', '--set', 'gate=true', '--set', `dir=${work}`)).stdout);
    const r = await cli(state, 'cutover', id, '--no-resume', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: id, stepId: 'cutover', due: true });
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(false);
    expect((await cli(state, 'resume', id)).code).toBe(0);
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(true);
  });
});

describe('v2o resume --wait', () => {
  /** `pass` waits `ms` of real time once, then succeeds; `cutover` is a step to approve. */
  const waiting = (ms: number): WorkflowDefinition => ({
    name: 'wait-test',
    version: 1,
    description: 'waits once',
    steps: [
      {
        id: 'pass',
        title: 'pass',
        run: async (ctx) => {
          const n = ((ctx.lastCheckpoint as { n?: number } | undefined)?.n ?? 0) + 1;
          ctx.checkpoint({ n });
          if (n === 1) ctx.waitUntil(ctx.clock.now() + ms, 'next one');
          return { n };
        },
      },
      { id: 'cutover', title: 'cutover', run: async () => ({}) },
    ],
  });
  const start = async (state: string, w: WorkflowDefinition) => {
    const registry = new WorkflowRegistry([w]);
    const { value } = await captured(() =>
      runWorkflow({ workflow: w, params: {}, subject: 'vm', globals: { stateDir: state }, registry }),
    );
    expect(value).toMatchObject({ state: 'waiting', exitCode: ExitCode.waiting });
    return { id: value.runId, registry };
  };

  it('sleeps until the run is due and goes on to the end', async () => {
    const state = tmpState();
    const w = waiting(400);
    const { id, registry } = await start(state, w);
    const t0 = Date.now();
    const { value, err } = await captured(() =>
      resumeRun(id, { globals: { stateDir: state }, registry, wait: true, pollMs: 50 }),
    );
    expect(value).toMatchObject({ state: 'succeeded', exitCode: ExitCode.ok });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(err).toContain(`run ${id} waits until`);
    expect(err).toContain('sleeping until');
    await withJournal(state, async (j) => expect((await j.getStep(id, 'pass'))?.output).toEqual({ n: 2 }));
  });

  it('an approval from another process wakes the sleep early', async () => {
    const state = tmpState();
    const { id, registry } = await start(state, waiting(3600_000));
    const t0 = Date.now();
    const { value } = await captured(async (err) => {
      const p = resumeRun(id, { globals: { stateDir: state }, registry, wait: true, pollMs: 50 });
      while (!err().includes('sleeping until')) await new Promise((r) => setTimeout(r, 10));
      await withJournal(
        state,
        async (j) => await approveRun(j, id, { stepId: 'cutover', by: 'ops', at: Date.now() }),
      );
      return p;
    });
    expect(value.state).toBe('succeeded');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('Ctrl-C stops the sleep: exit 130, the run unchanged and still waiting', async () => {
    const state = tmpState();
    const { id, registry } = await start(state, waiting(3600_000));
    const before = await withJournal(state, async (j) => ({
      run: await j.requireRun(id),
      events: await j.events(id),
    }));
    const { value, err } = await captured(async (err) => {
      const p = resumeRun(id, { globals: { stateDir: state }, registry, wait: true });
      while (!err().includes('sleeping until')) await new Promise((r) => setTimeout(r, 10));
      process.emit('SIGINT', 'SIGINT');
      return p;
    });
    expect(value).toMatchObject({
      state: 'waiting',
      exitCode: ExitCode.interrupted,
      wakeAt: before.run.wakeAt,
    });
    expect(err).toContain('SIGINT: stopping the wait; the run stays as it is');
    expect(err).toContain(`stopped waiting; run ${id} is unchanged and waits until`);
    expect(process.listenerCount('SIGINT')).toBe(0);
    await withJournal(state, async (j) => {
      expect(await j.requireRun(id)).toEqual(before.run);
      expect(await j.events(id)).toEqual(before.events);
    });
  });

  it('with a fake sleep, repeats while the run keeps waiting on timers and prints one JSON outcome', async () => {
    const state = tmpState();
    const w: WorkflowDefinition = {
      name: 'wait-test',
      version: 1,
      description: 'waits three times, 150 ms each',
      steps: [
        {
          id: 'pass',
          title: 'pass',
          run: async (ctx) => {
            const n = ((ctx.lastCheckpoint as { n?: number } | undefined)?.n ?? 0) + 1;
            ctx.checkpoint({ n });
            if (n <= 3) ctx.waitUntil(ctx.clock.now() + 150, `pass ${n}`);
            return { n };
          },
        },
      ],
    };
    const { id, registry } = await start(state, w);
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      await new Promise((r) => setTimeout(r, ms + 1));
    };
    const { value, out } = await captured(() =>
      resumeRun(id, { globals: { stateDir: state }, registry, wait: true, json: true, sleep }),
    );
    expect(value.state).toBe('succeeded');
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toMatchObject({ runId: id, state: 'succeeded' });
    expect(sleeps.length).toBeGreaterThanOrEqual(2); // the first wait may pass while the process starts
    await withJournal(state, async (j) => expect((await j.getStep(id, 'pass'))?.output).toEqual({ n: 4 }));
  });
});

describe('v2o status: copy passes', () => {
  it('shows each copy.pass as a row with its disks, changeIds and full-copy reasons, and the newest estimate', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['base-copy', 'precopy', 'cutover']);
    const MiB = 1 << 20;
    await withJournal(state, async (j) => {
      await j.appendEvent(id, 1_000, 'copy.pass', 'base-copy', {
        pass: 0,
        kind: 'base',
        bytes: 256 * MiB,
        seconds: 8,
        disks: [
          { key: 2000, label: 'Hard disk 1', bytes: 192 * MiB, changeId: '52 aa bb/1' },
          { key: 2001, label: 'Hard disk 2', bytes: 64 * MiB, changeId: '52 cc dd/1' },
        ],
      });
      await j.appendEvent(id, 2_000, 'copy.estimate', 'base-copy', { cutoverCopySeconds: 9, basis: 'base' });
      await j.appendEvent(id, 3_000, 'copy.pass', 'precopy', {
        pass: 1,
        kind: 'precopy',
        bytes: 64 * MiB,
        seconds: 2,
        disks: [
          { key: 2000, label: 'Hard disk 1', bytes: 0, changeId: '52 aa bb/7' },
          {
            key: 2001,
            label: 'Hard disk 2',
            bytes: 64 * MiB,
            changeId: '52 ee ff/2',
            fullCopy: 'changeId rejected (CBT reset)',
          },
        ],
      });
      await j.appendEvent(id, 4_000, 'copy.estimate', 'precopy', {
        cutoverCopySeconds: 2.1,
        basis: 'last pass: 64.0 MiB in 2.1 s',
        nextPassAt: Date.UTC(2026, 11, 2, 21, 0),
      });
      await j.appendEvent(id, 5_000, 'copy.pass', 'precopy', { pass: 9, bytes: 1 }); // no kind: not shown
    });
    const r = await cli(state, 'status', id);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('Copy passes:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^PASS +KIND +DISK +BYTES +SECONDS +RATE +CHANGEID +FULL COPY$/);
    expect(lines[at + 2]).toMatch(/^base +base +2 disks +256\.0 MiB +8\.0 +32\.0 MiB\/s/);
    expect(lines[at + 3]).toMatch(/^ +Hard disk 1 +192\.0 MiB +52 aa bb\/1/);
    expect(lines[at + 5]).toMatch(/^1 +precopy +2 disks +64\.0 MiB +2\.0 +32\.0 MiB\/s/);
    expect(lines[at + 7]).toMatch(/Hard disk 2 +64\.0 MiB +52 ee ff\/2 +changeId rejected \(CBT reset\)$/);
    // "; next pass at <time>" follows once src/redaction.ts stops taking `nextPassAt` for a secret.
    expect(lines[at + 8]).toMatch(/^estimated cutover copy: 2\.1 s \(last pass: 64\.0 MiB in 2\.1 s\)/);
    expect(r.stdout).not.toMatch(/^9 /m);

    const js = JSON.parse((await cli(state, 'status', id, '--json')).stdout);
    expect(js.copyPasses).toHaveLength(2);
    expect(js.copyPasses[1]).toMatchObject({ pass: 1, kind: 'precopy', bytes: 64 * MiB, rate: 32 * MiB });
    expect(js.copyPasses[1].disks[1]).toMatchObject({
      changeId: '52 ee ff/2',
      fullCopy: 'changeId rejected (CBT reset)',
    });
    expect(js.copyEstimate).toMatchObject({ cutoverCopySeconds: 2.1, basis: 'last pass: 64.0 MiB in 2.1 s' });
  });

  it('shows no copy section for a run without copy events', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['cutover']);
    const r = await cli(state, 'status', id);
    expect(r.stdout).not.toContain('Copy passes');
    expect(JSON.parse((await cli(state, 'status', id, '--json')).stdout).copyPasses).toEqual([]);
  });
});

describe('rendering copy events that went through the journal', () => {
  // src/redaction.ts once took the keys `pass` and `nextPassAt` for passwords (/pass(word)?/).
  it('keeps the pass number and nextPassAt of copy.pass / copy.estimate', async () => {
    const state = tmpState();
    const id = await journalRun(state, ['precopy']);
    const events = await withJournal(state, async (j) => {
      await j.appendEvent(id, 1, 'copy.pass', 'precopy', {
        pass: 3,
        kind: 'precopy',
        bytes: 1,
        seconds: 1,
        disks: [],
      });
      await j.appendEvent(id, 2, 'copy.estimate', 'precopy', {
        cutoverCopySeconds: 1,
        basis: 'x',
        nextPassAt: 5,
      });
      return await j.events(id);
    });
    expect(events[1].data).toMatchObject({ pass: 3 });
    expect(events[2].data).toMatchObject({ nextPassAt: 5 });
  });
});
