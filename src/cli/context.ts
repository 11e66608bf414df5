// What commands share: the global options, and the journal they name.
import type { Command } from 'commander';
import type { Journal } from '../engine/journal.js';
import { journalPath, resolveStateDir } from '../engine/state-dir.js';
import type { GlobalOptions } from './command.js';

/** The program's global options (--state-dir, --debug) as seen from a subcommand. */
export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function stateDirOf(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  return resolveStateDir(opts.stateDir, env);
}

/**
 * Opens the journal of the state dir the options name. `create: false` (read-only commands)
 * does not create a journal that is not there yet.
 * V2O_JOURNAL_BUSY_TIMEOUT_MS: how long to wait for another writer (default 5000).
 */
export async function openJournal(opts: GlobalOptions, o: { create?: boolean } = {}): Promise<Journal> {
  const { Journal } = await import('../engine/journal.js'); // loads SQLite only for commands that need it
  const busy = Number(process.env.V2O_JOURNAL_BUSY_TIMEOUT_MS);
  return Journal.open(journalPath(stateDirOf(opts)), {
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
    j.close();
  }
}
