// `v2o worker [--name N] [--max-vms K] [--metrics HOST:PORT] [--conversion-host S] [--device-dir D]`:
// one conversion host of the fleet. Takes run jobs from the PostgreSQL journal's queue and drives
// them; SIGTERM drains (exit 0).
import os from 'node:os';
import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import type { Journal } from '../../engine/journal/types.js';
import type { HostSettings } from '../../engine/types.js';
import { ConfigError, ExitCode } from '../../errors.js';
import { retryPgRace } from '../../fleet/pg-race.js';
import type { WorkerOptions } from '../../fleet/worker.js';
import { redactOptions, redactUrl } from '../../redaction.js';
import type { CommandModule, GlobalOptions } from '../command.js';
import { globalOptions } from '../context.js';
import { exitCodesHelp } from './help.js';

/** What the commands need from the engine (wired by the CLI): the journal, and how a run is driven. */
export interface FleetRuntime {
  openJournal(spec: string): Promise<Journal>;
  drive: WorkerOptions['drive'];
}

export interface WorkerFlags {
  name?: string;
  maxVms?: string;
  fleetVms?: string;
  metrics?: string;
  conversionHost?: string;
  deviceDir?: string;
}

/** Pure: the flags as runWorker's settings, or ConfigError naming the flag. */
export function parseWorkerFlags(f: WorkerFlags, hostname = os.hostname()) {
  const name = f.name ?? hostname;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name))
    throw new ConfigError(`--name ${name}: letters, digits, '.', '_' and '-' only (at most 63)`, {
      hint: 'for example --name conv-01',
    });
  const int = (flag: string, v: string | undefined, dflt: number | undefined) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigError(`${flag} ${v}: expected a whole number of at least 1`, { hint: `${flag} 2` });
    return n;
  };
  if (f.conversionHost !== undefined && !f.conversionHost.trim())
    throw new ConfigError('--conversion-host is empty', {
      hint: 'name this host: --conversion-host auto (its metadata service), or its server name or id',
    });
  if (f.deviceDir !== undefined && !isAbsolute(f.deviceDir))
    throw new ConfigError(`--device-dir ${f.deviceDir}: expected an absolute path`, {
      hint: '--device-dir /dev/disk/by-id',
    });
  // The runs' conversion host is this one, whatever the shared plan names (HostSettings keys).
  const host: HostSettings = {
    ...(f.conversionHost ? { conversionHost: f.conversionHost.trim() } : {}),
    ...(f.deviceDir ? { deviceDir: f.deviceDir } : {}),
  };
  return {
    name,
    maxVms: int('--max-vms', f.maxVms, 2)!,
    fleetVms: int('--fleet-vms', f.fleetVms, undefined),
    metrics: f.metrics,
    host,
  };
}

export function workerCommand(
  runtime: (globals: GlobalOptions, host?: HostSettings) => Promise<FleetRuntime>,
): CommandModule {
  return {
    register(program: Command) {
      program
        .command('worker')
        .description('take migration jobs from the fleet queue (journal on PostgreSQL) and run them')
        .option('--name <name>', 'this worker (runs pinned to it wait for it; default: the host name)')
        .option('--max-vms <k>', 'runs this worker drives at once (default 2)')
        .option('--fleet-vms <k>', 'runs the whole fleet drives at once (a semaphore in PostgreSQL)')
        .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
        .option(
          '--conversion-host <server>',
          "the server this worker runs on, for its runs' volumes: auto (metadata service) or a name or id (default: the plan's conversionHost.server)",
        )
        .option(
          '--device-dir <dir>',
          "where volumes attached here appear by id (default: the plan's conversionHost.deviceDir)",
        )
        .addHelpText(
          'after',
          `
Needs the journal on PostgreSQL (--journal postgres://… or V2O_JOURNAL); jobs come from
\`v2o migrate plan.yaml --queue\`. SIGTERM drains: no new jobs, runs in flight stop at their next
step boundary, give back their lease and go back on the queue, then exit 0. Ctrl-C does the same
(exit 130); a second one exits at once. A worker that dies loses its runs' leases; another worker
takes them over once they expire, except a run pinned to the dead worker's conversion host (its
volumes are attached there): it waits for that worker, or for \`v2o reassign\`.

Each worker is a conversion host: the volumes of the warm (and volume-route) runs it drives are
attached to the server it runs on, and the run stays with it (\`v2o reassign\` moves it when the host
is lost). A shared plan that names a server (conversionHost.server) would send every worker's
volumes there: --conversion-host says which server this one is, over the plan (auto: the one the
metadata service answers for), and --device-dir where its attached volumes appear.

Examples:
  V2O_JOURNAL=postgres://v2o@db.example/v2o v2o worker --name conv-01 --max-vms 3
  v2o --journal 'postgres://v2o@db/v2o?sslmode=verify-full&sslrootcert=/etc/v2o/ca.pem' worker \\
      --fleet-vms 8 --metrics 127.0.0.1:9464
  v2o worker --name conv-02 --conversion-host conv-02 --device-dir /dev/disk/by-id
${exitCodesHelp([0, 1, 2, 130])}`,
        )
        .action(async (f: WorkerFlags, cmd: Command) => {
          const { requirePostgresJournal } = await import('../../fleet/enqueue.js');
          const spec = requirePostgresJournal(
            cmd.optsWithGlobals<{ journal?: string }>().journal ?? process.env.V2O_JOURNAL,
          );
          const flags = parseWorkerFlags(f);
          process.exitCode = await serveWorker(spec, flags, await runtime(globalOptions(cmd), flags.host));
        });
    },
  };
}

