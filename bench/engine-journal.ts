// Benchmark (not a test): journal cost per step transition, and the time from `v2o resume`
// process start to the first line of the next step's run() with 9 of 10 steps done; with
// PostgreSQL (the lab's V2O_LAB_JOURNAL) also the fleet's queue latency and takeover time.
// Run: npm run build && npx tsx bench/engine-journal.ts   (or: npm run bench:engine)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SqliteJournal } from '../src/engine/journal/sqlite.js';
import type { Journal } from '../src/engine/journal/types.js';
import { exampleChainWorkflow } from '../workflows/example-chain.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliJs = path.join(root, 'dist/src/cli/main.js');

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, median: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}
const ms = (x: number) => `${x.toFixed(3)} ms`;

/**
 * One transition = the fenced journal write that moves a step between states (with its event),
 * as the runner makes it: lease check and write in one transaction.
 */
async function transitions(j: Journal, runs: number): Promise<ReturnType<typeof stats>> {
  const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const r = await j.createRun({
      workflow: 'bench',
      workflowVersion: 1,
      subject: 'b',
      params: {},
      stepIds: ids,
      at: Date.now(),
    });
    const fj = j.fenced(
      await j.acquireLease(r.id, { pid: process.pid, host: os.hostname() }, 60_000, () => true),
    );
    for (const id of ids) {
      let t = performance.now();
      await fj.stepAttemptStarted(r.id, id, Date.now(), 1);
      samples.push(performance.now() - t);
      t = performance.now();
      await fj.stepSucceeded(r.id, id, Date.now(), { id, disks: [{ key: 2000, bytes: 42 * 2 ** 30 }] });
      samples.push(performance.now() - t);
    }
    await fj.releaseLease();
    await j.maintain(); // what the runner's heartbeat does every 2 s, outside any transition
  }
  return stats(samples.slice(200)); // drop warm-up
}

