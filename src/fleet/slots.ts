// The fleet-wide semaphore: named slots in PostgreSQL, each a row with a lease that expires by the
// database's clock, so the plan's limits hold over every worker together and a dead worker's slots
// come back once their leases run out. Racing acquirers are serialised per name by a transaction-level
// advisory lock: count and insert happen under it, so the limit is never exceeded.
import type pg from 'pg';
import { InterruptedError } from '../errors.js';

export interface SlotPool {
  /** Waits for a free slot of `name` (at most `limit` held at once across the fleet); the slot expires with `ttlMs` unless renewed. */
  acquire(
    name: string,
    limit: number,
    holder: { runId: string; worker: string },
    o: { ttlMs: number; signal: AbortSignal },
  ): Promise<Slot>;
}
export interface Slot {
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

const SCHEMA_SQL = `
  CREATE SCHEMA IF NOT EXISTS v2o_fleet;
  CREATE TABLE IF NOT EXISTS v2o_fleet.slots (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    run_id text NOT NULL,
    worker text NOT NULL,
    ttl_ms integer NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX IF NOT EXISTS slots_name ON v2o_fleet.slots (name, expires_at);`;

/** Keys of pg_advisory_xact_lock: one for the schema, one per slot name (hashtext of it). */
const SCHEMA_LOCK = 0x7632_6f53; // 'v2oS'

export interface PgSlotPoolOptions {
  /** First and longest pause between tries while the slots are full (default 100 ms, 1000 ms). */
  minPollMs?: number;
  maxPollMs?: number;
}

export class PgSlotPool implements SlotPool {
  private constructor(
    private readonly db: pg.Pool,
    private readonly o: PgSlotPoolOptions,
  ) {}

  /** Creates the slots table if needed (several workers starting at once is fine). */
  static async open(db: pg.Pool, o: PgSlotPoolOptions = {}): Promise<PgSlotPool> {
    await inTx(db, async (c) => {
      // CREATE … IF NOT EXISTS still races on the catalog; one creator at a time.
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await c.query(SCHEMA_SQL);
    });
    return new PgSlotPool(db, o);
  }

  async acquire(
    name: string,
    limit: number,
    holder: { runId: string; worker: string },
    o: { ttlMs: number; signal: AbortSignal },
  ): Promise<Slot> {
    if (!(limit >= 1)) throw new RangeError(`slot limit must be >= 1, got ${limit}`);
    let wait = this.o.minPollMs ?? 100;
    for (;;) {
      if (o.signal.aborted) throw new InterruptedError(`aborted while waiting for a fleet slot of ${name}`);
      const id = await this.tryAcquire(name, limit, holder, o.ttlMs);
      if (id !== undefined) return this.slot(id, o.ttlMs);
      await sleep(wait, o.signal);
      wait = Math.min(wait * 2, this.o.maxPollMs ?? 1000);
    }
  }

  /** One try: the slot's id, or undefined when `limit` unexpired slots of `name` are held. */
  async tryAcquire(
    name: string,
    limit: number,
    holder: { runId: string; worker: string },
    ttlMs: number,
  ): Promise<string | undefined> {
    return inTx(this.db, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`v2o-slot:${name}`]);
      // Expired slots are a dead (or stalled) holder's: they no longer count, and go.
      await c.query('DELETE FROM v2o_fleet.slots WHERE name = $1 AND expires_at <= clock_timestamp()', [
        name,
      ]);
      const { rows } = await c.query<{ n: string }>(
        'SELECT count(*) AS n FROM v2o_fleet.slots WHERE name = $1',
        [name],
      );
      if (Number(rows[0]!.n) >= limit) return undefined;
      const ins = await c.query<{ id: string }>(
        `INSERT INTO v2o_fleet.slots (name, run_id, worker, ttl_ms, expires_at)
         VALUES ($1, $2, $3, $4::integer, clock_timestamp() + $4::integer * interval '1 millisecond') RETURNING id`,
        [name, holder.runId, holder.worker, ttlMs],
      );
      return ins.rows[0]!.id;
    });
  }

  /** Slots held now (unexpired), for status lines and tests. */
  async held(name: string): Promise<{ runId: string; worker: string }[]> {
    const { rows } = await this.db.query<{ run_id: string; worker: string }>(
      `SELECT run_id, worker FROM v2o_fleet.slots WHERE name = $1 AND expires_at > clock_timestamp() ORDER BY id`,
      [name],
    );
    return rows.map((r) => ({ runId: r.run_id, worker: r.worker }));
  }

  private slot(id: string, ttlMs: number): Slot {
    return {
      renew: async () => {
        // An expired slot is not revived: someone else may hold its place by now.
        const r = await this.db.query(
          `UPDATE v2o_fleet.slots SET expires_at = clock_timestamp() + $2::integer * interval '1 millisecond'
           WHERE id = $1 AND expires_at > clock_timestamp()`,
          [id, ttlMs],
        );
        return r.rowCount === 1;
      },
      release: async () => {
        await this.db.query('DELETE FROM v2o_fleet.slots WHERE id = $1', [id]);
      },
    };
  }
}

/**
 * A slot kept alive every ttl/3 until released (govmomi's lease updater: one object with a stop).
 * `lost` is called once when a renewal finds the slot expired (the holder stalled past its ttl).
 */
export async function holdSlot(
  pool: SlotPool,
  name: string,
  limit: number,
  holder: { runId: string; worker: string },
  o: { ttlMs: number; signal: AbortSignal; lost?: () => void; renewEveryMs?: number },
): Promise<{ release(): Promise<void> }> {
  const slot = await pool.acquire(name, limit, holder, o);
  let lost = false;
  const timer = setInterval(
    () => {
      slot.renew().then(
        (ok) => {
          if (!ok && !lost) {
            lost = true;
            o.lost?.();
          }
        },
        () => {}, // a failed renewal is tried again next tick; the ttl covers two misses
      );
    },
    o.renewEveryMs ?? Math.max(50, Math.floor(o.ttlMs / 3)),
  );
  timer.unref();
  return {
    release: async () => {
      clearInterval(timer);
      await slot.release();
    },
  };
}

async function inTx<T>(db: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
