// What commands share: the global options, and the journal they name.
import type { Command } from 'commander';
import type { Journal } from '../engine/journal/types.js';
import { resolveStateDir } from '../engine/state-dir.js';
import type { GlobalOptions } from './command.js';

/** The program's global options (--state-dir, --journal, --debug) as seen from a subcommand. */
export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function stateDirOf(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  return resolveStateDir(opts.stateDir, env);
}

/**
 * Opens the journal the options name: --journal, then V2O_JOURNAL (a postgres:// URL or a
 * path), then the state dir's journal.db. `create: false` (read-only commands) does not create
 * a SQLite journal that is not there yet.
 * V2O_JOURNAL_BUSY_TIMEOUT_MS: how long SQLite waits for another writer (default 5000).
 */
export async function openJournal(opts: GlobalOptions, o: { create?: boolean } = {}): Promise<Journal> {
  const { openJournal: open } = await import('../engine/journal/open.js');
  const busy = Number(process.env.V2O_JOURNAL_BUSY_TIMEOUT_MS);
  return open(opts.journal || process.env.V2O_JOURNAL || undefined, {
    stateDir: stateDirOf(opts),
    create: o.create,
    busyTimeoutMs: Number.isFinite(busy) && busy >= 0 ? busy : undefined,
  });
}

/** Runs `fn` with the journal open and closes it after. */
export async function withJournal<T>(
  opts: GlobalOptions,
  fn: (j: Journal) => T | Promise<T>,
  o: { create?: boolean } = {},
): Promise<T> {
  const j = await openJournal(opts, o);
  try {
    return await fn(j);
  } finally {
    await j.close();
  }
}
