// A fresh PostgreSQL database per test file (named q_fleet_*), on the lab's journal URL
// (V2O_LAB_JOURNAL in .lab/lab.env, when helper L's lab has it) or V2O_TEST_JOURNAL_PG.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { labEnv } from '../../helpers/lab-env.js';
import { dropDatabase } from '../../helpers/pg-database.js';

function baseUrl(): string {
  let fromLab: string | undefined;
  try {
    fromLab = labEnv().V2O_LAB_JOURNAL;
  } catch {
    // no lab.env: the variable below
  }
  const url = fromLab ?? process.env.V2O_TEST_JOURNAL_PG;
  if (!url)
    throw new Error(
      'no PostgreSQL for the fleet tests: set V2O_LAB_JOURNAL (lab.env) or V2O_TEST_JOURNAL_PG',
    );
  return url;
}

const withDb = (url: string, db: string) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = baseUrl();
  const name = `q_fleet_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDb(base, name),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await dropDatabase(c, name);
      await c.end();
    },
  };
}
