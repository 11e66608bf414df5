// The run queue on pg-boss 10 (plain PostgreSQL, its own schema). The only file that imports pg-boss,
// so moving to pg-boss 11 (Node 22) changes this file alone. A job only says "look at run X": the
// engine's lease owns the run, so a job is completed as soon as take() resolves, and pg-boss 10's job
// expiry (< 24 h) and its lack of heartbeats never decide anything.

import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { pgTarget } from '../engine/journal/pg-url.js';
import { redactUrl } from '../redaction.js';
import { retryPgRace } from './pg-race.js';

export interface RunQueue {
  /** One job per run (singletonKey = runId); `worker` pins it to that worker's queue. */
  enqueue(runId: string, o?: { startAfter?: Date; worker?: string }): Promise<void>;
  /** Calls `take` for each job; the job is completed as soon as take() resolves (the lease owns the run). */
  work(
    o: {
      worker: string;
      concurrency: number;
      /**
       * Awaited before each fetch: resolves once the worker could drive one more run, so a busy worker
       * leaves jobs to the others instead of holding them. Returns what to call when no job came.
       */
      ready?: (signal: AbortSignal) => Promise<() => void>;
    },
    take: (runId: string) => Promise<void>,
  ): Promise<void>;
  /** The runs that have a job waiting or being taken (on any worker's queue). */
  queuedRuns(): Promise<Set<string>>;
  /**
   * Stops taking jobs and resolves when no take() is in flight; enqueue still works (a drain puts
   * the runs it stopped back on the queue after this). stop() closes it afterwards.
   */
  drain(): Promise<void>;
  /** Stops taking jobs and closes the queue; resolves when no take() is in flight if `wait`. */
  stop(o: { wait: boolean }): Promise<void>;
}

/** Any worker's queue; `v2o-runs.<worker>` holds the runs pinned to one worker (a warm run's volumes). */
export const SHARED_QUEUE = 'v2o-runs';
export const pinnedQueue = (worker: string): string => `${SHARED_QUEUE}.${worker}`;
const SCHEMA = 'v2o_queue';

interface JobData {
  runId: string;
}

export interface OpenRunQueueOptions {
  log: Logger;
  /** How often an idle worker looks for jobs (default 1000 ms; pg-boss's own minimum is 500 ms). */
  pollMs?: number;
}

export async function openRunQueue(url: string, o: OpenRunQueueOptions): Promise<RunQueue> {
  const boss = new PgBoss({
    // The journal's own reading of the URL (sslmode, sslrootcert, PG* variables), so verify-full
    // really verifies the host name here too.
    ...(pgTarget(url).config as PgBoss.ConstructorOptions),
    schema: SCHEMA,
    application_name: 'v2o-queue',
    max: 4,
    // No cron schedules; maintenance (expiry, archive) and the schema migration stay on.
    schedule: false,
    supervise: true,
    migrate: true,
  });
  boss.on('error', (err) => o.log.warn({ err: { message: err.message } }, 'queue error'));
  await boss.start();
  const q = new PgBossRunQueue(boss, o.log, o.pollMs ?? 1000);
  await q.ensureQueue(SHARED_QUEUE);
  o.log.debug({ url: redactUrl(url) }, 'queue open');
  return q;
}

class PgBossRunQueue implements RunQueue {
  private readonly known = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly boss: PgBoss,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  async ensureQueue(name: string): Promise<void> {
    if (this.known.has(name)) return;
    // policy 'short': at most one *queued* job per singletonKey (pg-boss's unique index on
    // (name, singleton_key) WHERE state = 'created'), so enqueueing a run twice makes one job, while
    // a run whose job is being taken can already be queued again (re-enqueue after a drain).
    // createQueue is INSERT … ON CONFLICT DO NOTHING: every worker may call it. It then adds a foreign
    // key to the queue table on the new partition, so two new queues created at once (workers starting
    // together, each with its own pinned queue) can deadlock: PostgreSQL aborts one, which tries again.
    await retryPgRace(() => this.boss.createQueue(name, { name, policy: 'short', retryLimit: 0 }), {
      attempts: 8,
      onRetry: (attempt) =>
        this.log.debug({ queue: name, attempt }, 'queue creation deadlocked with another; trying again'),
    });
    this.known.add(name);
  }

