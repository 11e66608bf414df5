// Start, resume or cancel a run from the CLI: journal, progress display, Ctrl-C handling, and the
// final message. `migrate`, `resume` and `cancel` are thin wrappers over these functions, and
// run-parallel.ts drives several runs through the same session and reporting.
import { localIso, type Sleep, systemClock, systemSleep } from '../engine/clock.js';
import type { Journal } from '../engine/journal/types.js';
import { type AnyWorkflow, WorkflowRegistry } from '../engine/registry.js';
import { Runner, type RunObserver, type RunOutcome } from '../engine/runner.js';
import { runLogPath } from '../engine/state-dir.js';
import type { Clock } from '../engine/types.js';
import { ExitCode } from '../errors.js';
import type { GlobalOptions } from './command.js';
import { openJournal, stateDirOf, withJournal } from './context.js';
import { PlainProgress } from './progress/plain-progress.js';
import { installInterruptHandlers } from './signals.js';

export interface DriveOptions {
  /** Global options (--state-dir); default: the environment's state dir. */
  globals?: GlobalOptions;
  /** Print the outcome as one JSON object on stdout; progress goes to stderr as plain lines. */
  json?: boolean;
  /** Workflows the runner may use; default: the run's own, loaded from workflows/index.ts. */
  registry?: WorkflowRegistry;
  /** The environment the run's services see; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface RunWorkflowOptions<P = unknown> extends DriveOptions {
  workflow: AnyWorkflow;
  params: P;
  /** What the run is about (a VM name); shown by `list` and `status`. */
  subject: string;
}

/** Journals a new run and runs it to its end, a gate, a failure or Ctrl-C. Exit code: outcome.exitCode. */
export function runWorkflow<P>(o: RunWorkflowOptions<P>): Promise<RunOutcome> {
  const registry = o.registry ?? new WorkflowRegistry([o.workflow]);
  return drive({ ...o, registry }, (runner) => runner.start(o.workflow, o.params, o.subject), true);
}

export interface ResumeOptions extends DriveOptions {
  /**
   * `--wait`: when the run waits on a timer, sleep (holding nothing: no lease) until it is due and
   * resume again, as long as the run keeps waiting on timers. A gate, a failure or the end returns.
   */
  wait?: boolean;
  /** For tests; default the system clock and setTimeout. */
  clock?: Clock;
  sleep?: Sleep;
  /** How often the sleep looks at the journal, so an approval (`v2o cutover`) wakes it (default 5 s). */
  pollMs?: number;
}

/** Continues a stored run. Throws (exit 2) for an unknown run, a held lease or a version mismatch. */
export async function resumeRun(runId: string, o: ResumeOptions = {}): Promise<RunOutcome> {
  for (;;) {
    // With --json and --wait only the last outcome is printed: stdout stays one JSON object.
    const outcome = await drive(o, (runner) => runner.resume(runId), false, runId, !(o.wait && o.json));
    if (!o.wait || outcome.state !== 'waiting' || outcome.wakeAt === undefined) {
      if (o.wait && o.json) printJson(outcome, stateDirOf(o.globals ?? {}));
      return outcome;
    }
    const stopped = await sleepUntilDue(runId, outcome.wakeAt, o);
    if (stopped) {
      if (o.json) printJson(stopped, stateDirOf(o.globals ?? {}));
      else printOutcome(stopped);
      return stopped;
    }
  }
}

/**
 * Sleeps until the run's timer is due; re-reads it from the journal every pollMs (an approval
 * moves it sooner). Ctrl-C ends the sleep with the interrupt exit code and the run unchanged.
 * Returns that outcome, or undefined when it is time to resume.
 */
async function sleepUntilDue(
  runId: string,
  first: number,
  o: ResumeOptions,
): Promise<RunOutcome | undefined> {
  const clock = o.clock ?? systemClock;
  const sleep = o.sleep ?? systemSleep;
  const poll = o.pollMs ?? 5_000;
  const interrupt = installInterruptHandlers(process.stderr, 'stopping the wait; the run stays as it is');
  let wakeAt: number | undefined = first;
  try {
    if (wakeAt > clock.now())
      process.stderr.write(
        `sleeping until ${localIso(wakeAt)} (Ctrl-C stops the wait; the run stays as it is)\n`,
      );
    while (wakeAt !== undefined && wakeAt > clock.now()) {
      await sleep(Math.min(wakeAt - clock.now(), poll), interrupt.signal);
      // No longer waiting on a timer (approved, cancelled, taken by another process): resume says.
      wakeAt = await withJournal(
        o.globals ?? {},
        async (j) => {
          const run = await j.getRun(runId);
          return run?.state === 'waiting' ? run.wakeAt : undefined;
        },
        { create: false },
      );
    }
    return undefined;
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    return {
      runId,
      state: 'waiting',
      exitCode: ExitCode.interrupted,
      wakeAt,
      message: `stopped waiting; run ${runId} is unchanged${wakeAt === undefined ? '' : ` and waits until ${localIso(wakeAt)}`}\n  continue with: v2o resume ${runId} --wait`,
    };
  } finally {
    interrupt.dispose();
  }
}

