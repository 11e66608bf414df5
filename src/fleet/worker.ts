// `v2o worker`: takes run jobs from the queue while it has a free VM slot (its own --max-vms and the
// fleet's `vms` semaphore), fences the run's lease, lets the job complete, and drives the run with the
// same runner as the CLI. What happens to a run afterwards is decided from the journal alone (pure
// functions below, unit-tested); a reaper hands the runs of dead workers back to the queue.
import os from 'node:os';
import type { Logger } from 'pino';
import type { Fence, Journal, LeaseRecord, RunRecord } from '../engine/journal/types.js';
import { processIsAlive } from '../engine/liveness.js';
import type { RunObserver, RunOutcome } from '../engine/runner.js';
import { type FleetMetrics, metricsObserver } from './metrics.js';
import type { RunQueue } from './queue.js';
import { holdSlot, type SlotPool } from './slots.js';

export type TakeDecision =
  | { kind: 'drop'; why: string }
  | { kind: 'forward'; worker: string }
  | { kind: 'later'; startAfter: number }
  | { kind: 'drive' };

/** What a worker does with a job for `run`, read from the journal at database time `now`. */
export function decideTake(run: RunRecord | undefined, me: string, now: number): TakeDecision {
  if (!run) return { kind: 'drop', why: 'no such run' };
  if (run.state === 'succeeded' || run.state === 'cancelled')
    return { kind: 'drop', why: `run ${run.state}` };
  // A failed run waits for an operator (`v2o resume`); the queue does not retry it.
  if (run.state === 'failed') return { kind: 'drop', why: 'run failed' };
  if (run.affinity !== undefined && run.affinity !== me) return { kind: 'forward', worker: run.affinity };
  if (run.state === 'waiting' && run.wakeAt !== undefined && run.wakeAt > now)
    return { kind: 'later', startAfter: run.wakeAt };
  return { kind: 'drive' };
}

export type AfterDrive = { kind: 'none' } | { kind: 'enqueue'; startAfter?: number; worker?: string };

/** What to queue after a drive ended with `outcome` (`affinity`: the run's, read again after). */
export function decideAfterDrive(
  outcome: Pick<RunOutcome, 'state' | 'wakeAt'>,
  o: { draining: boolean; affinity?: string },
): AfterDrive {
  const pin = o.affinity === undefined ? {} : { worker: o.affinity };
  switch (outcome.state) {
    case 'succeeded':
    case 'cancelled':
    case 'failed':
      return { kind: 'none' };
    case 'waiting':
      // At a gate nothing is queued: approve/cutover enqueue the run.
      return outcome.wakeAt === undefined
        ? { kind: 'none' }
        : { kind: 'enqueue', startAfter: outcome.wakeAt, ...pin };
    default:
      // pending/running: stopped at a step boundary by a drain (or interrupted): someone continues now.
      return { kind: 'enqueue', ...pin };
  }
}

/** A pending run this long without a lease or a job was not just created: its hand-back was lost. */
export const STRANDED_AFTER_MS = 60_000;

/**
 * Runs the reaper hands back: `running` with no lease or one that expired by database time; and
 * `pending` ones with neither a lease nor a job for a minute (a drain whose re-enqueue failed: the
 * database was lost at that moment), which would otherwise wait for an operator's `v2o resume`.
 */
export function orphaned(
  runs: RunRecord[],
  leases: Map<string, LeaseRecord | undefined>,
  queued: Set<string>,
  now: number,
): RunRecord[] {
  return runs.filter((r) => {
    const l = leases.get(r.id);
    if (r.state === 'running') return l === undefined || l.expiresAt <= now;
    if (r.state === 'pending')
      return l === undefined && !queued.has(r.id) && r.updatedAt <= now - STRANDED_AFTER_MS;
    return false;
  });
}

export interface WorkerOptions {
  journal: Journal;
  queue: RunQueue;
  name: string;
  maxVms: number;
  /** Drives one run to its end or next stop; `signal` aborts at the next step boundary (drain). */
  /** Drives one run to a stop; `stop` aborted = stop at the next step boundary (drain). */
  drive: (runId: string, stop: AbortSignal, worker: string, observer?: RunObserver) => Promise<RunOutcome>;
  log: Logger;
  metrics?: FleetMetrics;
  /** The fleet-wide VM limit (the plan's), as the `vms` semaphore of the SlotPool. */
  fleetVms?: { pool: SlotPool; limit: number };
  /** Aborting it drains: no new jobs, runs stop at a step boundary and are queued again. */
  signal: AbortSignal;
  /** The lease the worker takes before the job completes (default 20 s, the runner's default). */
  leaseTtlMs?: number;
  /** Reaper interval (default 5 s). */
  reaperMs?: number;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const w = new Worker(o);
  await w.run();
}

class Worker {
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly drives = new Set<Promise<void>>();
  /** The fleet slot reserved by ready() for the job the loop is about to take. */
  private reserved: { release(): Promise<void> } | undefined;
  private readonly owner;

  constructor(private readonly o: WorkerOptions) {
    this.owner = { pid: process.pid, host: os.hostname(), worker: o.name };
  }

