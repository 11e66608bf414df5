// Workers that start together each create their own pinned queue (v2o-runs.<name>) at once.
// pg-boss 10's create_queue() inserts the queue's row, then adds a foreign key to that table on the
// new partition: two of them at once can deadlock, and a worker that got the deadlock exited at its
// start (the takeover bench's third round then had no worker left to take the run over).
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRunQueue, pinnedQueue, type RunQueue } from '../../../src/fleet/queue.js';
import { freshDatabase } from './pg.js';

const log = pino({ level: 'silent' });
let db: Awaited<ReturnType<typeof freshDatabase>>;
const opened: RunQueue[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  // One after the other: this test is about the pinned queues, not pg-boss's own schema migration.
  for (let i = 0; i < 4; i++) opened.push(await openRunQueue(db.url, { log, pollMs: 100 }));
});
afterAll(async () => {
  for (const q of opened) await q.stop({ wait: false }).catch(() => {});
  await db?.drop();
});

describe('pinned queues created at once', () => {
  it('four workers creating their own queues together, ten times: none fails, all exist', async () => {
    const names: string[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = opened.map((_, i) => `w${round}-${i}`);
      names.push(...batch);
      // enqueue to a worker's queue creates it as work() does (ensureQueue): the same statement.
      const results = await Promise.allSettled(
        opened.map((q, i) => q.enqueue(`r-${round}-${i}`, { worker: batch[i]! })),
      );
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failed).toEqual([]);
    }
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const q = await c.query<{ name: string }>('SELECT name FROM v2o_queue.queue');
      expect(q.rows.map((r) => r.name).sort()).toEqual(expect.arrayContaining(names.map(pinnedQueue)));
      const j = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM v2o_queue.job WHERE state = 'created'`,
      );
      expect(Number(j.rows[0]!.n)).toBe(names.length);
    } finally {
      await c.end();
    }
  });
});
