// The run queue on pg-boss against a real PostgreSQL: one take per job across racing workers,
// one queued job per run, startAfter honoured by the database's clock.
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueRuns } from '../../../src/fleet/enqueue.js';
import { openRunQueue, type RunQueue } from '../../../src/fleet/queue.js';
import { freshDatabase } from './pg.js';

const log = pino({ level: 'silent' });
let db: Awaited<ReturnType<typeof freshDatabase>>;
const opened: RunQueue[] = [];
const open = async () => {
  const q = await openRunQueue(db.url, { log, pollMs: 100 });
  opened.push(q);
  return q;
};
const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const q of opened) await q.stop({ wait: false }).catch(() => {});
  await db?.drop();
});

describe('run queue', () => {
  it('two workers racing for one job: exactly one takes it', async () => {
    const producer = await open();
    const [a, b] = [await open(), await open()];
    const takes: string[] = [];
    await a.work({ worker: 'a', concurrency: 2 }, async (id) => void takes.push(`a:${id}`));
    await b.work({ worker: 'b', concurrency: 2 }, async (id) => void takes.push(`b:${id}`));
    await producer.enqueue('r-race');
    await until(() => takes.length > 0);
    await new Promise((r) => setTimeout(r, 1500)); // several more polls of both
    expect(takes.filter((t) => t.endsWith(':r-race'))).toHaveLength(1);
    await a.stop({ wait: true });
    await b.stop({ wait: true });
  });

  it('enqueueing a run twice makes one job; a pinned job goes only to its worker', async () => {
    const q = await open();
    await enqueueRuns(db.url, ['r-twice', 'r-twice']);
    await q.enqueue('r-twice');
    await q.enqueue('r-pinned', { worker: 'w2' });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query(
      `SELECT name, singleton_key FROM v2o_queue.job WHERE singleton_key IN ('r-twice','r-pinned') AND state = 'created' ORDER BY 2`,
    );
    await c.end();
    expect(rows).toEqual([
      { name: 'v2o-runs.w2', singleton_key: 'r-pinned' },
      { name: 'v2o-runs', singleton_key: 'r-twice' },
    ]);
    // What the reaper asks before it hands a pending run back: both queued, the pinned one too.
    expect([...(await q.queuedRuns())].sort()).toEqual(['r-pinned', 'r-twice']);
    const w1 = await open();
    const w2 = await open();
    const got: string[] = [];
    await w1.work({ worker: 'w1', concurrency: 1 }, async (id) => void got.push(`w1:${id}`));
    await until(() => got.includes('w1:r-twice'));
    await w2.work({ worker: 'w2', concurrency: 1 }, async (id) => void got.push(`w2:${id}`));
    await until(() => got.includes('w2:r-pinned'));
    expect(got.sort()).toEqual(['w1:r-twice', 'w2:r-pinned']);
    await until(() => got.length === 2); // taken and completed: no longer queued
    await w1.stop({ wait: true });
    await w2.stop({ wait: true });
    expect(await q.queuedRuns()).toEqual(new Set());
  });

  it('honours startAfter, and an earlier enqueue moves a queued job sooner', async () => {
    const q = await open();
    const w = await open();
    const got = new Map<string, number>();
    const t0 = Date.now();
    await q.enqueue('r-later', { startAfter: new Date(Date.now() + 2500) });
    await q.enqueue('r-woken', { startAfter: new Date(Date.now() + 3_600_000) });
    await q.enqueue('r-woken'); // an approval: due now
    await w.work({ worker: 'w3', concurrency: 1 }, async (id) => void got.set(id, Date.now() - t0));
    await until(() => got.has('r-later'));
    expect(got.get('r-woken')).toBeLessThan(2000);
    expect(got.get('r-later')).toBeGreaterThanOrEqual(2400);
    await w.stop({ wait: true });
  });

  it('ready() gates fetching: a worker with no room leaves the job to another', async () => {
    const q = await open();
    const full = await open();
    const free = await open();
    const got: string[] = [];
    await full.work(
      {
        worker: 'full',
        concurrency: 1,
        ready: (s) => new Promise((r) => s.addEventListener('abort', () => r(() => {}))),
      },
      async (id) => void got.push(`full:${id}`),
    );
    await q.enqueue('r-gated');
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    await free.work({ worker: 'free', concurrency: 1 }, async (id) => void got.push(`free:${id}`));
    await until(() => got.length > 0);
    expect(got).toEqual(['free:r-gated']);
    await full.stop({ wait: true });
    await free.stop({ wait: true });
  });
});