  async run(): Promise<void> {
    const { o } = this;
    if (o.signal.aborted) return;
    await o.queue.work({ worker: o.name, concurrency: 1, ready: (s) => this.ready(s) }, (runId) =>
      this.take(runId),
    );
    const reaper = setInterval(() => void this.reap(), o.reaperMs ?? 5_000);
    void this.reap();
    await new Promise<void>((r) => o.signal.addEventListener('abort', () => r(), { once: true }));
    o.log.info({ active: this.active }, 'draining: no new jobs; runs stop at their next step boundary');
    await o.queue.drain();
    clearInterval(reaper);
    // The queue stays open until the drives end: each puts its stopped run back on it (closed
    // first, that enqueue failed and the run was left pending with no job, for no worker to take).
    await Promise.all([...this.drives]);
    await o.queue.stop({ wait: true });
  }

  /** Resolves once a local VM slot and (when configured) a fleet `vms` slot are ours. */
  private async ready(signal: AbortSignal): Promise<() => void> {
    while (this.active >= this.o.maxVms && !signal.aborted) {
      await new Promise<void>((r) => {
        this.slotWaiters.push(r);
        signal.addEventListener('abort', () => r(), { once: true });
      });
    }
    this.active++;
    if (this.o.fleetVms && !signal.aborted) {
      try {
        this.reserved = await holdSlot(
          this.o.fleetVms.pool,
          'vms',
          this.o.fleetVms.limit,
          { runId: '-', worker: this.o.name },
          { ttlMs: this.o.leaseTtlMs ?? 20_000, signal },
        );
      } catch (err) {
        this.freeLocal();
        throw err;
      }
    }
    return () => this.unreserve();
  }

  private unreserve(): void {
    const r = this.reserved;
    this.reserved = undefined;
    void r?.release().catch(() => {});
    this.freeLocal();
  }

  private freeLocal(): void {
    this.active--;
    this.slotWaiters.shift()?.();
  }

  private async take(runId: string): Promise<void> {
    const { journal, queue, log, name } = this.o;
    let handedOff = false;
    try {
      const [run, now] = [await journal.getRun(runId), await journal.now()];
      const d = decideTake(run, name, now);
      if (d.kind === 'drop') return log.info({ runId, why: d.why }, 'job dropped');
      if (d.kind === 'forward') {
        log.info({ runId, to: d.worker }, 'run pinned to another worker: job moved to its queue');
        return await queue.enqueue(runId, { worker: d.worker });
      }
      if (d.kind === 'later') return await queue.enqueue(runId, { startAfter: new Date(d.startAfter) });
      const before = await journal.getLease(runId);
      let fence: Fence;
      try {
        fence = await journal.acquireLease(runId, this.owner, this.o.leaseTtlMs ?? 20_000, processIsAlive);
      } catch (err) {
        // Another worker holds it (it raced us for the job or resumed it by hand): its job now.
        return log.info(
          { runId, err: { message: (err as Error).message } },
          'run held elsewhere: job dropped',
        );
      }
      if (before && before.expiresAt <= now && before.worker !== name) this.o.metrics?.leaseTakeover();
      handedOff = true;
      const slot = this.reserved;
      this.reserved = undefined;
      const p = this.drive(runId, fence).finally(() => {
        void slot?.release().catch(() => {});
        this.freeLocal();
        this.drives.delete(p);
      });
      this.drives.add(p);
    } finally {
      if (!handedOff) this.unreserve();
    }
  }

  private async drive(runId: string, fence: Fence): Promise<void> {
    const { journal, queue, log, name, signal } = this.o;
    try {
      const observer = this.o.metrics && metricsObserver(this.o.metrics);
      const outcome = await this.o.drive(runId, signal, name, observer);
      const run = await journal.getRun(runId);
      const next = decideAfterDrive(outcome, { draining: signal.aborted, affinity: run?.affinity });
      log.info({ runId, state: outcome.state, next: next.kind }, 'run stopped');
      if (next.kind === 'enqueue')
        await queue.enqueue(runId, {
          ...(next.startAfter === undefined ? {} : { startAfter: new Date(next.startAfter) }),
          ...(next.worker === undefined ? {} : { worker: next.worker }),
        });
    } catch (err) {
      // The runner records its own outcome; what fails here is reading the run or queueing it again
      // (the journal unreachable): a run left `running` goes back to the queue by any worker's reaper.
      log.error(
        { runId, err: { message: (err as Error).message } },
        'could not hand the run on after its drive (journal or queue unreachable)',
      );
    } finally {
      // The runner released its own lease; this is the one take() fenced (a no-op once superseded).
      await journal.releaseLease(fence).catch(() => {});
    }
  }

  /** Every worker reaps: enqueueing is idempotent (one queued job per run), the lease decides. */
  private async reap(): Promise<void> {
    const { journal, queue, log } = this.o;
    try {
      const now = await journal.now();
      const runs = await journal.runsInState(['running', 'pending']);
      const stale = runs.filter((r) => r.state === 'pending' && r.updatedAt <= now - STRANDED_AFTER_MS);
      // One query for the queue; leases only for what could be orphaned (a queued run is not).
      const queued = stale.length > 0 ? await queue.queuedRuns() : new Set<string>();
      const live = [...runs.filter((r) => r.state === 'running'), ...stale.filter((r) => !queued.has(r.id))];
      const leases = new Map<string, LeaseRecord | undefined>();
      for (const r of live) leases.set(r.id, await journal.getLease(r.id));
      for (const r of orphaned(live, leases, queued, now)) {
        log.info(
          { runId: r.id, state: r.state },
          r.state === 'running'
            ? 'lease expired: run handed back to the queue'
            : 'pending with no lease and no job: run handed back to the queue',
        );
        await queue.enqueue(r.id, r.affinity === undefined ? {} : { worker: r.affinity });
      }
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'reaper pass failed');
    }
  }
}
