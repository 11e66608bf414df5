// The journal contract against a real PostgreSQL: the lab's (V2O_LAB_JOURNAL in .lab/lab.env),
// else V2O_TEST_JOURNAL_PG. Each test gets its own fresh schema, dropped afterwards.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalTooNewError, JournalUnreachableError } from '../../../src/engine/errors.js';
import { openJournal } from '../../../src/engine/journal/open.js';
import { pgTarget } from '../../../src/engine/journal/pg-url.js';
import { PostgresJournal } from '../../../src/engine/journal/postgres.js';
import { PG_SCHEMA_VERSION } from '../../../src/engine/journal/postgres-schema.js';
import { silentLogger } from '../../../src/engine/logger.js';
import { WorkflowRegistry } from '../../../src/engine/registry.js';
import { Runner } from '../../../src/engine/runner.js';
import type { WorkflowDefinition } from '../../../src/engine/types.js';
import { ExitCode } from '../../../src/errors.js';
import { journalContract } from '../../unit/engine/journal-contract.js';

function labUrl(): string {
  const env = path.resolve(process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  if (fs.existsSync(env)) {
    const m = /^(?:export\s+)?V2O_LAB_JOURNAL=['"]?([^'"\n]+)/m.exec(fs.readFileSync(env, 'utf8'));
    if (m) return m[1];
  }
  const url = process.env.V2O_TEST_JOURNAL_PG;
  if (!url)
    throw new Error(
      `no PostgreSQL for the journal: V2O_LAB_JOURNAL is not in ${env} and V2O_TEST_JOURNAL_PG is unset`,
    );
  return url;
}

const URL_ = labUrl();
const run = randomBytes(3).toString('hex');
let n = 0;
const schemas: string[] = [];
const freshSchema = () => {
  const s = `p_journal_${run}_${++n}`;
  schemas.push(s);
  return s;
};

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(pgTarget(URL_).config);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  await admin(async (c) => {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  });
});

journalContract('postgres', {
  shortTtlMs: 400,
  pass: (ms) => new Promise((r) => setTimeout(r, ms)),
  open: async () => {
    const schema = freshSchema();
    const a = await PostgresJournal.open(URL_, { schema });
    const b = await PostgresJournal.open(URL_, { schema });
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  },
});

describe('PostgreSQL journal', () => {
  it('openJournal picks PostgreSQL for a postgres:// spec; a newer schema is refused untouched', async () => {
    const schema = freshSchema();
    const j = await PostgresJournal.open(URL_, { schema });
    expect(j.backend).toBe('postgres');
    await j.createRun({ workflow: 'w', workflowVersion: 1, subject: 's', params: {}, stepIds: ['a'], at: 1 });
    await j.close();
    const snapshot = () =>
      admin(async (c) => {
        const v = await c.query(`SELECT version FROM ${schema}.schema_version ORDER BY version`);
        const r = await c.query(`SELECT * FROM ${schema}.runs`);
        const e = await c.query(`SELECT * FROM ${schema}.events`);
        return JSON.stringify([v.rows, r.rows, e.rows]);
      });
    await admin((c) =>
      c.query(`INSERT INTO ${schema}.schema_version (version) VALUES ($1)`, [PG_SCHEMA_VERSION + 1]),
    );
    const before = await snapshot();
    const err = await PostgresJournal.open(URL_, { schema }).catch((e) => e);
    expect(err).toBeInstanceOf(JournalTooNewError);
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(err.message).toContain(
      `has schema version ${PG_SCHEMA_VERSION + 1}; this v2o understands up to ${PG_SCHEMA_VERSION}`,
    );
    expect(await snapshot()).toBe(before);
  });

  it('unreachable: JournalUnreachableError (exit 2) naming host:port, never the password', async () => {
    const url = 'postgres://v2o:Sup3r-s3cret@127.0.0.1:1/v2o?connect_timeout=3';
    const err = await openJournal(url, { stateDir: os.tmpdir() }).catch((e) => e);
    expect(err).toBeInstanceOf(JournalUnreachableError);
    expect(err.exitCode).toBe(ExitCode.badInput);
    expect(err.message).toContain('127.0.0.1:1/v2o');
    expect(`${err.message} ${err.hint}`).not.toContain('Sup3r-s3cret');
    expect(err.hint).toMatch(/sslmode/);
  });

  it('a run driven on PostgreSQL: steps, ordered events, and a cancel from another host stops it within seconds', async () => {
    const schema = freshSchema();
    const driver = await PostgresJournal.open(URL_, { schema });
    const operator = await PostgresJournal.open(URL_, { schema });
    try {
      let started = false;
      const w: WorkflowDefinition = {
        name: 'pg-test',
        version: 1,
        description: 'test',
        steps: [
          {
            id: 'a',
            title: 'a',
            run: async (ctx) => {
              for (let i = 0; i < 5; i++) void ctx.event('tick', { i }); // not awaited: still in order
              void ctx.setAffinity('wa');
              return { ok: true };
            },
          },
          {
            id: 'b',
            title: 'b',
            run: async (ctx) => {
              started = true;
              await ctx.sleep(60_000);
            },
          },
        ],
      };
      const runner = new Runner({
        journal: driver,
        registry: new WorkflowRegistry([w]),
        stateDir: os.tmpdir(),
        owner: { pid: process.pid, host: os.hostname(), worker: 'wa' },
        heartbeatMs: 200,
        logger: () => ({ log: silentLogger(), file: '', close() {} }),
      });
      const p = runner.start(w, {}, 'vm');
      while (!started) await new Promise((r) => setTimeout(r, 20));
      const runId = (await operator.listRuns(1))[0].id;
      expect((await operator.getLease(runId))?.worker).toBe('wa');
      const t0 = Date.now();
      await operator.setRunState(runId, 'cancelled', Date.now(), undefined, { by: 'cancel' });
      const out = await p;
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(out.state).toBe('cancelled');
      const types = (await operator.events(runId)).map((e) => e.type);
      const ticks = (await operator.events(runId)).filter((e) => e.type === 'tick').map((e) => e.data?.i);
      expect(ticks).toEqual([0, 1, 2, 3, 4]);
      expect(types.indexOf('run.affinity')).toBeLessThan(types.indexOf('step.succeeded'));
      expect((await operator.getRun(runId))?.affinity).toBe('wa');
      expect(await operator.getLease(runId)).toBeUndefined();
    } finally {
      await driver.close();
      await operator.close();
    }
  });
});
