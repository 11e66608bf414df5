// The runner: executes a workflow's steps in order against the journal. Finished steps are
// never run again; a step found `running` (its process died) is run again; retries follow the
// step's policy; gates stop the run in `waiting`; one runner per run through a lease. One cohesive
// state machine (run, retry, gate, lease, cancel, rollback share its state), hence one file.
import os from 'node:os';
import type { Logger } from 'pino';
import { ExitCode, hasCause, InterruptedError, NonRetryableError } from '../errors.js';
import { localIso, type Sleep, systemClock, systemSleep } from './clock.js';
import {
  LeaseLostError,
  RunCancelledError,
  RunParamsError,
  RunStateError,
  StepTimeoutError,
} from './errors.js';
import type { Journal, LeaseOwner, RunRecord, StepRecord } from './journal.js';
import { processIsAlive } from './liveness.js';
import { createRunLogger, type RunLogger } from './logger.js';
import type { AnyWorkflow, WorkflowRegistry } from './registry.js';
import { resolveRetryPolicy, withRetry } from './retry.js';
import { runLogPath } from './state-dir.js';
import type { Clock, ProgressUpdate, RunState, StepContext, StepDefinition, StepState } from './types.js';

/** Step states whose run() was entered: what a rollback compensates. */
const RAN = new Set<StepState>(['succeeded', 'failed', 'interrupted', 'running', 'cancelled']);

/** What the progress display hears about; every method optional. */
export interface RunObserver {
  runStarted?(info: { runId: string; workflow: AnyWorkflow; steps: StepRecord[]; resumed: boolean }): void;
  /** `phase` is 'compensate' when a rollback undoes the step (cancel --rollback). */
  stepStarted?(stepId: string, attempt: number, phase?: 'run' | 'compensate'): void;
  stepProgress?(stepId: string, update: ProgressUpdate): void;
  stepRetrying?(stepId: string, error: Error, delayMs: number): void;
  /** `fromJournal`: the step was done by an earlier process and is not run again. */
  /** `wakeAt`: the step waits on a timer until then (state 'waiting'). */
  stepFinished?(
    stepId: string,
    state: StepState,
    info?: { error?: Error; message?: string; fromJournal?: boolean; wakeAt?: number },
  ): void;
  runFinished?(outcome: RunOutcome): void;
}

export interface RunOutcome {
  runId: string;
  state: RunState;
  exitCode: ExitCode;
  /** One line for the operator, with the next command to type. */
  message: string;
  /** Where the run stopped (failed, waiting, interrupted). */
  stepId?: string;
  error?: Error;
  /** The run waits on a timer until then (state 'waiting', exit code 3): `v2o resume --wait` sleeps until it. */
  wakeAt?: number;
}

export interface EngineOptions {
  journal: Journal;
  registry: WorkflowRegistry;
  stateDir: string;
  clock?: Clock;
  sleep?: Sleep;
  observer?: RunObserver;
  /** Aborting it interrupts the run (Ctrl-C): the step in flight is recorded `interrupted`. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  owner?: LeaseOwner;
  /** A lease not renewed for this long is presumed dead (default 20 s). */
  leaseTtlMs?: number;
  /** Lease renewal and cancel check interval (default 2 s). */
  heartbeatMs?: number;
  isAlive?: (pid: number) => boolean;
  /** Default: pino to <state>/runs/<run>.log. */
  logger?: (runId: string) => RunLogger;
}

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts (a step
 * that ignores its signal must not hold the journal hostage). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => {}); // its late rejection, if any, is moot
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * What ctx.waitUntil throws to leave the step: not a failure (the runner records a timed wait) and
 * never retried (NonRetryableError), found in a cause chain too when a step wraps it.
 */
class StepWaitRequest extends NonRetryableError {
  constructor(
    readonly at: number,
    readonly waitMessage: string,
  ) {
    super(`the step waits until ${localIso(at)}: ${waitMessage}`);
  }
}

