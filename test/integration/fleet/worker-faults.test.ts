// Two faults of the fleet, with real `v2o worker` processes on a database of this file's own,
// driving the ten-step example-chain workflow (PostgreSQL only; step-05 holds for params.holdMs,
// each step appends "<step> <ms> <cpu> <worker>" to params.markFile):
//   - SIGTERM drains: no new jobs, the step in flight finishes, the run stops at the next step
//     boundary, pending with no lease, and another worker continues it without re-running a step;
//     a second signal exits at once.
//   - PostgreSQL lost mid-run (a TCP proxy between one worker and the database, cut): that worker
//     records nothing, stops before its lease expires, another takes the run over and finishes it,
//     and once the network is back the cut-off worker writes nothing more for that run.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pgTarget } from '../../../src/engine/journal/pg-url.js';
import { PostgresJournal } from '../../../src/engine/journal/postgres.js';
import { openRunQueue, type RunQueue } from '../../../src/fleet/queue.js';
import { STRANDED_AFTER_MS } from '../../../src/fleet/worker.js';
import { exampleChainWorkflow } from '../../../workflows/example-chain.js';
import { startWorker as spawnWorker, until as waitFor } from '../../helpers/fleet-workers.js';
import { freshDatabase } from './pg.js';
import { type TcpProxy, tcpProxy } from './tcp-proxy.js';

const STEPS = exampleChainWorkflow.steps.map((s) => s.id);
/** The runner's and the worker's lease (no flag changes it): a run is taken over this long after its last renewal. */
const LEASE_TTL_MS = 20_000;

let db: Awaited<ReturnType<typeof freshDatabase>>;
let journal: PostgresJournal;
let queue: RunQueue;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-worker-faults-'));
const workers: Worker[] = [];
const proxies: TcpProxy[] = [];

interface Worker {
  name: string;
  child: ChildProcess;
  stateDir: string;
  out: () => string;
  /** Exit code (128 + n for a signal), once it exited. */
  exited: Promise<number>;
}

beforeAll(async () => {
  db = await freshDatabase();
  journal = await PostgresJournal.open(db.url);
  queue = await openRunQueue(db.url, { log: pino({ level: 'silent' }) });
});

/** A test that failed half-way leaves neither a worker nor a live run to the next one. */
async function killWorkers(): Promise<void> {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

afterEach(async () => {
  await killWorkers();
  for (const r of await journal.listRuns())
    if (!['succeeded', 'failed', 'cancelled'].includes(r.state))
      await journal.setRunState(r.id, 'cancelled', Date.now());
});

afterAll(async () => {
  await killWorkers();
  for (const p of proxies) await p.close();
  await queue?.stop({ wait: false }).catch(() => {});
  await journal?.close();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A `v2o worker` (tsx, as `npm run dev`), with a state dir of its own: its run logs are its alone. */
function startWorker(name: string, url: string, maxVms = 2): Worker {
  const stateDir = path.join(dir, name);
  const env = { ...process.env };
  delete env.V2O_JOURNAL;
  const child = spawnWorker({ state: stateDir, url, name, args: ['--max-vms', String(maxVms)], env });
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0))),
  );
  const w = { name, child, stateDir, out: () => child.out.join(''), exited };
  workers.push(w);
  return w;
}

const logs = () =>
  workers
    .map((w) => `--- ${w.name}:\n${w.out().slice(-3000)}`)
    .join('\n')
    .slice(-9000);

async function newRun(subject: string, params: Record<string, unknown> = {}, at = Date.now()) {
  const markFile = path.join(dir, `marks-${subject}`);
  const w = exampleChainWorkflow;
  const r = await journal.createRun({
    workflow: w.name,
    workflowVersion: w.version,
    subject,
    params: { markFile, ...params },
    stepIds: STEPS,
    at,
  });
  return { id: r.id, markFile };
}

/** The steps' marks: who ran which step when, in order. */
function marks(file: string): { step: string; at: number; worker: string }[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [step, at, , worker] = l.split(' ');
      return { step: step!, at: Number(at), worker: worker! };
    });
}

