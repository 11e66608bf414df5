// The runner: executes a workflow's steps in order against the journal. Finished steps are
// never run again; a step found `running` (its process died) is run again; retries follow the
// step's policy; gates stop the run in `waiting`; one runner per run through a lease whose fencing
// token every write of the run carries. One cohesive state machine (run, retry, gate, lease,
// cancel, rollback share its state), hence one file.
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
import type { FencedJournal, Journal, LeaseOwner, RunRecord, StepRecord } from './journal/types.js';
import { processIsAlive } from './liveness.js';
import { createRunLogger, type RunLogger } from './logger.js';
import type { AnyWorkflow, WorkflowRegistry } from './registry.js';
import { resolveRetryPolicy, withRetry } from './retry.js';
import { runLogPath } from './state-dir.js';
import type {
  Clock,
  HostSettings,
  ProgressUpdate,
  RunState,
  StepContext,
  StepDefinition,
  StepState,
} from './types.js';

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
  /** stopAtStepBoundary stopped it before step `stepId`: the lease is released, the run is pending. */
  stoppedAtBoundary?: boolean;
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
  /** Who drives the run (default this process, no worker); `worker` is ctx.worker. */
  owner?: LeaseOwner;
  /** This machine's settings over the run's params, given to the workflow's services(). */
  hostSettings?: HostSettings;
  /** A lease not renewed for this long is presumed dead (default 20 s). */
  leaseTtlMs?: number;
  /** Lease renewal and cancel check interval (default 2 s, at most ttl/3). */
  heartbeatMs?: number;
  /**
   * Aborted: the run stops before its next step (the step in flight finishes), is set back to
   * pending, and its lease released; the outcome says stoppedAtBoundary. A worker's SIGTERM drain.
   */
  stopAtStepBoundary?: AbortSignal;
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
  ctl: AbortController;
  /** Every write of the run goes through here: checked against the lease's fencing token. */
  fj: FencedJournal;
  /** Steps' checkpoint/event/setAffinity writes, applied one after another in call order. */
  writes: Promise<void>;
  /** The first of those writes that failed; later ones are not made, and the step does not succeed. */
  writeError?: unknown;
  /** Approvals as last read (at each step and each heartbeat), for ctx.approvalOf. */
  approvals: Map<string, StepRecord>;
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
    const run = await this.o.journal.createRun({
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
    const run = await this.o.journal.requireRun(runId);
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
    const steps = await this.o.journal.getSteps(runId);
    const gate = steps.find(
      (s) => s.state === 'waiting' && s.wakeAt === undefined && s.approvedAt === undefined,
    );
    if (gate) return this.waitingOutcome(runId, gate.stepId, gate.gateMessage ?? '');
    // Not due yet: change nothing (no lease, no event), so a worker may look as often as it likes.
    const now = await this.o.journal.now(); // the database's time, as every worker sees it
    const timer = steps.find((s) => s.state === 'waiting' && s.wakeAt !== undefined && s.wakeAt > now);
    if (timer) return this.timerOutcome(runId, timer.stepId, timer.wakeAt!, timer.gateMessage ?? '');
    return this.execute(parsed, workflow, true);
  }

  /**
   * Cancels a run: marks it cancelled (a live runner stops at its next heartbeat). With rollback,
   * takes the lease and runs compensate() of the steps that ran in reverse order, recording each.
   */
  async cancel(runId: string, opts: { rollback?: boolean; force?: boolean } = {}): Promise<RunOutcome> {
    const { journal } = this.o;
    const run = await journal.requireRun(runId);
    if (!opts.rollback) {
      if (run.state !== 'cancelled')
        await journal.setRunState(runId, 'cancelled', this.now(), undefined, { by: 'cancel' });
      const lease = await journal.getLease(runId);
      const live =
        lease &&
        lease.expiresAt > (await journal.now()) &&
        !(lease.host === this.owner.host && !this.isAlive(lease.pid));
      return {
        runId,
        state: 'cancelled',
        exitCode: ExitCode.ok,
        message: live
          ? `run ${runId} cancelled; its runner (pid ${lease.pid} on ${lease.host}${lease.worker ? `, worker ${lease.worker}` : ''}) stops within seconds`
          : `run ${runId} cancelled`,
      };
    }
    const workflow = this.o.registry.forRun(run);
    const parsed = withParsedParams(run, workflow);
    workflow.checkRollback?.(
      parsed.params,
      (await journal.getSteps(runId)).map((st) => ({ id: st.stepId, state: st.state })),
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
  private async waitOnTimer(r: Running, stepId: string, at: number, message: string): Promise<RunOutcome> {
    await r.fj.stepWaiting(r.run.id, stepId, this.now(), message, at);
    this.obs.stepFinished?.(stepId, 'waiting', { message, wakeAt: at });
    r.log.info({ stepId, wakeAt: at, message }, 'waiting until a time');
    return this.timerOutcome(r.run.id, stepId, at, message);
  }

  private execute(run: RunRecord, workflow: AnyWorkflow, resumed: boolean): Promise<RunOutcome> {
    return this.withLease(run, workflow, async (r) => {
      await r.fj.ensureSteps(
        run.id,
        workflow.steps.map((s) => s.id),
      );
      await r.fj.setRunState(run.id, 'running', this.now(), undefined, { resumed, ...this.owner });
      this.obs.runStarted?.({
        runId: run.id,
        workflow,
        steps: await this.o.journal.getSteps(run.id),
        resumed,
      });
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
    let fj: FencedJournal;
    try {
      fj = journal.fenced(await journal.acquireLease(run.id, this.owner, ttl, (pid) => this.isAlive(pid)));
      if (mode === 'rollback' && (await journal.getRun(run.id))?.state !== 'cancelled')
        await fj.setRunState(run.id, 'cancelled', this.now(), undefined, { by: 'cancel' });
    } catch (err) {
      runLog.close();
      throw err;
    }
    const ctl = new AbortController();
    const onInterrupt = () => ctl.abort(new InterruptedError(`run ${run.id} interrupted`));
    if (this.o.signal?.aborted) onInterrupt();
    this.o.signal?.addEventListener('abort', onInterrupt, { once: true });
    const r: Running = {
      run,
      workflow,
      services: undefined,
      signal: ctl.signal,
      ctl,
      log,
      outputs: new Map(),
      fj,
      writes: Promise.resolve(),
      approvals: new Map(),
    };
    const keeper = this.keepLease(r, ctl, ttl, mode);
    let outcome: RunOutcome;
    try {
      log.info({ workflow: workflow.name, version: workflow.version, owner: this.owner }, 'runner started');
      r.services = workflow.services
        ? await workflow.services(run.params, {
            log,
            signal: ctl.signal,
            env: this.o.env ?? process.env,
            stateDir: this.o.stateDir,
            hostSettings: this.o.hostSettings ?? {},
          })
        : undefined;
      outcome = await body(r);
    } catch (err) {
      outcome =
        mode === 'rollback'
          ? this.rollbackNotStarted(run.id, err, log, ctl.signal)
          : await this.failRun(r, undefined, err);
    } finally {
      keeper.stop();
      this.o.signal?.removeEventListener('abort', onInterrupt);
      if (r.services !== undefined && workflow.closeServices) {
        await workflow.closeServices(r.services).catch((err) => log.warn({ err }, 'closing services failed'));
      }
      await r.writes;
      try {
        await fj.releaseLease();
      } catch (err) {
        log.warn({ err }, 'could not release the lease; it expires by itself');
      }
    }
    log.info({ state: outcome.state, exitCode: outcome.exitCode }, outcome.message);
    runLog.close();
    this.obs.runFinished?.(outcome);
    return outcome;
  }

  /**
   * The lease's keeper: renews it every heartbeat, and aborts the run with LeaseLostError when a
   * renewal is refused or none succeeded for ttl − ttl/4, so step I/O stops before the lease
   * expires and another worker may take the run. Also notices a cancel (any host) and approvals.
   */
  private keepLease(
    r: Running,
    ctl: AbortController,
    ttl: number,
    mode: 'run' | 'rollback',
  ): { stop(): void } {
    const { journal } = this.o;
    const margin = ttl / 4;
    let renewedAt = this.now();
    let busy = false;
    const lost = () => {
      if (!ctl.signal.aborted) ctl.abort(new LeaseLostError(r.run.id));
    };
    const tick = async () => {
      if (this.now() - renewedAt >= ttl - margin) {
        // Said once: the run's last reads may wait on a dead link for a while after the abort.
        if (!ctl.signal.aborted)
          r.log.error({ ttlMs: ttl }, 'could not renew the lease in time; stopping before it expires');
        return lost();
      }
      if (busy) return; // a renewal still in flight (a slow network): the deadline above still holds
      busy = true;
      const started = this.now();
      try {
        await journal.maintain();
        if (!(await r.fj.heartbeat(ttl))) return lost();
        renewedAt = started;
        const run = await journal.getRun(r.run.id);
        if (mode === 'run' && run?.state === 'cancelled' && !ctl.signal.aborted)
          ctl.abort(new RunCancelledError(r.run.id));
        await this.readApprovals(r);
      } catch (err) {
        if (err instanceof LeaseLostError) return lost();
        r.log.warn({ err }, 'lease heartbeat failed'); // a locked journal for a moment is not fatal
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(tick, Math.max(1, Math.min(this.o.heartbeatMs ?? 2_000, ttl / 3)));
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async readApprovals(r: Running): Promise<void> {
    for (const s of await this.o.journal.getSteps(r.run.id)) r.approvals.set(s.stepId, s);
  }

  /** A step's write, applied after the ones before it; a failed one stops the rest (and the run on a lost lease). */
  private write(r: Running, fn: () => Promise<void>): Promise<void> {
    const p = r.writes.then(() => {
      if (r.writeError !== undefined) throw r.writeError;
      return fn();
    });
    r.writes = p.catch((err) => {
      r.writeError ??= err;
      if (err instanceof LeaseLostError && !r.signal.aborted) r.ctl.abort(err);
    });
    p.catch(() => {}); // a step that does not await its write hears of a failure at the step's end
    return p;
  }

  /** The step's writes are durable (or the first failure is thrown): before recording its end. */
  private async flush(r: Running): Promise<void> {
    await r.writes;
    if (r.writeError !== undefined) throw r.writeError;
  }

  private async runSteps(r: Running): Promise<RunOutcome> {
    const { journal } = this.o;
    const { run, workflow, fj } = r;
    const records = new Map((await journal.getSteps(run.id)).map((s) => [s.stepId, s]));
    for (const s of records.values()) {
      if (s.state === 'succeeded') r.outputs.set(s.stepId, s.output);
      r.approvals.set(s.stepId, s);
    }

    for (const step of workflow.steps) {
      // Read fresh: an approval may have been recorded by another process while earlier steps ran.
      const rec = (await journal.getStep(run.id, step.id)) ?? records.get(step.id)!;
      r.approvals.set(step.id, rec);
      if (rec.state === 'succeeded' || rec.state === 'skipped') {
        this.obs.stepFinished?.(step.id, rec.state, { fromJournal: true });
        continue;
      }
      if (r.signal.aborted) return this.failRun(r, undefined, r.signal.reason);
      if (this.o.stopAtStepBoundary?.aborted) return this.stopAtBoundary(r, step.id);
      try {
        if (rec.state === 'running') {
          // Its process died mid-step: run it again (steps are idempotent); the died attempt was counted.
          await fj.appendEvent(run.id, this.now(), 'step.recovered', step.id, { attempts: rec.attempts });
          r.log.warn({ stepId: step.id }, 'step was in flight when its process died; running it again');
        }
        const pre = await this.context(r, step, 1, r.signal);
        if (step.skipIf && (await step.skipIf(pre))) {
          await this.flush(r);
          await fj.stepEnded(run.id, step.id, this.now(), 'skipped');
          this.obs.stepFinished?.(step.id, 'skipped');
          continue;
        }
        if (step.gate && rec.approvedAt === undefined) {
          const req = await step.gate(pre);
          if (req) {
            await this.flush(r);
            await fj.stepWaiting(run.id, step.id, this.now(), req.message);
            this.obs.stepFinished?.(step.id, 'waiting', { message: req.message });
            r.log.info({ stepId: step.id, gate: req.message }, 'waiting for approval');
            return this.waitingOutcome(run.id, step.id, req.message);
          }
        }
        if (rec.approvalNotBefore !== undefined && rec.approvalNotBefore > (await journal.now())) {
          // Approved for a later time (`v2o cutover --at`): the step does not run before it.
          return await this.waitOnTimer(
            r,
            step.id,
            rec.approvalNotBefore,
            `approved by ${rec.approvedBy} for ${localIso(rec.approvalNotBefore)}`,
          );
        }
        const output = await this.attempts(r, step);
        await this.flush(r); // its checkpoints and events are durable before its end is recorded
        await fj.stepSucceeded(run.id, step.id, this.now(), output);
        r.outputs.set(step.id, output);
        this.obs.stepFinished?.(step.id, 'succeeded');
      } catch (err) {
        const wait = hasCause(err, StepWaitRequest);
        if (wait && !r.signal.aborted && r.writeError === undefined) {
          try {
            await this.flush(r);
            return await this.waitOnTimer(r, step.id, wait.at, wait.waitMessage);
          } catch (werr) {
            return this.failRun(r, step.id, werr);
          }
        }
        return this.failRun(r, step.id, err);
      }
    }
    try {
      await fj.setRunState(run.id, 'succeeded', this.now());
    } catch (err) {
      return this.failRun(r, undefined, err);
    }
    return { runId: run.id, state: 'succeeded', exitCode: ExitCode.ok, message: `run ${run.id} succeeded` };
  }

  /** A drain (SIGTERM to a worker): the run goes back to pending before `stepId`; the lease is released after. */
  private async stopAtBoundary(r: Running, stepId: string): Promise<RunOutcome> {
    try {
      await r.fj.setRunState(r.run.id, 'pending', this.now(), undefined, { by: 'drain', before: stepId });
    } catch (err) {
      r.log.warn({ err }, 'could not record the stop at the step boundary');
    }
    r.log.info({ stepId }, 'stopped at a step boundary; the run is handed back');
    return {
      runId: r.run.id,
      state: 'pending',
      exitCode: ExitCode.interrupted,
      stepId,
      stoppedAtBoundary: true,
      message: `run ${r.run.id} stopped before step ${stepId} and was handed back; continue with: v2o resume ${r.run.id}`,
    };
  }

  /** The step's attempts under its retry policy; each attempt has its own signal (timeout). */
  private attempts(r: Running, step: StepDefinition<unknown, unknown, unknown>): Promise<unknown> {
    const policy = resolveRetryPolicy(step.retry);
    return withRetry(
      policy,
      async (n) => {
        await this.flush(r); // the earlier attempt's writes first: its lastCheckpoint is this one's
        await r.fj.stepAttemptStarted(r.run.id, step.id, this.now(), n);
        this.obs.stepStarted?.(step.id, n);
        const ctl = new AbortController();
        const onRunAbort = () => ctl.abort(r.signal.reason);
        r.signal.addEventListener('abort', onRunAbort, { once: true });
        // Timeouts are wall-clock on purpose: a fake clock must not time out real work.
        const timer = step.timeoutMs
          ? setTimeout(() => ctl.abort(new StepTimeoutError(step.id, step.timeoutMs!)), step.timeoutMs)
          : undefined;
        try {
          const ctx = await this.context(r, step, n, ctl.signal);
          return await raceAbort(step.run(ctx), ctl.signal);
        } finally {
          clearTimeout(timer);
          r.signal.removeEventListener('abort', onRunAbort);
        }
      },
      {
        sleep: this.sleep,
        signal: r.signal,
        onRetry: (err, n, delayMs) => {
          void this.write(r, () =>
            r.fj.appendEvent(r.run.id, this.now(), 'step.retrying', step.id, {
              attempt: n,
              delayMs,
              error: { name: err.name, message: err.message },
            }),
          );
          r.log.warn({ stepId: step.id, attempt: n, delayMs, err }, 'attempt failed; retrying');
          this.obs.stepRetrying?.(step.id, err, delayMs);
        },
      },
    );
  }

  private async context(
    r: Running,
    step: StepDefinition<unknown, unknown, unknown>,
    attempt: number,
    signal: AbortSignal,
  ): Promise<StepContext<unknown, unknown>> {
    const runId = r.run.id;
    await r.writes;
    const lastCheckpoint = await this.o.journal.lastCheckpoint(runId, step.id);
    return {
      runId,
      stepId: step.id,
      attempt,
      params: r.run.params,
      services: r.services,
      worker: this.owner.worker,
      outputOf: <T>(id: string) => r.outputs.get(id) as T | undefined,
      checkpoint: (data) => this.write(r, () => r.fj.checkpoint(runId, step.id, this.now(), data)),
      lastCheckpoint,
      signal,
      log: r.log.child({ stepId: step.id, attempt }),
      progress: { update: (p) => this.obs.stepProgress?.(step.id, p) },
      clock: this.clock,
      sleep: (ms, s) => this.sleep(ms, s ?? signal),
      event: (type, data) => this.write(r, () => r.fj.appendEvent(runId, this.now(), type, step.id, data)),
      setAffinity: (worker) => this.write(r, () => r.fj.setAffinity(worker)),
      waitUntil: (at, message) => {
        throw new StepWaitRequest(at, message);
      },
      approvalOf: (id) => {
        // As last read: at this step's start and at each heartbeat (another host's approval shows within seconds).
        const s = r.approvals.get(id);
        if (s?.approvedAt === undefined) return undefined;
        return {
          at: s.approvedAt,
          by: s.approvedBy ?? '',
          ...(s.approvalNotBefore === undefined ? {} : { notBefore: s.approvalNotBefore }),
        };
      },
    };
  }

  /** Records how the run stopped. An interrupt or cancel is not a failure of the step; a lost lease writes nothing. */
  private async failRun(r: Running, stepId: string | undefined, err: unknown): Promise<RunOutcome> {
    const { journal } = this.o;
    const { fj, log, signal } = r;
    const runId = r.run.id;
    let reason = signal.aborted ? asError(signal.reason) : asError(err);
    // A write refused because the lease is gone outranks whatever the step saw.
    if (r.writeError instanceof LeaseLostError || hasCause(err, LeaseLostError))
      reason = new LeaseLostError(runId);
    const at = this.now();
    try {
      await r.writes;
      const inFlight = stepId !== undefined && (await journal.getStep(runId, stepId))?.state === 'running';
      if (reason instanceof LeaseLostError) {
        // Another process owns the run now: write nothing.
      } else if (reason instanceof InterruptedError) {
        if (inFlight) await fj.stepEnded(runId, stepId, at, 'interrupted', reason);
        await fj.setRunState(runId, 'failed', at, reason);
      } else if (reason instanceof RunCancelledError) {
        if (inFlight) await fj.stepEnded(runId, stepId, at, 'cancelled', reason);
      } else {
        if (stepId) await fj.stepEnded(runId, stepId, at, 'failed', reason);
        await fj.setRunState(runId, 'failed', at, reason);
      }
    } catch (jerr) {
      log.error({ err: jerr }, 'could not record how the run stopped');
      if (jerr instanceof LeaseLostError) reason = jerr;
    }
    log.error({ err: reason, stepId }, 'run stopped');
    if (stepId)
      // A lost lease is not the step failing: another process continues it.
      this.obs.stepFinished?.(
        stepId,
        reason instanceof InterruptedError || reason instanceof LeaseLostError ? 'interrupted' : 'failed',
        {
          error: reason,
        },
      );
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
    if (reason instanceof LeaseLostError) {
      return {
        runId,
        state: 'running',
        exitCode: ExitCode.failed,
        stepId,
        error: reason,
        message: `run ${runId}: ${reason.message}; nothing more was recorded here\n  see: v2o status ${runId}`,
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
    const { fj } = r;
    const runId = r.run.id;
    const records = await journal.getSteps(runId);
    for (const s of records) r.approvals.set(s.stepId, s);
    const done = r.workflow.steps
      .filter((s) => RAN.has(records.find((x) => x.stepId === s.id)?.state ?? 'pending'))
      .reverse();
    for (const step of done) {
      const output = records.find((x) => x.stepId === step.id)?.output;
      if (!step.compensate) continue;
      try {
        await fj.appendEvent(runId, this.now(), 'step.compensating', step.id);
        this.obs.stepStarted?.(step.id, 1, 'compensate');
        await withRetry(
          resolveRetryPolicy(step.retry),
          async () => raceAbort(step.compensate!(await this.context(r, step, 1, r.signal), output), r.signal),
          { sleep: this.sleep, signal: r.signal },
        );
        await this.flush(r);
        await fj.stepCompensated(runId, step.id, this.now());
      } catch (err) {
        let e = asError(r.signal.aborted ? r.signal.reason : err);
        if (r.writeError instanceof LeaseLostError) e = r.writeError;
        if (!(e instanceof LeaseLostError))
          await fj
            .appendEvent(runId, this.now(), 'step.compensation-failed', step.id, {
              error: { name: e.name, message: e.message },
            })
            .catch((jerr) => r.log.error({ err: jerr }, 'could not record the failed compensation'));
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