/** The stored run with its params as the workflow reads them; throws before anything is written. */
function withParsedParams(run: RunRecord, workflow: AnyWorkflow): RunRecord {
  if (!workflow.parseParams) return run;
  try {
    return { ...run, params: workflow.parseParams(run.params) };
  } catch (err) {
    throw new RunParamsError(run.id, workflow.name, workflow.version, err);
  }
}

interface Running {
  run: RunRecord;
  workflow: AnyWorkflow;
  services: unknown;
  signal: AbortSignal;
  log: Logger;
  outputs: Map<string, unknown>;
}

export class Runner {
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly owner: LeaseOwner;
  private readonly obs: RunObserver;

  constructor(private readonly o: EngineOptions) {
    this.clock = o.clock ?? systemClock;
    this.sleep = o.sleep ?? systemSleep;
    this.owner = o.owner ?? { pid: process.pid, host: os.hostname() };
    this.obs = o.observer ?? {};
  }

  private now(): number {
    return this.clock.now();
  }

  /** Journals a new run of `workflow` and runs it. The workflow must be in the registry (resume needs it). */
  async start<P>(workflow: AnyWorkflow, params: P, subject: string): Promise<RunOutcome> {
    this.o.registry.get(workflow.name);
    const run = this.o.journal.createRun({
      workflow: workflow.name,
      workflowVersion: workflow.version,
      subject,
      params,
      stepIds: workflow.steps.map((s) => s.id),
      at: this.now(),
    });
    return this.execute(run, workflow, false);
  }

  /** Continues a stored run where it stopped. Checks everything before writing anything. */
  async resume(runId: string): Promise<RunOutcome> {
    const run = this.o.journal.requireRun(runId);
    const workflow = this.o.registry.forRun(run);
    if (run.state === 'succeeded') {
      return { runId, state: run.state, exitCode: ExitCode.ok, message: `run ${runId} already succeeded` };
    }
    if (run.state === 'cancelled') {
      throw new RunStateError(`run ${runId} was cancelled and cannot be resumed`, {
        hint: `start a new run; \`v2o cancel ${runId} --rollback\` undoes what it did`,
      });
    }
    const parsed = withParsedParams(run, workflow); // before the gate: approving it could not help
    const steps = this.o.journal.getSteps(runId);
    const gate = steps.find(
      (s) => s.state === 'waiting' && s.wakeAt === undefined && s.approvedAt === undefined,
    );
    if (gate) return this.waitingOutcome(runId, gate.stepId, gate.gateMessage ?? '');
    // Not due yet: change nothing (no lease, no event), so a worker may look as often as it likes.
    const timer = steps.find((s) => s.state === 'waiting' && s.wakeAt !== undefined && s.wakeAt > this.now());
    if (timer) return this.timerOutcome(runId, timer.stepId, timer.wakeAt!, timer.gateMessage ?? '');
    return this.execute(parsed, workflow, true);
  }

  /**
   * Cancels a run: marks it cancelled (a live runner stops at its next heartbeat). With rollback,
   * takes the lease and runs compensate() of the steps that ran in reverse order, recording each.
   */
  async cancel(runId: string, opts: { rollback?: boolean; force?: boolean } = {}): Promise<RunOutcome> {
    const { journal } = this.o;
    const run = journal.requireRun(runId);
    if (!opts.rollback) {
      if (run.state !== 'cancelled')
        journal.setRunState(runId, 'cancelled', this.now(), undefined, { by: 'cancel' });
      const lease = journal.getLease(runId);
      const live =
        lease &&
        lease.expiresAt > this.now() &&
        !(lease.host === this.owner.host && !this.isAlive(lease.pid));
      return {
        runId,
        state: 'cancelled',
        exitCode: ExitCode.ok,
        message: live
          ? `run ${runId} cancelled; its runner (pid ${lease.pid} on ${lease.host}) stops within seconds`
          : `run ${runId} cancelled`,
      };
    }
    const workflow = this.o.registry.forRun(run);
    const parsed = withParsedParams(run, workflow);
    workflow.checkRollback?.(
      parsed.params,
      journal.getSteps(runId).map((st) => ({ id: st.stepId, state: st.state })),
      { runId, force: opts.force ?? false },
    );
    return this.withLease(parsed, workflow, (r) => this.compensate(r), 'rollback');
  }