async function serveWorker(
  spec: string,
  flags: ReturnType<typeof parseWorkerFlags>,
  rt: FleetRuntime,
): Promise<number> {
  const [
    { openRunQueue },
    { runWorker },
    metricsMod,
    { PgSlotPool },
    { default: pg },
    { pgTarget },
    { FleetTransferLimiter },
    { useLimiterProvider },
  ] = await Promise.all([
    import('../../fleet/queue.js'),
    import('../../fleet/worker.js'),
    import('../../fleet/metrics.js'),
    import('../../fleet/slots.js'),
    import('pg'),
    import('../../engine/journal/pg-url.js'),
    import('../../fleet/fleet-limiter.js'),
    import('../../transfer/limiter.js'),
  ]);
  const log = pino(
    { name: 'v2o-worker', redact: redactOptions, base: { worker: flags.name } },
    pino.destination(2),
  );
  const listen = flags.metrics === undefined ? undefined : metricsMod.parseListen(flags.metrics);
  // Workers that start together race to create the journal's, the queue's and the slots' tables;
  // PostgreSQL then answers one of them with a deadlock or a duplicate object: that start is tried again.
  const journal = await retryStartup(() => rt.openJournal(spec), log);
  // The journal's own reading of the URL (sslmode verify-full checks the host name; PG* variables).
  const { config } = pgTarget(spec);
  const queue = await retryStartup(() => openRunQueue(spec, { log }), log);
  const db = new pg.Pool({ ...config, max: 3 });
  // An idle client cut by the server (a restart) must not crash the worker: the next query reconnects.
  db.on('error', (err) => log.warn({ err: { message: err.message } }, 'slot database connection lost'));
  const metrics = metricsMod.createMetrics(() => journal.countRunsByState());
  const server = listen && (await metricsMod.serveMetrics(metrics, listen));
  const slots = await retryStartup(() => PgSlotPool.open(db), log);
  // The plan's transfer limits (overall, per source host, per target) hold over the whole fleet.
  useLimiterProvider((l) => new FleetTransferLimiter(slots, { runId: 'transfer', worker: flags.name }, l));
  const drain = new AbortController();
  let code: number = ExitCode.ok;
  const onSignal = (sig: NodeJS.Signals) => {
    if (drain.signal.aborted) process.exit(ExitCode.interrupted);
    if (sig === 'SIGINT') code = ExitCode.interrupted;
    process.stderr.write(
      `\n${sig}: draining (runs stop at their next step boundary; again to exit at once)\n`,
    );
    drain.abort(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    log.info(
      { journal: redactUrl(spec), maxVms: flags.maxVms, metrics: server?.address, ...flags.host },
      'worker started',
    );
    await runWorker({
      journal,
      queue,
      name: flags.name,
      maxVms: flags.maxVms,
      drive: rt.drive,
      log,
      metrics,
      signal: drain.signal,
      ...(flags.fleetVms ? { fleetVms: { pool: slots, limit: flags.fleetVms } } : {}),
    });
    log.info('worker drained');
    return code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await server?.close();
    useLimiterProvider(undefined);
    await db.end();
    await journal.close();
  }
}

/** A start that raced another worker's (see retryPgRace) is tried again, said in the log. */
function retryStartup<T>(fn: () => Promise<T>, log: pino.Logger): Promise<T> {
  return retryPgRace(fn, {
    attempts: 5,
    onRetry: (attempt, code) =>
      log.warn({ attempt, code }, 'another worker is setting up the database at the same time; trying again'),
  });
}
