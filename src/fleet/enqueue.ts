// `v2o migrate --queue`: the runs are journaled, then one job per run goes on the queue. The queue lives
// in the journal's PostgreSQL, so a SQLite journal is refused before anything is written.
import { silentLogger } from '../engine/logger.js';
import { ConfigError } from '../errors.js';
import { openRunQueue } from './queue.js';

export class FleetNeedsPostgresError extends ConfigError {
  constructor() {
    super('--queue and `v2o worker` need the journal on PostgreSQL: --journal postgres://… or V2O_JOURNAL', {
      hint: 'pass --journal postgres://user@host/db (or set V2O_JOURNAL) on every host of the fleet',
    });
  }
}

/** The journal spec (--journal or V2O_JOURNAL) as a PostgreSQL URL, or FleetNeedsPostgresError. */
export function requirePostgresJournal(spec: string | undefined): string {
  if (spec && /^postgres(ql)?:\/\//i.test(spec)) return spec;
  throw new FleetNeedsPostgresError();
}

/**
 * Opens the queue of the journal at `spec` just long enough to queue `runIds`, one job per run (a run
 * already queued keeps its one job); `worker` pins them to that worker's queue.
 */
export async function enqueueRuns(spec: string, runIds: readonly string[], o: { worker?: string } = {}) {
  const queue = await openRunQueue(spec, { log: silentLogger() });
  try {
    for (const id of runIds) await queue.enqueue(id, o);
  } finally {
    await queue.stop({ wait: false });
  }
}