  private isAlive(pid: number): boolean {
    return (this.o.isAlive ?? processIsAlive)(pid);
  }

  private waitingOutcome(runId: string, stepId: string, message: string): RunOutcome {
    return {
      runId,
      state: 'waiting',
      exitCode: ExitCode.waiting,
      stepId,
      message: `run ${runId} waits for approval at step ${stepId}: ${message}\n  then: v2o approve ${runId} --step ${stepId} && v2o resume ${runId}`,
    };
  }

  private timerOutcome(runId: string, stepId: string, wakeAt: number, message: string): RunOutcome {
    return {
      runId,
      state: 'waiting',
      exitCode: ExitCode.waiting,
      stepId,
      wakeAt,
      message: `run ${runId} waits until ${localIso(wakeAt)} at step ${stepId}: ${message}\n  then: v2o resume ${runId} (once that time has passed), or now: v2o resume ${runId} --wait`,
    };
  }

  /** The step stops and the run waits in the journal until `at`; its checkpoints stay. */
  private waitOnTimer(r: Running, stepId: string, at: number, message: string): RunOutcome {
    this.o.journal.stepWaiting(r.run.id, stepId, this.now(), message, at);
    this.obs.stepFinished?.(stepId, 'waiting', { message, wakeAt: at });
    r.log.info({ stepId, wakeAt: at, message }, 'waiting until a time');
    return this.timerOutcome(r.run.id, stepId, at, message);
  }

  private execute(run: RunRecord, workflow: AnyWorkflow, resumed: boolean): Promise<RunOutcome> {
    return this.withLease(run, workflow, async (r) => {
      const { journal } = this.o;
      journal.ensureSteps(
        run.id,
        workflow.steps.map((s) => s.id),
      );
      journal.setRunState(run.id, 'running', this.now(), undefined, { resumed, ...this.owner });
      this.obs.runStarted?.({ runId: run.id, workflow, steps: journal.getSteps(run.id), resumed });
      return this.runSteps(r);
    });
  }

  /** Lease, heartbeat, logger, services and abort wiring around `body`; always releases. */
  private async withLease(
    run: RunRecord,
    workflow: AnyWorkflow,
    body: (r: Running) => Promise<RunOutcome>,
    /** `rollback`: the run is cancelled first, and a failure says to repeat the rollback, not to resume. */
    mode: 'run' | 'rollback' = 'run',
  ): Promise<RunOutcome> {
    const { journal } = this.o;
    const ttl = this.o.leaseTtlMs ?? 20_000;
    const runLog = (this.o.logger ?? ((id) => createRunLogger(runLogPath(this.o.stateDir, id), id)))(run.id);
    const log = runLog.log;
    try {
      journal.acquireLease(run.id, this.owner, this.now(), ttl, (pid) => this.isAlive(pid));
    } catch (err) {
      runLog.close();
      throw err;
    }
    if (mode === 'rollback' && journal.getRun(run.id)?.state !== 'cancelled')
      journal.setRunState(run.id, 'cancelled', this.now(), undefined, { by: 'cancel' });
    const ctl = new AbortController();
    const onInterrupt = () => ctl.abort(new InterruptedError(`run ${run.id} interrupted`));
    if (this.o.signal?.aborted) onInterrupt();
    this.o.signal?.addEventListener('abort', onInterrupt, { once: true });
    const heartbeat = setInterval(() => {
      try {
        journal.maintain();
        if (!journal.heartbeat(run.id, this.owner, this.now(), ttl)) ctl.abort(new LeaseLostError(run.id));
        else if (mode === 'run' && journal.getRun(run.id)?.state === 'cancelled')
          ctl.abort(new RunCancelledError(run.id));
      } catch (err) {
        log.warn({ err }, 'lease heartbeat failed'); // a locked journal for a moment is not fatal
      }
    }, this.o.heartbeatMs ?? 2_000);
    heartbeat.unref();
    let services: unknown;
    let outcome: RunOutcome;
    try {
      log.info({ workflow: workflow.name, version: workflow.version, owner: this.owner }, 'runner started');
      services = workflow.services
        ? await workflow.services(run.params, {
            log,
            signal: ctl.signal,
            env: this.o.env ?? process.env,
            stateDir: this.o.stateDir,
          })
        : undefined;
      outcome = await body({ run, workflow, services, signal: ctl.signal, log, outputs: new Map() });
    } catch (err) {
      outcome =
        mode === 'rollback'
          ? this.rollbackNotStarted(run.id, err, log, ctl.signal)
          : this.failRun(run.id, undefined, err, log, ctl.signal);
    } finally {
      clearInterval(heartbeat);
      this.o.signal?.removeEventListener('abort', onInterrupt);
      if (services !== undefined && workflow.closeServices) {
        await workflow.closeServices(services).catch((err) => log.warn({ err }, 'closing services failed'));
      }
      try {
        journal.releaseLease(run.id, this.owner);
      } catch (err) {
        log.warn({ err }, 'could not release the lease; it expires by itself');
      }
    }
    log.info({ state: outcome.state, exitCode: outcome.exitCode }, outcome.message);
    runLog.close();
    this.obs.runFinished?.(outcome);
    return outcome;
  }

