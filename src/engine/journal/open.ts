// Which journal a spec names: a postgres:// or postgresql:// URL → PostgreSQL (a fleet); a path,
// or nothing (the state dir's journal.db) → SQLite on this host.
import path from 'node:path';
import { journalPath } from '../state-dir.js';
import type { Clock } from '../types.js';
import type { Journal } from './types.js';

export interface OpenJournalOptions {
  /** Where the SQLite journal lives when the spec is empty. */
  stateDir: string;
  /** SQLite: false = a missing file is not created (read-only commands). */
  create?: boolean;
  /** SQLite: how long to wait for another writer before JournalLockedError (default 5000 ms). */
  busyTimeoutMs?: number;
  /** SQLite: the journal's time (tests). PostgreSQL always uses the database's. */
  clock?: Clock;
  /** PostgreSQL: the PG* variables the URL's missing parts come from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export const isPostgresSpec = (spec: string | undefined): spec is string =>
  spec !== undefined && /^postgres(ql)?:\/\//i.test(spec);

/** Opens and migrates the journal `spec` names (`--journal`, else V2O_JOURNAL, else the state dir's). */
export async function openJournal(spec: string | undefined, o: OpenJournalOptions): Promise<Journal> {
  if (isPostgresSpec(spec)) {
    const { PostgresJournal } = await import('./postgres.js'); // only a fleet loads pg
    return PostgresJournal.open(spec, { env: o.env });
  }
  const { SqliteJournal } = await import('./sqlite.js'); // loads SQLite only for commands that need it
  const file = spec ? path.resolve(spec) : journalPath(o.stateDir);
  return SqliteJournal.open(file, { create: o.create, busyTimeoutMs: o.busyTimeoutMs, clock: o.clock });
}
