// `v2o migrate --queue`: the runs are journaled, then one job per run goes on the queue. The queue lives
// in the journal's PostgreSQL, so a SQLite journal is refused before anything is written.
import { ConfigError } from '../errors.js';
import type { RunQueue } from './queue.js';

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

/** One job per run on the shared queue (enqueueing a run already queued changes nothing). */
export async function enqueueRuns(queue: RunQueue, runIds: readonly string[]): Promise<void> {
  for (const id of runIds) await queue.enqueue(id);
}