  private async runSteps(r: Running): Promise<RunOutcome> {
    const { journal } = this.o;
    const { run, workflow } = r;
    const records = new Map(journal.getSteps(run.id).map((s) => [s.stepId, s]));
    for (const s of records.values()) if (s.state === 'succeeded') r.outputs.set(s.stepId, s.output);

    for (const step of workflow.steps) {
      // Read fresh: an approval may have been recorded by another process while earlier steps ran.
      const rec = journal.getStep(run.id, step.id) ?? records.get(step.id)!;
      if (rec.state === 'succeeded' || rec.state === 'skipped') {
        this.obs.stepFinished?.(step.id, rec.state, { fromJournal: true });
        continue;
      }
      if (r.signal.aborted) return this.failRun(run.id, undefined, r.signal.reason, r.log, r.signal);
      if (rec.state === 'running') {
        // Its process died mid-step: run it again (steps are idempotent); the died attempt was counted.
        journal.appendEvent(run.id, this.now(), 'step.recovered', step.id, { attempts: rec.attempts });
        r.log.warn({ stepId: step.id }, 'step was in flight when its process died; running it again');
      }
      try {
        const pre = this.context(r, step, 1, r.signal);
        if (step.skipIf && (await step.skipIf(pre))) {
          journal.stepEnded(run.id, step.id, this.now(), 'skipped');
          this.obs.stepFinished?.(step.id, 'skipped');
          continue;
        }
        if (step.gate && rec.approvedAt === undefined) {
          const req = await step.gate(pre);
          if (req) {
            journal.stepWaiting(run.id, step.id, this.now(), req.message);
            this.obs.stepFinished?.(step.id, 'waiting', { message: req.message });
            r.log.info({ stepId: step.id, gate: req.message }, 'waiting for approval');
            return this.waitingOutcome(run.id, step.id, req.message);
          }
        }
        if (rec.approvalNotBefore !== undefined && rec.approvalNotBefore > this.now()) {
          // Approved for a later time (`v2o cutover --at`): the step does not run before it.
          return this.waitOnTimer(
            r,
            step.id,
            rec.approvalNotBefore,
            `approved by ${rec.approvedBy} for ${localIso(rec.approvalNotBefore)}`,
          );
        }
        const output = await this.attempts(r, step);
        journal.stepSucceeded(run.id, step.id, this.now(), output);
        r.outputs.set(step.id, output);
        this.obs.stepFinished?.(step.id, 'succeeded');
      } catch (err) {
        const wait = hasCause(err, StepWaitRequest);
        if (wait && !r.signal.aborted) return this.waitOnTimer(r, step.id, wait.at, wait.waitMessage);
        return this.failRun(run.id, step.id, err, r.log, r.signal);
      }
    }
    journal.setRunState(run.id, 'succeeded', this.now());
    return { runId: run.id, state: 'succeeded', exitCode: ExitCode.ok, message: `run ${run.id} succeeded` };
  }