/** The shared poll, every 100 ms, its timeout showing the workers' logs. */
const until = <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms: number) =>
  waitFor(what, fn, ms, { context: logs, pollMs: 100 });

/** Settles with the exit code, or undefined if the process still runs after `ms`. */
const exitWithin = (w: Worker, ms: number) =>
  Promise.race([w.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

const inStep05 = (file: string) => (marks(file).some((m) => m.step === 'step-05') ? true : undefined);

const succeeded = async (id: string) =>
  (await journal.getRun(id))?.state === 'succeeded' ? true : undefined;

/** The run's pino log records written by one worker (its own state dir). */
function runLog(w: Worker, runId: string): { time: number; msg: string; err?: { type?: string } }[] {
  const f = path.join(w.stateDir, 'runs', `${runId}.log`);
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('SIGTERM drains a worker', () => {
  it('no new job after the signal; the step in flight finishes, the run is handed back at the boundary and another worker continues it', async () => {
    const a = startWorker('drain-a', db.url);
    const held = await newRun('drain-held', { holdMs: 4000 });
    await queue.enqueue(held.id);
    await until('drain-a in step-05', () => inStep05(held.markFile), 60_000);
    expect((await journal.getLease(held.id))?.worker).toBe('drain-a');

    const signalled = Date.now();
    a.child.kill('SIGTERM');
    await until(
      'drain-a to hear SIGTERM',
      () => (/SIGTERM: draining/.test(a.out()) ? true : undefined),
      10_000,
    );
    // A job that arrives while it drains: drain-a has a free slot (--max-vms 2) but must leave it.
    const queued = await newRun('drain-queued');
    await queue.enqueue(queued.id);

    // The held step ends 4 s after its mark; then the run stops and the worker exits, within a bound.
    const code = await exitWithin(a, 20_000);
    expect(code, logs()).toBe(0);
    const exitedAt = Date.now();
    expect(exitedAt - signalled).toBeLessThan(20_000);

    // The step in flight completed and is in the journal; the run stopped before step-06, handed back.
    const steps = await journal.getSteps(held.id);
    expect(steps.map((s) => s.state)).toEqual([...Array(5).fill('succeeded'), ...Array(5).fill('pending')]);
    expect(steps[4]!.output).toEqual({ n: 5 });
    expect((await journal.getRun(held.id))?.state).toBe('pending');
    expect(await journal.getLease(held.id)).toBeUndefined();
    const drained = (await journal.events(held.id)).filter((e) => e.type === 'run.pending');
    expect(drained.map((e) => e.data)).toEqual([{ by: 'drain', before: 'step-06' }]);
    expect(marks(held.markFile).map((m) => m.step)).toEqual(STEPS.slice(0, 5));
    // The job that came during the drain was not taken: nothing of it ran, it holds no lease.
    expect(marks(queued.markFile)).toEqual([]);
    expect((await journal.getRun(queued.id))?.state).toBe('pending');
    expect((await journal.events(queued.id)).map((e) => e.type)).toEqual(['run.created']);

    // Another worker takes both: the held run from step-06 on (01..05 not again), the queued one whole.
    const b = startWorker('drain-b', db.url);
    await until(
      'both runs to succeed on drain-b',
      async () => {
        return (await succeeded(held.id)) && (await succeeded(queued.id));
      },
      60_000,
    );
    const m = marks(held.markFile);
    expect(m.map((x) => `${x.step} ${x.worker}`)).toEqual([
      ...STEPS.slice(0, 5).map((s) => `${s} drain-a`),
      ...STEPS.slice(5).map((s) => `${s} drain-b`),
    ]);
    expect(m[5]!.at).toBeGreaterThanOrEqual(exitedAt);
    expect(marks(queued.markFile).map((x) => `${x.step} ${x.worker}`)).toEqual(
      STEPS.map((s) => `${s} drain-b`),
    );
    for (const id of [held.id, queued.id]) {
      const ev = await journal.events(id);
      for (const s of STEPS)
        expect(
          ev.filter((e) => e.type === 'step.succeeded' && e.stepId === s),
          `${id} ${s}`,
        ).toHaveLength(1);
      expect(ev.filter((e) => e.type === 'step.recovered')).toEqual([]);
    }
    b.child.kill('SIGTERM');
    expect(await exitWithin(b, 15_000)).toBe(0);
  });

  it('a second SIGINT exits at once (130) without waiting for the step in flight', async () => {
    const c = startWorker('drain-c', db.url);
    const run = await newRun('drain-twice', { holdMs: 120_000 });
    await queue.enqueue(run.id);
    await until('drain-c in step-05', () => inStep05(run.markFile), 60_000);
    c.child.kill('SIGINT');
    await until(
      'drain-c to hear SIGINT',
      () => (/SIGINT: draining/.test(c.out()) ? true : undefined),
      10_000,
    );
    // The first one drains: the step holds for two minutes, so the worker is still there.
    expect(await exitWithin(c, 1500)).toBeUndefined();
    const t = Date.now();
    c.child.kill('SIGINT');
    expect(await exitWithin(c, 5000), logs()).toBe(130);
    expect(Date.now() - t).toBeLessThan(5000);
    // Nothing was recorded past the step in flight; the run is left to lease expiry (afterEach
    // cancels it, so that no later worker of this file takes it and holds it for two minutes).
    expect((await journal.getStep(run.id, 'step-05'))?.state).toBe('running');
  });
});

describe('a hand-back that was lost', () => {
  it('a pending run left a minute with neither a lease nor a job is queued again by the reaper', async () => {
    // What a drain leaves when its re-enqueue fails (the database lost at that moment): pending, no
    // job. Made here directly: journaled a minute ago by the database's clock, never queued.
    const run = await newRun('stranded', {}, (await journal.now()) - STRANDED_AFTER_MS - 1000);
    const w = startWorker('reaper-a', db.url);
    await until('the stranded run to finish', () => succeeded(run.id), 30_000);
    expect(marks(run.markFile).map((m) => m.step)).toEqual(STEPS);
    expect(w.out()).toMatch(/pending with no lease and no job: run handed back to the queue/);
    w.child.kill('SIGTERM');
    expect(await exitWithin(w, 15_000)).toBe(0);
  });
});

describe('PostgreSQL lost mid-run', () => {
  // 'reset': the database host gone (connections reset, refused); 'silent': a link that drops
  // packets (queries hang; when it heals, the cut-off worker's held writes do arrive, late).
  it.each(['reset', 'silent'] as const)(
    'cut (%s): the cut-off worker records nothing and stops before its lease expires; another takes over; back online it writes nothing more for the run',
    async (how) => {
      const [A, B] = [`${how}-a`, `${how}-b`];
      const target = pgTarget(db.url).config;
      const proxy = await tcpProxy({ host: target.host!, port: target.port! });
      proxies.push(proxy);
      // Only the port changes: verify-full checks the URL's host against the lab certificate.
      const u = new URL(db.url);
      u.port = String(proxy.port);
      const a = startWorker(A, u.toString());
      // Only A holds step-05 (two minutes): the worker taking over must not hold it again.
      const run = await newRun(`lost-${how}`, { holdMs: 120_000, holdWorker: A });
      await queue.enqueue(run.id);
      await until(`${A} in step-05`, () => inStep05(run.markFile), 60_000);
      const held = await journal.getLease(run.id);
      expect(held?.worker).toBe(A);
      const b = startWorker(B, db.url);

      await proxy.cut(how);
      const cutAt = Date.now();
      // A cannot renew after the cut: the lease as it stands now is its last (a renewal in flight
      // at the cut has settled within a second).
      await new Promise((r) => setTimeout(r, 1000));
      const last = (await journal.getLease(run.id))!;
      expect(last.token).toBe(held!.token);
      const eventsAtCut = (await journal.events(run.id)).length;

      await until(`${B} to take the run over and finish it`, () => succeeded(run.id), LEASE_TTL_MS + 40_000);
      const tookOverAt = Date.now();

      // A's runner gave up before its lease expired (by the database's clock), and said so.
      // (A silent cut makes its last reads wait for the connect timeout before the run stops.)
      const recs = await until(
        `${A}'s runner to stop`,
        () => {
          const r = runLog(a, run.id);
          return r.some((x) => x.msg === 'run stopped') ? r : undefined;
        },
        30_000,
      );
      const gaveUp = recs.find(
        (r) => r.msg === 'could not renew the lease in time; stopping before it expires',
      );
      expect(gaveUp, JSON.stringify(recs.slice(-5))).toBeDefined();
      expect(gaveUp!.time).toBeLessThan(last.expiresAt);
      expect(gaveUp!.time).toBeGreaterThan(cutAt - 1000);
      const stopped = recs.find((r) => r.msg === 'run stopped');
      expect(stopped?.err?.type).toBe('LeaseLostError');

      // B took it over after expiry and ran step-05 again (A's attempt never ended), each
      // step's end recorded once, none of them failed or interrupted by A.
      const ev = await journal.events(run.id);
      const takeover = ev.filter((e) => e.type === 'lease.taken-over');
      expect(takeover.map((e) => e.data)).toEqual([
        { from: { pid: held!.pid, host: held!.host, worker: A }, reason: 'lease expired' },
      ]);
      expect(takeover[0]!.at).toBeGreaterThanOrEqual(last.expiresAt);
      for (const s of STEPS)
        expect(
          ev.filter((e) => e.type === 'step.succeeded' && e.stepId === s),
          s,
        ).toHaveLength(1);
      expect(ev.filter((e) => /^step\.(failed|interrupted|cancelled)$|^run\.failed$/.test(e.type))).toEqual(
        [],
      );
      // Nothing A did after the cut reached the journal: the first event after it is the takeover.
      expect(ev[eventsAtCut]?.type).toBe('lease.taken-over');
      expect(marks(run.markFile).map((x) => `${x.step} ${x.worker}`)).toEqual([
        ...STEPS.slice(0, 5).map((s) => `${s} ${A}`),
        ...STEPS.slice(4).map((s) => `${s} ${B}`),
      ]);
      const steps = await journal.getSteps(run.id);
      expect(steps.map((s) => s.state)).toEqual(Array(10).fill('succeeded'));
      expect(steps[4]!.output).toEqual({ n: 5 });
      expect(tookOverAt - cutAt).toBeLessThan(LEASE_TTL_MS + 30_000);

      // A did not exit: it keeps trying the database, writing nothing (its queue and reaper retry).
      expect(a.child.exitCode, logs()).toBeNull();

      // The network comes back. A reconnects (it takes and finishes a new run once B is
      // gone) and writes nothing more for the run it lost: its lease token is long superseded.
      await proxy.restore();
      b.child.kill('SIGTERM');
      expect(await exitWithin(b, 15_000)).toBe(0);
      const after = await newRun(`lost-${how}-after`);
      await queue.enqueue(after.id);
      await until(`${A} to finish a new run after the network came back`, () => succeeded(after.id), 60_000);
      expect(new Set(marks(after.markFile).map((x) => x.worker))).toEqual(new Set([A]));
      await new Promise((r) => setTimeout(r, 3000)); // a reaper pass and a few heartbeats' time
      expect(await journal.events(run.id)).toEqual(ev);
      expect((await journal.getRun(run.id))?.state).toBe('succeeded');
      expect(await journal.getLease(run.id)).toBeUndefined();

      a.child.kill('SIGTERM');
      expect(await exitWithin(a, 15_000), logs()).toBe(0);
    },
  );

  it('PostgreSQL unreachable at start: `v2o worker` exits 2 and says where and what to check', async () => {
    // A port nothing listens on (taken, then freed).
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const u = new URL(db.url);
    u.port = String(port);
    const started = Date.now();
    const w = startWorker('down-at-start', u.toString());
    const code = await exitWithin(w, 30_000);
    expect(code, w.out()).toBe(2);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(w.out()).toMatch(new RegExp(`cannot reach the journal database at 127\\.0\\.0\\.1:${port}/`));
    expect(w.out()).toMatch(/check the journal URL/);
    const pw = pgTarget(db.url).password;
    if (pw) expect(w.out()).not.toContain(pw);
  });
});
