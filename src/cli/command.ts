// What every command module exports: a function that adds itself to the program.
import type { Command } from 'commander';

export interface GlobalOptions {
  /** Where the journal and run logs live (--state-dir, V2O_STATE_DIR, $XDG_STATE_HOME/v2o). */
  stateDir?: string;
  /** The journal: a postgres:// URL (a fleet) or a SQLite file (--journal, V2O_JOURNAL; default <state-dir>/journal.db). */
  journal?: string;
  debug?: boolean;
}

export interface CommandModule {
  register(program: Command): void;
}