  /** The step's attempts under its retry policy; each attempt has its own signal (timeout). */
  private attempts(r: Running, step: StepDefinition<unknown, unknown, unknown>): Promise<unknown> {
    const { journal } = this.o;
    const policy = resolveRetryPolicy(step.retry);
    return withRetry(
      policy,
      async (n) => {
        journal.stepAttemptStarted(r.run.id, step.id, this.now(), n);
        this.obs.stepStarted?.(step.id, n);
        const ctl = new AbortController();
        const onRunAbort = () => ctl.abort(r.signal.reason);
        r.signal.addEventListener('abort', onRunAbort, { once: true });
        // Timeouts are wall-clock on purpose: a fake clock must not time out real work.
        const timer = step.timeoutMs
          ? setTimeout(() => ctl.abort(new StepTimeoutError(step.id, step.timeoutMs!)), step.timeoutMs)
          : undefined;
        try {
          return await raceAbort(step.run(this.context(r, step, n, ctl.signal)), ctl.signal);
        } finally {
          clearTimeout(timer);
          r.signal.removeEventListener('abort', onRunAbort);
        }
      },
      {
        sleep: this.sleep,
        signal: r.signal,
        onRetry: (err, n, delayMs) => {
          journal.appendEvent(r.run.id, this.now(), 'step.retrying', step.id, {
            attempt: n,
            delayMs,
            error: { name: err.name, message: err.message },
          });
          r.log.warn({ stepId: step.id, attempt: n, delayMs, err }, 'attempt failed; retrying');
          this.obs.stepRetrying?.(step.id, err, delayMs);
        },
      },
    );
  }

  private context(
    r: Running,
    step: StepDefinition<unknown, unknown, unknown>,
    attempt: number,
    signal: AbortSignal,
  ): StepContext<unknown, unknown> {
    const { journal } = this.o;
    const runId = r.run.id;
    return {
      runId,
      stepId: step.id,
      attempt,
      params: r.run.params,
      services: r.services,
      outputOf: <T>(id: string) => r.outputs.get(id) as T | undefined,
      checkpoint: (data) => journal.checkpoint(runId, step.id, this.now(), data),
      lastCheckpoint: journal.lastCheckpoint(runId, step.id),
      signal,
      log: r.log.child({ stepId: step.id, attempt }),
      progress: { update: (p) => this.obs.stepProgress?.(step.id, p) },
      clock: this.clock,
      sleep: (ms, s) => this.sleep(ms, s ?? signal),
      event: (type, data) => journal.appendEvent(runId, this.now(), type, step.id, data),
      waitUntil: (at, message) => {
        throw new StepWaitRequest(at, message);
      },
      approvalOf: (id) => {
        const s = journal.getStep(runId, id);
        if (s?.approvedAt === undefined) return undefined;
        return {
          at: s.approvedAt,
          by: s.approvedBy ?? '',
          ...(s.approvalNotBefore === undefined ? {} : { notBefore: s.approvalNotBefore }),
        };
      },
    };
  }

