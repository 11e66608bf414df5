// Part of `npm run bench:engine` when PostgreSQL is there: what the fleet adds. Real `v2o worker`
// processes (the compiled CLI) on a database of their own, driving the ten-step example-chain
// workflow, whose steps note the wall time at the first line of run():
//   - queue latency: enqueue (migrate --queue's job) → the run's first step on an idle worker;
//   - takeover: SIGKILL of the worker holding a run mid-step → the first step another worker runs of
//     it (lease expiry by database time, the reaper, the queue), against lease expiry + 5 s.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pgTarget } from '../src/engine/journal/pg-url.js';
import { PostgresJournal } from '../src/engine/journal/postgres.js';
import { silentLogger } from '../src/engine/logger.js';
import { openRunQueue } from '../src/fleet/queue.js';
import { dropDatabase } from '../test/helpers/pg-database.js';
import { exampleChainWorkflow } from '../workflows/example-chain.js';

/** The runner's lease: a dead holder's run can be taken this long after its last renewal. */
const LEASE_TTL_MS = 20_000;
/** Each takeover costs a lease expiry (~25 s); five give a median and a max worth the name. */
const TAKEOVER_ROUNDS = 5;

interface Worker {
  name: string;
  pid?: number;
  proc: ChildProcess;
}

/**
 * Which of the two workers holds the run (to be killed) and which is left to take it over, read from
 * the run's lease: by name and pid, as each round starts new workers with new names.
 */
export function splitByLease<W extends { name: string; pid?: number }>(
  lease: { worker?: string; pid: number } | undefined,
  pair: [W, W],
): { dying: W; surviving: W } {
  const i = pair.findIndex((w) => w.name === lease?.worker && w.pid === lease?.pid);
  if (i < 0)
    throw new Error(
      `fleet bench: the run's lease is held by ${lease ? `${lease.worker} (pid ${lease.pid})` : 'nobody'}, not by ${pair.map((w) => `${w.name} (pid ${w.pid})`).join(' or ')}`,
    );
  return { dying: pair[i]!, surviving: pair[1 - i]! };
}

interface Stats {
  n: number;
  median: number;
  p99: number;
  max: number;
}

export async function fleetLatencies(
  adminUrl: string,
  cliJs: string,
  stats: (xs: number[]) => Stats,
  rounds = TAKEOVER_ROUNDS,
): Promise<{ queue: Stats; takeover: Stats; leaseTtlMs: number }> {
  const db = `v2o_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client(pgTarget(adminUrl).config);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  const url = u.toString();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-bench-fleet-'));
  const journal = await PostgresJournal.open(url);
  const queue = await openRunQueue(url, { log: silentLogger() });
  const workers: ChildProcess[] = [];
  const worker = (name: string): Worker => {
    const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
    const w = spawn(
      process.execPath,
      [cliJs, '--state-dir', dir, '--journal', url, 'worker', '--name', name],
      {
        stdio: ['ignore', log, log],
      },
    );
    workers.push(w);
    return { name, pid: w.pid, proc: w };
  };
  const newRun = async (i: number, holdMs?: number) => {
    const markFile = path.join(dir, `marks-${i}`);
    const w = exampleChainWorkflow;
    const r = await journal.createRun({
      workflow: w.name,
      workflowVersion: w.version,
      subject: `bench-${i}`,
      params: { markFile, ...(holdMs ? { holdMs } : {}) },
      stepIds: w.steps.map((s) => s.id),
      at: Date.now(),
    });
    return { id: r.id, markFile };
  };
  const marks = (file: string) =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => {
            const [step, at] = l.split(' ');
            return { step: step!, at: Number(at) };
          })
      : [];
  // What a hang is read from: who holds which lease, and the queue's jobs (pg-boss 10's table).
  const snapshot = async () => {
    const c = new pg.Client(pgTarget(url).config);
    await c.connect();
    try {
      const leases = await c.query(
        `SELECT l.run_id, r.state, l.worker, l.owner_pid, to_timestamp(l.expires_at / 1000.0) AS expires, now() AS db_now
           FROM leases l JOIN runs r ON r.id = l.run_id ORDER BY l.acquired_at`,
      );
      const jobs = await c.query(
        `SELECT name, singleton_key, state, start_after, completed_on FROM v2o_queue.job
           WHERE state <> 'completed' ORDER BY created_on`,
      );
      return `leases: ${JSON.stringify(leases.rows)}\njobs not completed: ${JSON.stringify(jobs.rows)}`;
    } finally {
      await c.end();
    }
  };
  let failed = false;
  const waitFor = async <T>(fn: () => T | undefined, timeoutMs: number): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > end) {
        failed = true;
        const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
        const tails = logs.map((f) => `${f}:\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-1500)}`);
        const state = await snapshot().catch((err) => `(no snapshot: ${(err as Error).message})`);
        throw new Error(`fleet bench: timed out (worker logs kept in ${dir})\n${state}\n${tails.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    const w1 = worker('bench-1');
    await new Promise((r) => setTimeout(r, 3000)); // started and polling
    const q: number[] = [];
    for (let i = 0; i < 11; i++) {
      const run = await newRun(i);
      const t0 = Date.now();
      await queue.enqueue(run.id);
      const first = await waitFor(() => marks(run.markFile)[0], 30_000);
      q.push(first.at - t0);
      await waitFor(() => (marks(run.markFile).length === 10 ? true : undefined), 30_000);
    }
    const take: number[] = [];
    let pair: [Worker, Worker] = [w1, worker('bench-2')];
    await new Promise((r) => setTimeout(r, 3000));
    for (let i = 0; i < rounds; i++) {
      const run = await newRun(100 + i, 10 * 60_000);
      await queue.enqueue(run.id);
      // Whichever worker took it, kill that one while step-05 holds.
      await waitFor(() => (marks(run.markFile).some((m) => m.step === 'step-05') ? true : undefined), 60_000);
      const { dying, surviving } = splitByLease(await journal.getLease(run.id), pair);
      // A worker that exited at its start would leave nobody to take over: say so, not a timeout.
      if (surviving.proc.exitCode !== null)
        throw new Error(
          `fleet bench: ${surviving.name} exited (${surviving.proc.exitCode}) before the takeover: ${fs.readFileSync(path.join(dir, `${surviving.name}.log`), 'utf8').slice(-1500)}`,
        );
      const t0 = Date.now();
      dying.proc.kill('SIGKILL');
      const again = await waitFor(
        () => marks(run.markFile).filter((m) => m.step === 'step-05')[1],
        LEASE_TTL_MS + 60_000,
      );
      take.push(again.at - t0);
      surviving.proc.kill('SIGKILL'); // the held step would hold it for ten minutes
      await journal.setRunState(run.id, 'cancelled', Date.now());
      pair = [worker(`bench-${3 + 2 * i}`), worker(`bench-${4 + 2 * i}`)];
      await new Promise((r) => setTimeout(r, 3000));
    }
    return { queue: stats(q.slice(1)), takeover: stats(take), leaseTtlMs: LEASE_TTL_MS };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await queue.stop({ wait: false });
    await journal.close();
    await dropDatabase(admin, db);
    await admin.end();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
  }
}