async function sqliteTransitions(): Promise<ReturnType<typeof stats>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-bench-'));
  const j = SqliteJournal.open(path.join(dir, 'journal.db'));
  try {
    return await transitions(j, 100);
  } finally {
    await j.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The lab's PostgreSQL (V2O_LAB_JOURNAL in .lab/lab.env), else V2O_BENCH_JOURNAL_PG; undefined when neither. */
function pgUrl(): string | undefined {
  const env = path.resolve(root, process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  const m = fs.existsSync(env)
    ? /^(?:export\s+)?V2O_LAB_JOURNAL=['"]?([^'"\n]+)/m.exec(fs.readFileSync(env, 'utf8'))
    : null;
  return m?.[1] ?? process.env.V2O_BENCH_JOURNAL_PG;
}

/** The same transitions on PostgreSQL, in a schema of their own that is dropped after. */
async function postgresTransitions(url: string): Promise<ReturnType<typeof stats>> {
  const { PostgresJournal } = await import('../src/engine/journal/postgres.js');
  const schema = `p_bench_${process.pid}`;
  const j = await PostgresJournal.open(url, { schema });
  try {
    return await transitions(j, 50);
  } finally {
    await j.close();
    const { default: pg } = await import('pg');
    const { pgTarget } = await import('../src/engine/journal/pg-url.js');
    const c = new pg.Client(pgTarget(url).config);
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}

/** Node's own start on this machine, for scale: spawn to the first line of a script. */
function nodeBaseline(rounds: number): { wall: ReturnType<typeof stats>; cpu: ReturnType<typeof stats> } {
  const samples: number[] = [];
  const cpus: number[] = [];
  const mark = path.join(os.tmpdir(), `v2o-bench-node-${process.pid}`);
  for (let i = 0; i < rounds; i++) {
    const t0 = Date.now();
    spawnSync(process.execPath, [
      '-e',
      `const c = process.cpuUsage(); require('fs').writeFileSync(${JSON.stringify(mark)}, Date.now() + ' ' + (c.user + c.system) / 1000)`,
    ]);
    const [at, cpu] = fs.readFileSync(mark, 'utf8').split(' ').map(Number);
    samples.push(at - t0);
    cpus.push(cpu);
  }
  fs.rmSync(mark, { force: true });
  return { wall: stats(samples.slice(1)), cpu: stats(cpus.slice(1)) };
}

/**
 * Spawns the built CLI to resume a 10-step run whose first 9 steps succeeded. `entry` 'cli' is
 * `node dist/src/cli/main.js resume` (every command module loads); 'engine' calls resumeRun()
 * from a two-line script, to show the engine's own share.
 */
async function resumeLatency(
  rounds: number,
  entry: 'cli' | 'engine',
): Promise<{ wall: ReturnType<typeof stats>; cpu: ReturnType<typeof stats> }> {
  if (!fs.existsSync(cliJs)) throw new Error(`${cliJs} missing: run \`npm run build\` first`);
  const samples: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-bench-resume-'));
    const markFile = path.join(state, 'marks');
    const j = SqliteJournal.open(path.join(state, 'journal.db'));
    const w = exampleChainWorkflow;
    const run = await j.createRun({
      workflow: w.name,
      workflowVersion: w.version,
      subject: 'bench',
      params: { markFile },
      stepIds: w.steps.map((s) => s.id),
      at: Date.now(),
    });
    for (const s of w.steps.slice(0, 9)) {
      await j.stepAttemptStarted(run.id, s.id, Date.now(), 1);
      await j.stepSucceeded(run.id, s.id, Date.now(), { n: 0 });
    }
    await j.close();
    const script = path.join(state, 'resume.mjs');
    fs.writeFileSync(
      script,
      `import { resumeRun } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist/src/cli/run-workflow.js')).href)};\n` +
        `process.exitCode = (await resumeRun(${JSON.stringify(run.id)}, { globals: { stateDir: ${JSON.stringify(state)} } })).exitCode;\n`,
    );
    const args = entry === 'cli' ? [cliJs, '--state-dir', state, 'resume', run.id] : [script];
    const t0 = Date.now();
    const p = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`resume failed (${p.status}): ${p.stderr}`);
    const [step, at, cpu] = fs.readFileSync(markFile, 'utf8').trim().split(' ');
    if (step !== 'step-10') throw new Error(`expected step-10 to run first, got ${step}`);
    samples.push(Number(at) - t0);
    cpus.push(Number(cpu));
    fs.rmSync(state, { recursive: true, force: true });
  }
  return { wall: stats(samples.slice(1)), cpu: stats(cpus.slice(1)) }; // the first spawn warms the file cache
}

const t = await sqliteTransitions();
console.log(
  `journal step transition (SQLite): median ${ms(t.median)}, p99 ${ms(t.p99)}, max ${ms(t.max)} (n=${t.n}; target p99 <= 2 ms)`,
);
const url = pgUrl();
if (url) {
  const p = await postgresTransitions(url);
  console.log(
    `journal step transition (PostgreSQL, fenced): median ${ms(p.median)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (n=${p.n}; target p99 <= 5 ms)`,
  );
  if (!fs.existsSync(cliJs)) throw new Error(`${cliJs} missing: run \`npm run build\` first`);
  const { fleetLatencies } = await import('./fleet-latency.js');
  const f = await fleetLatencies(url, cliJs, stats);
  console.log(
    `queue: enqueue → first step on an idle worker: median ${f.queue.median} ms, p99 ${f.queue.p99} ms, max ${f.queue.max} ms (n=${f.queue.n})`,
  );
  console.log(
    `takeover: worker SIGKILLed mid-step → another worker's first step of the run: median ${(f.takeover.median / 1000).toFixed(1)} s, max ${(f.takeover.max / 1000).toFixed(1)} s (n=${f.takeover.n}; target <= lease expiry ${f.leaseTtlMs / 1000} s + 5 s)`,
  );
  const { labProcessEnv } = await import('../test/helpers/lab-env.js');
  const env = labProcessEnv();
  if (env.V2O_LAB_VSPHERE_VM_WARM && !process.argv.includes('--no-scale')) {
    const { fleetScale } = await import('./fleet-scale.js');
    const rate = 30_000_000;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-bench-scale-'));
    const s = await fleetScale({ env, root, cliJs, work }, url, rate);
    const MB = (x: number) => `${(x / 1e6).toFixed(1)} MB/s`;
    console.log(
      `scale: six 1 GiB disks, each worker's links at ${MB(rate)}: moving disks, one worker ${MB(s.one.transfer)}, three workers ${MB(s.three.transfer)} = ${(s.three.transfer / s.one.transfer).toFixed(2)} × one (target >= 0.9 × 3 = 2.7); whole wave (with guest preparation and launch) ${MB(s.one.wall)} vs ${MB(s.three.wall)} = ${(s.three.wall / s.one.wall).toFixed(2)} × one`,
    );
    fs.rmSync(work, { recursive: true, force: true });
  } else console.log('scale: skipped (needs both labs up: npm run lab -- up all; --no-scale skips it)');
} else {
  console.log(
    'journal step transition (PostgreSQL): skipped, no V2O_LAB_JOURNAL in .lab/lab.env nor V2O_BENCH_JOURNAL_PG',
  );
}
const b = nodeBaseline(11);
for (const entry of ['cli', 'engine'] as const) {
  const r = await resumeLatency(11, entry);
  console.log(
    `resume (${entry === 'cli' ? 'v2o resume' : 'resumeRun() only'}) start → next step's run(): median ${r.wall.median} ms, p99 ${r.wall.p99} ms, max ${r.wall.max} ms; CPU used by then: median ${r.cpu.median.toFixed(0)} ms (n=${r.wall.n}; target <= 200 ms)`,
  );
}
console.log(
  `for scale, bare node start → first line: median ${b.wall.median} ms, max ${b.wall.max} ms; CPU median ${b.cpu.median.toFixed(0)} ms; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
);
