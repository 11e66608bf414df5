// Each bad input gets one clear message (problem and fix), a non-zero exit, and an untouched journal.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { SCHEMA_VERSION } from '../../../src/engine/journal/sqlite-schema.js';
import { vmwareWindowsToOpenstack, WORKFLOW_NAME } from '../../../workflows/vmware-windows-to-openstack.js';
import { params } from '../migration/fakes.js';
import { cli, tmpState } from './helpers.js';

const hash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

afterEach(() => {
  delete process.env.V2O_JOURNAL_BUSY_TIMEOUT_MS;
});

/** A state dir holding one example run stopped at its gate. */
async function stateWithRun(version = 1): Promise<{ state: string; file: string; runId: string }> {
  const state = tmpState();
  const file = path.join(state, 'journal.db');
  const j = SqliteJournal.open(file);
  const run = await j.createRun({
    workflow: 'example',
    workflowVersion: version,
    subject: 's',
    params: { dir: path.join(state, 'w') },
    stepIds: ['prepare', 'write-file', 'flaky', 'hold', 'cutover'],
    at: Date.now(),
  });
  await j.close();
  return { state, file, runId: run.id };
}

/** A state dir holding one migration run with the given params, as an older v2o may have stored. */
async function stateWithMigrationRun(
  version: number,
  params: unknown,
): Promise<{ state: string; file: string; runId: string }> {
  const state = tmpState();
  const file = path.join(state, 'journal.db');
  const j = SqliteJournal.open(file);
  const run = await j.createRun({
    workflow: WORKFLOW_NAME,
    workflowVersion: version,
    subject: 'win2022-db01',
    params,
    stepIds: vmwareWindowsToOpenstack.steps.map((x) => x.id),
    at: Date.now(),
  });
  await j.close();
  return { state, file, runId: run.id };
}

describe('bad input', () => {
  it('unknown run id: exit 2, names the run and how to list runs', async () => {
    const { state, file } = await stateWithRun();
    const before = hash(file);
    for (const cmd of [['resume'], ['status'], ['approve'], ['cancel'], ['logs']]) {
      const r = await cli(state, ...cmd, 'r-nope0000');
      expect(r.code, cmd[0]).toBe(2);
      expect(r.stderr).toContain("no run 'r-nope0000'");
      expect(r.stderr).toContain('fix: `v2o list`');
    }
    expect(hash(file)).toBe(before);
  });

  it('corrupt journal: exit 2, says to move it aside, file untouched', async () => {
    const state = tmpState();
    const file = path.join(state, 'journal.db');
    fs.writeFileSync(file, 'not sqlite\n'.repeat(500));
    const before = hash(file);
    const r = await cli(state, 'list');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/journal .* is corrupt/);
    expect(r.stderr).toContain('fix: move it aside');
    expect(hash(file)).toBe(before);
  });

  it('journal newer than the program: exit 2, untouched', async () => {
    const { state, file, runId } = await stateWithRun();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = hash(file);
    const r = await cli(state, 'resume', runId);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`has schema version ${SCHEMA_VERSION + 1}`);
    expect(r.stderr).toContain('fix: use the newer v2o');
    expect(hash(file)).toBe(before);
  });

  it('journal locked by another process: exit 2 after the busy timeout, nothing written', async () => {
    const { state, file, runId } = await stateWithRun();
    process.env.V2O_JOURNAL_BUSY_TIMEOUT_MS = '50';
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(state, 'cancel', runId);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is locked by another process');
    const j = SqliteJournal.open(file);
    expect((await j.requireRun(runId)).state).toBe('pending');
    expect((await j.events(runId)).map((e) => e.type)).toEqual(['run.created']);
    await j.close();
  });

  it('workflow version mismatch: exit 2, says which versions, journal untouched', async () => {
    const { state, file, runId } = await stateWithRun(0);
    const j = SqliteJournal.open(file);
    const before = JSON.stringify([
      await j.requireRun(runId),
      await j.getSteps(runId),
      await j.events(runId),
      await j.getLease(runId),
    ]);
    await j.close();
    const r = await cli(state, 'resume', runId);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`run ${runId} was started with workflow example v0; this v2o has v1`);
    expect(r.stderr).toContain(`v2o cancel ${runId}`);
    const j2 = SqliteJournal.open(file);
    expect(
      JSON.stringify([
        await j2.requireRun(runId),
        await j2.getSteps(runId),
        await j2.events(runId),
        await j2.getLease(runId),
      ]),
    ).toBe(before);
    await j2.close();
  });

  it('a migration run whose stored params have another shape: exit 2, names the field, journal untouched', async () => {
    // The shape workflow v1 stored: the plan file's config beside a plan without settings.
    const { inputs, ...rest } = JSON.parse(JSON.stringify(params()));
    const { settings: _, ...plan } = rest.plan;
    const old = { ...rest, plan, config: inputs };
    for (const version of [vmwareWindowsToOpenstack.version, 1]) {
      const { state, file, runId } = await stateWithMigrationRun(version, old);
      const before = hash(file);
      for (const cmd of [
        ['resume', runId],
        ['cancel', runId, '--rollback'],
      ]) {
        const r = await cli(state, ...cmd);
        expect(r.code, cmd.join(' ')).toBe(2);
        if (version === 1) {
          expect(r.stderr).toContain(
            `run ${runId} was started with workflow ${WORKFLOW_NAME} v1; this v2o has v${vmwareWindowsToOpenstack.version}`,
          );
        } else {
          expect(r.stderr).toContain(
            `run ${runId} has params that workflow ${WORKFLOW_NAME} v${vmwareWindowsToOpenstack.version} does not understand: plan.settings: missing (object)`,
          );
          expect(r.stderr).toContain('the run was made by another v2o version');
        }
      }
      expect(hash(file)).toBe(before);
    }
  });
});