  /** Records how the run stopped. An interrupt or cancel is not a failure of the step. */
  private failRun(
    runId: string,
    stepId: string | undefined,
    err: unknown,
    log: Logger,
    signal: AbortSignal,
  ): RunOutcome {
    const { journal } = this.o;
    const reason = signal.aborted ? asError(signal.reason) : asError(err);
    const at = this.now();
    const inFlight = stepId !== undefined && journal.getStep(runId, stepId)?.state === 'running';
    try {
      if (reason instanceof LeaseLostError) {
        // Another process owns the run now: write nothing.
      } else if (reason instanceof InterruptedError) {
        if (inFlight) journal.stepEnded(runId, stepId, at, 'interrupted', reason);
        journal.setRunState(runId, 'failed', at, reason);
      } else if (reason instanceof RunCancelledError) {
        if (inFlight) journal.stepEnded(runId, stepId, at, 'cancelled', reason);
      } else {
        if (stepId) journal.stepEnded(runId, stepId, at, 'failed', reason);
        journal.setRunState(runId, 'failed', at, reason);
      }
    } catch (jerr) {
      log.error({ err: jerr }, 'could not record how the run stopped');
    }
    log.error({ err: reason, stepId }, 'run stopped');
    if (stepId)
      this.obs.stepFinished?.(stepId, reason instanceof InterruptedError ? 'interrupted' : 'failed', {
        error: reason,
      });
    if (reason instanceof InterruptedError) {
      return {
        runId,
        state: 'failed',
        exitCode: ExitCode.interrupted,
        stepId,
        error: reason,
        message: `run ${runId} interrupted${stepId ? ` at step ${stepId}` : ''}; continue with: v2o resume ${runId}`,
      };
    }
    if (reason instanceof RunCancelledError) {
      return {
        runId,
        state: 'cancelled',
        exitCode: ExitCode.failed,
        stepId,
        error: reason,
        message: reason.message,
      };
    }
    return {
      runId,
      state: 'failed',
      exitCode: ExitCode.failed,
      stepId,
      error: reason,
      message: `run ${runId} failed${stepId ? ` at step ${stepId}` : ''}: ${reason.message}\n  see: v2o status ${runId}; after fixing the cause: v2o resume ${runId}`,
    };
  }

  /** The rollback could not begin (e.g. vCenter or the cloud unreachable): the run stays cancelled. */
  private rollbackNotStarted(runId: string, err: unknown, log: Logger, signal: AbortSignal): RunOutcome {
    const reason = signal.aborted ? asError(signal.reason) : asError(err);
    log.error({ err: reason }, 'rollback could not start');
    return {
      runId,
      state: 'cancelled',
      exitCode: reason instanceof InterruptedError ? ExitCode.interrupted : ExitCode.failed,
      error: reason,
      message: `run ${runId} is cancelled, but its rollback could not run: ${reason.message}\n  after fixing the cause: v2o cancel ${runId} --rollback (it continues where it stopped)`,
    };
  }

  /**
   * Saga rollback: compensate() of every step that ran, newest first; stops at the first failure.
   * A step that failed, was interrupted or died part-way may have changed things too, so it is
   * compensated with no output (it reads its checkpoint); steps that never ran are left alone.
   */
  private async compensate(r: Running): Promise<RunOutcome> {
    const { journal } = this.o;
    const runId = r.run.id;
    const records = journal.getSteps(runId);
    const done = r.workflow.steps
      .filter((s) => RAN.has(records.find((x) => x.stepId === s.id)?.state ?? 'pending'))
      .reverse();
    for (const step of done) {
      const output = records.find((x) => x.stepId === step.id)?.output;
      if (!step.compensate) continue;
      journal.appendEvent(runId, this.now(), 'step.compensating', step.id);
      this.obs.stepStarted?.(step.id, 1, 'compensate');
      try {
        await withRetry(
          resolveRetryPolicy(step.retry),
          () => raceAbort(step.compensate!(this.context(r, step, 1, r.signal), output), r.signal),
          { sleep: this.sleep, signal: r.signal },
        );
      } catch (err) {
        const e = asError(r.signal.aborted ? r.signal.reason : err);
        journal.appendEvent(runId, this.now(), 'step.compensation-failed', step.id, {
          error: { name: e.name, message: e.message },
        });
        r.log.error({ err: e, stepId: step.id }, 'compensation failed');
        this.obs.stepFinished?.(step.id, 'failed', { error: e });
        return {
          runId,
          state: 'cancelled',
          exitCode: e instanceof InterruptedError ? ExitCode.interrupted : ExitCode.failed,
          stepId: step.id,
          error: e,
          message: `rollback of run ${runId} stopped at step ${step.id}: ${e.message}\n  after fixing the cause: v2o cancel ${runId} --rollback`,
        };
      }
      journal.stepCompensated(runId, step.id, this.now());
      this.obs.stepFinished?.(step.id, 'compensated');
    }
    return {
      runId,
      state: 'cancelled',
      exitCode: ExitCode.ok,
      message: `run ${runId} cancelled and rolled back`,
    };
  }
}