  async enqueue(runId: string, o: { startAfter?: Date; worker?: string } = {}): Promise<void> {
    const name = o.worker ? pinnedQueue(o.worker) : SHARED_QUEUE;
    await this.ensureQueue(name);
    const data: JobData = { runId };
    const id = await this.boss.send(name, data, {
      singletonKey: runId,
      ...(o.startAfter ? { startAfter: o.startAfter } : {}),
    });
    if (id !== null) return;
    // A job for the run is already queued: it must not start later than asked (an approval wakes a
    // run that waits for its next warm pass). pg-boss has no API for this; one UPDATE on its job table
    // (pg-boss 10's schema: job partitioned by name, start_after timestamptz; check on a major bump).
    await this.boss.getDb().executeSql(
      `UPDATE ${SCHEMA}.job SET start_after = least(start_after, coalesce($3::timestamptz, now()))
         WHERE name = $1 AND singleton_key = $2 AND state = 'created'`,
      [name, runId, o.startAfter?.toISOString() ?? null],
    );
  }

  async queuedRuns(): Promise<Set<string>> {
    // pg-boss has no listing by singletonKey; its job table (pg-boss 10's schema: check on a major bump).
    const rows = (await this.boss
      .getDb()
      .executeSql(
        `SELECT DISTINCT singleton_key FROM ${SCHEMA}.job WHERE name LIKE $1 AND state IN ('created', 'retry', 'active')`,
        [`${SHARED_QUEUE}%`],
      )) as { rows: { singleton_key: string | null }[] };
    return new Set(rows.rows.flatMap((r) => (r.singleton_key ? [r.singleton_key] : [])));
  }

  async work(
    o: {
      worker: string;
      concurrency: number;
      ready?: (signal: AbortSignal) => Promise<() => void>;
    },
    take: (runId: string) => Promise<void>,
  ): Promise<void> {
    // Our own fetch loop rather than boss.work(): work() fetches whether or not the worker has room,
    // and a fetched job would sit with a busy worker. fetch() is SELECT … FOR UPDATE SKIP LOCKED with
    // start_after < now() (database time): two workers never get the same job.
    const pinned = pinnedQueue(o.worker);
    await this.ensureQueue(pinned);
    for (let i = 0; i < Math.max(1, o.concurrency); i++)
      this.loops.push(this.loop([pinned, SHARED_QUEUE], o, take));
  }

  private async loop(
    queues: string[],
    o: { ready?: (signal: AbortSignal) => Promise<() => void> },
    take: (runId: string) => Promise<void>,
  ): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      let unready: (() => void) | undefined;
      try {
        unready = o.ready ? await o.ready(signal) : undefined;
        if (signal.aborted) {
          unready?.();
          break;
        }
        const job = await this.fetchOne(queues);
        if (!job) {
          unready?.();
          await pause(this.pollMs, signal);
          continue;
        }
        this.inFlight++;
        try {
          await take(job.data.runId);
        } catch (err) {
          this.log.warn({ runId: job.data.runId, err: { message: (err as Error).message } }, 'take failed');
        } finally {
          // Completed either way: the journal, not the job, says what the run needs next.
          await this.boss.complete(job.name, job.id).catch(() => {});
          this.inFlight--;
          if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
        }
      } catch (err) {
        unready?.();
        if (signal.aborted) break;
        this.log.warn({ err: { message: (err as Error).message } }, 'queue fetch failed; retrying');
        await pause(this.pollMs, signal);
      }
    }
  }

  private async fetchOne(queues: string[]): Promise<{ id: string; name: string; data: JobData } | undefined> {
    for (const name of queues) {
      const jobs = await this.boss.fetch<JobData>(name, { batchSize: 1 });
      const job = jobs[0];
      if (job) return { id: job.id, name, data: job.data };
    }
    return undefined;
  }

  async drain(): Promise<void> {
    this.stopping.abort();
    if (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    await Promise.all(this.loops);
  }

  async stop(o: { wait: boolean }): Promise<void> {
    if (o.wait) await this.drain();
    else this.stopping.abort();
    await this.boss.stop({ graceful: true, wait: o.wait, close: true, timeout: 5_000 });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
