// The fleet semaphore against a real PostgreSQL: holders on separate connections never exceed the
// limit (counted here, not by the code under test), and a dead holder's slot returns after its ttl.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetTransferLimiter } from '../../../src/fleet/fleet-limiter.js';
import { PgSlotPool } from '../../../src/fleet/slots.js';
import { freshDatabase } from './pg.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
const pools: pg.Pool[] = [];
const newPool = () => {
  const p = new pg.Pool({ connectionString: db.url, max: 2 });
  p.on('error', () => {}); // idle clients cut by DROP DATABASE … FORCE at the end
  pools.push(p);
  return p;
};
const never = new AbortController().signal;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  await db?.drop();
});

describe('fleet slots', () => {
  it('never more than the limit held across six holders on separate connections', async () => {
    // Opened at once: creating the schema must not race either.
    const holders = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => PgSlotPool.open(newPool(), { minPollMs: 20, maxPollMs: 80 })),
    );
    let now = 0;
    let max = 0;
    let done = 0;
    await Promise.all(
      holders.map(async (pool, i) => {
        for (let k = 0; k < 3; k++) {
          const slot = await pool.acquire(
            'vms',
            2,
            { runId: `r-${i}`, worker: `w${i}` },
            { ttlMs: 10_000, signal: never },
          );
          now++;
          max = Math.max(max, now);
          await sleep(30 + ((i * 7 + k * 13) % 40));
          now--;
          await slot.release();
          done++;
        }
      }),
    );
    expect(done).toBe(18);
    expect(max).toBe(2); // reached, never passed
  });

  it("a dead holder's slot comes back when it expires (database time)", async () => {
    const deadDb = newPool();
    const dead = await PgSlotPool.open(deadDb);
    await dead.acquire('gone', 1, { runId: 'r-dead', worker: 'dead' }, { ttlMs: 1500, signal: never });
    await deadDb.end(); // the holder is gone: no renewal, no release
    const live = await PgSlotPool.open(newPool(), { minPollMs: 50, maxPollMs: 100 });
    expect(await live.tryAcquire('gone', 1, { runId: 'r-live', worker: 'live' }, 5000)).toBeUndefined();
    const t0 = Date.now();
    const slot = await live.acquire(
      'gone',
      1,
      { runId: 'r-live', worker: 'live' },
      { ttlMs: 5000, signal: never },
    );
    expect(Date.now() - t0).toBeGreaterThan(800);
    expect(await live.held('gone')).toEqual([{ runId: 'r-live', worker: 'live' }]);
    expect(await slot.renew()).toBe(true);
    await slot.release();
    expect(await live.held('gone')).toEqual([]);
  });

  it('an expired slot is not renewed; waiting stops on abort', async () => {
    const pool = await PgSlotPool.open(newPool(), { minPollMs: 20, maxPollMs: 50 });
    const s = await pool.acquire('short', 1, { runId: 'r', worker: 'w' }, { ttlMs: 200, signal: never });
    await sleep(400);
    expect(await s.renew()).toBe(false);
    await pool.acquire('short', 1, { runId: 'r2', worker: 'w' }, { ttlMs: 10_000, signal: never });
    const ac = new AbortController();
    const waiting = pool.acquire(
      'short',
      1,
      { runId: 'r3', worker: 'w' },
      { ttlMs: 1000, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 200);
    await expect(waiting).rejects.toThrow(/aborted while waiting/);
  });

  it('the transfer limits hold across two limiters (two workers) per source host', async () => {
    const a = new FleetTransferLimiter(
      await PgSlotPool.open(newPool()),
      { runId: 'r-a', worker: 'a' },
      { perSource: 1, perTarget: 4, overall: 4 },
    );
    const b = new FleetTransferLimiter(
      await PgSlotPool.open(newPool()),
      { runId: 'r-b', worker: 'b' },
      { perSource: 1, perTarget: 4, overall: 4 },
    );
    let inHost1 = 0;
    let max = 0;
    const copy = async () => {
      inHost1++;
      max = Math.max(max, inHost1);
      await sleep(150);
      inHost1--;
    };
    const keys = { source: 'esxi-1', target: 'glance' };
    await Promise.all([a.run(keys, copy), b.run(keys, copy), a.run(keys, copy), b.run(keys, copy)]);
    expect(max).toBe(1);
  });
});
