// Workers that start together race each other in PostgreSQL: creating the journal's, the queue's and
// the slots' tables at once, or two new pg-boss queues at once (its create_queue adds a foreign key to
// the shared queue table). PostgreSQL then aborts one of them with one of these codes; that one tries
// again after a short random pause, while every other error goes to the caller as it is.

/** deadlock_detected, serialization_failure, unique_violation, duplicate_table/object/schema. */
const RACE_CODES = new Set(['40P01', '40001', '23505', '42P07', '42710', '42P06']);

const codeOf = (err: unknown): string | undefined =>
  (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;

export async function retryPgRace<T>(
  fn: () => Promise<T>,
  o: { attempts: number; onRetry?: (attempt: number, code: string) => void },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = codeOf(err);
      if (attempt >= o.attempts || !code || !RACE_CODES.has(code)) throw err;
      o.onRetry?.(attempt, code);
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 250));
    }
  }
}