/** Cancels a run; with rollback runs the compensations in reverse order (`force`: past the workflow's refusal). */
export function cancelRun(
  runId: string,
  rollback: boolean,
  o: DriveOptions & { force?: boolean } = {},
): Promise<RunOutcome> {
  return drive(o, (runner) => runner.cancel(runId, { rollback, force: o.force }), false, runId);
}

async function progressFor(json: boolean): Promise<RunObserver & { done(): Promise<void> }> {
  if (!json && process.stdout.isTTY) {
    const { ListrProgress } = await import('./progress/listr-progress.js'); // only terminals pay for listr2
    return new ListrProgress();
  }
  return new PlainProgress(json ? process.stderr : process.stdout);
}

/**
 * What every run this process drives shares: the journal, the workflows, one Ctrl-C handler and
 * the runner's settings. `drive` opens one for a single run, `runParallel` one for several.
 */
export interface DriveSession {
  stateDir: string;
  signal: AbortSignal;
  /** A runner on the session's journal, reporting to this observer. */
  runner(observer: RunObserver): Runner;
  close(): Promise<void>;
}

export async function openSession(
  o: DriveOptions,
  /** Only a new run creates the journal; the others find their run in an existing one. */
  create: boolean,
  runId?: string,
): Promise<DriveSession> {
  const globals = o.globals ?? {};
  const stateDir = stateDirOf(globals);
  const journal: Journal = await openJournal(globals, { create });
  let registry: WorkflowRegistry;
  try {
    registry = o.registry ?? (await registryFor(journal, runId));
  } catch (err) {
    await journal.close();
    throw err;
  }
  const interrupt = installInterruptHandlers();
  return {
    stateDir,
    signal: interrupt.signal,
    runner: (observer) =>
      new Runner({ journal, registry, stateDir, observer, signal: interrupt.signal, env: o.env }),
    close: async () => {
      interrupt.dispose();
      await journal.close();
    },
  };
}

async function drive(
  o: DriveOptions,
  act: (r: Runner) => Promise<RunOutcome>,
  create = false,
  runId?: string,
  /** false: the caller prints the outcome as JSON (resume --wait prints only its last one). */
  printJsonOutcome = true,
): Promise<RunOutcome> {
  const session = await openSession(o, create, runId);
  try {
    const progress = await progressFor(o.json ?? false);
    const outcome = await act(session.runner(progress));
    await progress.done();
    if (!o.json) printOutcome(outcome);
    else if (printJsonOutcome) printJson(outcome, session.stateDir);
    return outcome;
  } finally {
    await session.close();
  }
}

/** Loads only the workflow of the stored run (an unknown run fails here, before any write). */
async function registryFor(journal: Journal, runId: string | undefined): Promise<WorkflowRegistry> {
  const { loadRegistry } = await import('../../workflows/index.js');
  return loadRegistry(runId === undefined ? undefined : [(await journal.requireRun(runId)).workflow]);
}

/** An outcome as --json prints it: the error reduced to its name and message, the run log's path added. */
export function outcomeJson(o: RunOutcome, stateDir: string) {
  const { error, ...rest } = o;
  return {
    ...rest,
    log: runLogPath(stateDir, o.runId),
    error: error && { name: error.name, message: error.message },
  };
}

function printJson(o: RunOutcome, stateDir: string): void {
  process.stdout.write(`${JSON.stringify(outcomeJson(o, stateDir))}\n`);
}

/** The outcome's message for a person: stdout when the run succeeded, stderr otherwise. */
export function printOutcome(o: RunOutcome, prefix = ''): void {
  (o.exitCode === 0 ? process.stdout : process.stderr).write(`${prefix}${o.message}\n`);
}
