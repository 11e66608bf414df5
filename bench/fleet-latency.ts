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
  const worker = (name: string) => {
    const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
    const w = spawn(
      process.execPath,
      [cliJs, '--state-dir', dir, '--journal', url, 'worker', '--name', name],
      {
        stdio: ['ignore', log, log],
      },
    );
    workers.push(w);
    return w;
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
  const waitFor = async <T>(fn: () => T | undefined, timeoutMs: number): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > end) {
        const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
        const tails = logs.map((f) => `${f}:\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-1500)}`);
        throw new Error(`fleet bench: timed out\n${tails.join('\n')}`);
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
    let holder = w1;
    let other = worker('bench-2');
    await new Promise((r) => setTimeout(r, 3000));
    for (let i = 0; i < 2; i++) {
      const run = await newRun(100 + i, 10 * 60_000);
      await queue.enqueue(run.id);
      // Whichever worker took it, kill that one while step-05 holds.
      await waitFor(() => (marks(run.markFile).some((m) => m.step === 'step-05') ? true : undefined), 60_000);
      const lease = await journal.getLease(run.id);
      const [dying, surviving] = lease?.worker === 'bench-2' ? [other, holder] : [holder, other];
      const t0 = Date.now();
      dying.kill('SIGKILL');
      const again = await waitFor(
        () => marks(run.markFile).filter((m) => m.step === 'step-05')[1],
        LEASE_TTL_MS + 60_000,
      );
      take.push(again.at - t0);
      surviving.kill('SIGKILL'); // the held step would hold it for ten minutes
      holder = worker(`bench-${3 + 2 * i}`);
      other = worker(`bench-${4 + 2 * i}`);
      await journal.setRunState(run.id, 'cancelled', Date.now());
      await new Promise((r) => setTimeout(r, 3000));
    }
    return { queue: stats(q.slice(1)), takeover: stats(take), leaseTtlMs: LEASE_TTL_MS };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await queue.stop({ wait: false });
    await journal.close();
    await dropDatabase(admin, db);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
