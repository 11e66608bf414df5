// Child processes: SIGKILL inside a step then resume; a second resume while one runs; Ctrl-C.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { callCounts, cli, spawnCli, tmpState, waitForFile } from './helpers.js';

const STEPS = ['prepare', 'write-file', 'flaky', 'hold', 'cutover'];

async function journalView(state: string, runId: string) {
  const j = SqliteJournal.open(path.join(state, 'journal.db'));
  try {
    return {
      run: await j.requireRun(runId),
      steps: await j.getSteps(runId),
      events: await j.events(runId),
      lease: await j.getLease(runId),
    };
  } finally {
    await j.close();
  }
}

const onlyRunId = async (state: string) => {
  const j = SqliteJournal.open(path.join(state, 'journal.db'));
  try {
    return (await j.listRuns())[0].id;
  } finally {
    await j.close();
  }
};

describe('crash and concurrency (child processes)', () => {
  it('SIGKILL inside a step: resume finishes it, finished steps are not run again, one success per step', async () => {
    const state = tmpState();
    const work = path.join(state, 'w');
    const child = spawnCli(state, 'migrate', '--set', 'hangOnce=true', '--set', `dir=${work}`);
    await waitForFile(path.join(work, 'hold.marker'));
    child.proc.kill('SIGKILL');
    expect((await child.exit).signal).toBe('SIGKILL');
    const runId = await onlyRunId(state);
    expect((await journalView(state, runId)).steps.find((s) => s.stepId === 'hold')?.state).toBe('running');
    expect((await cli(state, 'status', runId)).stdout).toContain('that process is gone; resume takes over');

    const r = await cli(state, 'resume', runId);
    expect(r.code, r.stderr).toBe(0);
    const v = await journalView(state, runId);
    expect(v.run.state).toBe('succeeded');
    const successes = v.events.filter((e) => e.type === 'step.succeeded').map((e) => e.stepId);
    expect(successes).toEqual(STEPS);
    expect(v.events.map((e) => e.type)).toContain('lease.taken-over');
    expect(callCounts(work)).toEqual({ prepare: 1, 'write-file': 1, flaky: 1, hold: 2, cutover: 1 });
    expect(v.steps.find((s) => s.stepId === 'hold')?.attempts).toBe(2);
    expect(v.lease).toBeUndefined();
  });

  it('a second resume is refused while one runs; Ctrl-C exits 130; resume then finishes', async () => {
    const state = tmpState();
    const work = path.join(state, 'w');
    const child = spawnCli(state, 'migrate', '--set', 'hangOnce=true', '--set', `dir=${work}`);
    await waitForFile(path.join(work, 'hold.marker'));
    const runId = await onlyRunId(state);

    const second = await cli(state, 'resume', runId);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(`run ${runId} is held by pid ${child.proc.pid} on host \\S+ since \\d{4}-\\d\\d-\\d\\dT`),
    );

    child.proc.kill('SIGINT');
    const exit = await child.exit;
    expect(exit.code, child.output()).toBe(130);
    const v = await journalView(state, runId);
    expect(v.steps.find((s) => s.stepId === 'hold')?.state).toBe('interrupted');
    expect(v.run.error?.name).toBe('InterruptedError');
    expect(v.lease).toBeUndefined();

    const r = await cli(state, 'resume', runId);
    expect(r.code, r.stderr).toBe(0);
    expect(callCounts(work)).toEqual({ prepare: 1, 'write-file': 1, flaky: 1, hold: 2, cutover: 1 });
  });
});
