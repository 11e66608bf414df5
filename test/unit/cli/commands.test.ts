import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tmpState } from './helpers.js';

const runIdOf = (out: string) => /run (r-[0-9a-z]{8})/.exec(out)?.[1] ?? '';

describe('v2o commands on the example workflow', () => {
  it('plan lists the steps and changes nothing', async () => {
    const state = tmpState();
    const r = await cli(state, 'plan', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).steps.map((s: { id: string }) => s.id)).toEqual([
      'prepare',
      'write-file',
      'flaky',
      'hold',
      'cutover',
    ]);
    expect(fs.existsSync(path.join(state, 'journal.db'))).toBe(false);
  });

  it('migrate → gate (exit 3) → approve → resume (exit 0); status, list and logs show it', async () => {
    const state = tmpState();
    const work = path.join(state, 'work');
    const m = await cli(
      state,
      'migrate',
      '--set',
      'gate=true',
      '--set',
      `dir=${work}`,
      '--set',
      'failTimes=1',
      '--subject',
      'vm-7',
    );
    expect(m.code).toBe(3);
    const id = runIdOf(m.stdout);
    expect(m.stderr).toContain(`v2o approve ${id}`);
    expect(m.stdout).toContain('flaky: attempt failed');

    const st = await cli(state, 'status', id, '--json');
    expect(st.code).toBe(0);
    const view = JSON.parse(st.stdout);
    expect(view.run.state).toBe('waiting');
    expect(view.steps.find((s: { stepId: string }) => s.stepId === 'flaky').attempts).toBe(2);
    expect(view.steps.find((s: { stepId: string }) => s.stepId === 'cutover').state).toBe('waiting');

    expect((await cli(state, 'approve', id)).code).toBe(0);
    const res = await cli(state, 'resume', id);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('prepare: succeeded earlier, not run again');
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(true);

    const ls = await cli(state, 'list', '--json');
    expect(JSON.parse(ls.stdout)).toMatchObject([{ id, state: 'succeeded', subject: 'vm-7' }]);
    // The human views: fields and columns aligned by the one table renderer.
    const human = await cli(state, 'status', id);
    expect(human.stdout).toMatch(
      new RegExp(`^run {7}${id}\nworkflow {2}example v\\d+\nsubject {3}vm-7\nstate {5}succeeded\n`),
    );
    expect(human.stdout).toMatch(/^STEP +STATE +ATTEMPTS +STARTED +FINISHED +NOTE$/m);
    expect(human.stdout).toMatch(/^flaky {7}succeeded {2}2 {9}\d{4}-/m);
    const rows = (await cli(state, 'list')).stdout.split('\n');
    expect(rows[0]).toMatch(/^RUN {9}STATE {6}WORKER {2}WORKFLOW {4}SUBJECT {2}CREATED {19}UPDATED$/);
    expect(rows[1]).toMatch(new RegExp(`^${id} {2}succeeded {2}- {7}example v\\d+ {2}vm-7 {5}\\d{4}-`));
    // --follow returns by itself once nobody drives the run.
    const followed = await cli(state, 'logs', id, '--follow');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('waiting for approval');
    const logs = await cli(state, 'logs', id);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('waiting for approval');
    expect(logs.stdout).toContain(`run ${id} succeeded`);

    const cancel = await cli(state, 'cancel', id, '--rollback');
    expect(cancel.code).toBe(0);
    expect(fs.existsSync(path.join(work, 'done.txt'))).toBe(false);
    expect(fs.existsSync(path.join(work, 'payload.bin'))).toBe(false);
  });

  it('a non-retryable failure fails the run at once (exit 1) and says how to go on', async () => {
    const state = tmpState();
    const r = await cli(
      state,
      'migrate',
      '--set',
      'failHard=true',
      '--set',
      `dir=${path.join(state, 'w')}`,
      '--json',
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ state: 'failed', stepId: 'flaky', error: { name: 'NonRetryableError' } });
    expect(out.message).toContain(`v2o resume ${out.runId}`);
  });
});
