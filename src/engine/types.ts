// The contract between workflows, steps and the engine. Workflows (workflows/*.ts)
// are data: an ordered list of steps with policies, no I/O. Steps do the side effects.
import type { Logger } from 'pino';

export type RunState = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type StepState =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'interrupted'
  | 'cancelled'
  | 'compensated';

/** Retry policy as data (Temporal-style). Delays grow initialDelayMs * backoff^n, capped at maxDelayMs. */
export interface RetryPolicy {
  /** Total attempts including the first. 1 = no retry. */
  attempts: number;
  initialDelayMs: number;
  backoff: number;
  maxDelayMs: number;
  /** Error class names (err.name) that fail the step at once; NonRetryableError, ConfigError and
   * InterruptedError always do. */
  nonRetryable?: string[];
}

export interface Clock {
  now(): number;
}

export interface ProgressUpdate {
  /** Units done so far (bytes for copies). */
  done?: number;
  /** Units in all, when known. */
  total?: number;
  /** Short free text shown beside the step title. */
  message?: string;
  /** 'bytes' renders done/total as sizes with a rate and ETA. */
  unit?: 'bytes' | 'items';
}

interface ProgressReporter {
  update(p: ProgressUpdate): void;
}

/** What a step says it would do, for `v2o plan` and dry runs. */
export interface StepPlan {
  /** One line: what the step will do with concrete values. */
  summary: string;
  /** Concrete values (disks, image properties, flavor ...), shown in --json and in the detailed view. */
  details?: Record<string, unknown>;
  warnings?: string[];
  /** Anything here makes the plan blocked (exit 2). */
  blockers?: string[];
  /** The step would be skipped (for example: ISO already on the datastore). */
  skip?: boolean;
}

export interface PlanContext<P, S> {
  params: P;
  /** Read-only use only: a plan never changes anything. Absent when planning offline. */
  services?: S;
  log: Logger;
}

export interface StepContext<P, S> {
  readonly runId: string;
  readonly stepId: string;
  /** 1 on the first attempt of this process; attempts across resumes are counted in the journal. */
  readonly attempt: number;
  readonly params: P;
  readonly services: S;
  /** Output of an earlier step of this run that succeeded; undefined otherwise. */
  outputOf<T = unknown>(stepId: string): T | undefined;
  /**
   * Save progress (e.g. { bytesCopied }); a re-run of this step sees it as lastCheckpoint. Resolves
   * once durable; checkpoints and events apply in call order, and the step's end is recorded only
   * after all of them (a step need not await them).
   */
  checkpoint(data: unknown): Promise<void>;
  /** The newest checkpoint of this step from any earlier attempt or process, if any. */
  readonly lastCheckpoint: unknown | undefined;
  /** Aborted on Ctrl-C / SIGTERM / timeout / cancel. Pass it to every I/O call. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly progress: ProgressReporter;
  readonly clock: Clock;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Append an event to the run's event log (shown by `v2o logs` and `v2o status`); ordered like checkpoint. */
  event(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Pins the run to a worker (null: any), e.g. the one whose host its volumes are attached to. */
  setAffinity(worker: string | null): Promise<void>;
  /** The name of the worker driving the run (`v2o worker --name`); undefined in a CLI process. */
  readonly worker?: string;
  /**
   * Stops this step and the run in `waiting` until `at` (ms epoch): the step is not failed, its
   * checkpoints stay, and `v2o resume` (or a worker) runs it again from its start once `at` has
   * passed. An approval of any step of the run wakes it early. Never returns.
   */
  waitUntil(at: number, message: string): never;
  /**
   * The recorded approval of a gate step of this run (ahead of time or not), if any, as read at
   * the step's start and at each lease heartbeat (an approval from another host shows in seconds).
   */
  approvalOf(stepId: string): { at: number; by: string; notBefore?: number } | undefined;
}

interface GateRequest {
  /** Shown to the operator: what to do before `v2o approve`. */
  message: string;
}

export interface StepDefinition<P = unknown, S = unknown, O = unknown> {
  id: string;
  title: string;
  plan?(ctx: PlanContext<P, S>): StepPlan | Promise<StepPlan>;
  run(ctx: StepContext<P, S>): Promise<O>;
  /** Skip the step (recorded as skipped) when this returns true. Must not do I/O beyond reads. */
  skipIf?(ctx: StepContext<P, S>): boolean | Promise<boolean>;
  retry?: Partial<RetryPolicy>;
  /** Per attempt; the step's signal is aborted when it passes. */
  timeoutMs?: number;
  /** When it returns a request, the run stops in `waiting` before run() until `v2o approve`. */
  gate?(ctx: StepContext<P, S>): GateRequest | undefined | Promise<GateRequest | undefined>;
  /**
   * Undo this step's effects on `cancel --rollback`; run in reverse step order for every step that
   * ran. `output` is undefined when the step stopped part-way (failed, interrupted, killed): undo
   * what ctx.lastCheckpoint or a lookup shows was done. Must be idempotent.
   */
  compensate?(ctx: StepContext<P, S>, output: O | undefined): Promise<void>;
}

export interface WorkflowDefinition<P = unknown, S = unknown> {
  /** Stable name stored in the journal, e.g. 'vmware-windows-to-openstack'. */
  name: string;
  /** Bump when steps change in a way an in-flight run cannot follow; resume refuses a mismatch. */
  version: number;
  description: string;
  steps: StepDefinition<P, S, any>[];
  /**
   * Checks the params read back from the journal (resume, cancel --rollback) and returns them as
   * the steps see them. Throws, naming the field, when they do not fit: the run was made by a v2o
   * whose params had another shape. Without it, stored params are used as they are.
   */
  parseParams?(stored: unknown): P;
  /**
   * Asked before `cancel --rollback` changes anything: throws (naming why and the way out) when
   * this run must not be rolled back, unless `force`. Pure: the params and each step's state.
   */
  checkRollback?(
    params: P,
    steps: { id: string; state: StepState }[],
    o: { runId: string; force: boolean },
  ): void;
  /** Build the services (API clients) for a run from its params and the environment. */
  services?(params: P, env: ServiceEnv): Promise<S>;
  /** Release what services() opened (log out, close sockets). */
  closeServices?(services: S): Promise<void>;
}

interface ServiceEnv {
  log: Logger;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** EngineOptions.hostSettings ({} when none). */
  hostSettings: HostSettings;
}

/**
 * What the process driving a run says about the machine it runs on, over the run's params, which
 * are never rewritten (a worker's `--conversion-host`: in a fleet the plan is shared, the host is
 * not). Handed to the workflow's services() as is; the workflow says which keys it reads.
 */
export type HostSettings = Readonly<Record<string, string>>;
