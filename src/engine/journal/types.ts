// The journal contract: runs, step records, checkpoints, an append-only event log and leases,
// asynchronous because one backend is a network database. Two implementations keep the same
// behaviour and messages: sqlite.ts (one file on one host) and postgres.ts (a fleet).
import type { RunState, StepState } from '../types.js';

export interface RunRecord {
  id: string;
  workflow: string;
  workflowVersion: number;
  subject: string;
  params: unknown;
  state: RunState;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  error?: ErrorRecord;
  /** The earliest wakeAt of its steps that wait on a timer, when any does. */
  wakeAt?: number;
  /** Only this worker takes the run (its volumes are attached to that worker's host). */
  affinity?: string;
}

export interface StepRecord {
  runId: string;
  stepId: string;
  idx: number;
  state: StepState;
  attempts: number;
  output?: unknown;
  error?: ErrorRecord;
  startedAt?: number;
  finishedAt?: number;
  gateMessage?: string;
  approvedAt?: number;
  approvedBy?: string;
  /** Waiting on a timer (ctx.waitUntil, or an approval for a later time): runnable from then on. */
  wakeAt?: number;
  /** The approval is for this time: the step does not run before it. */
  approvalNotBefore?: number;
}

export interface EventRecord {
  runId: string;
  seq: number;
  at: number;
  type: string;
  stepId?: string;
  data?: Record<string, unknown>;
}

/** An error as stored: no stack (that goes to the run log), secrets scrubbed. */
export interface ErrorRecord {
  name: string;
  message: string;
  hint?: string;
  /** Evidence kept with the error (V2oError.detail), shown by `v2o status`. */
  detail?: string;
}

export interface Fence {
  runId: string;
  /** Increases every time the lease changes hands; a write under an older token is refused. */
  token: number;
}

export interface LeaseRecord {
  runId: string;
  pid: number;
  host: string;
  /** The worker's name (`v2o worker --name`), or undefined for a CLI process. */
  worker?: string;
  token: number;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

export interface LeaseOwner {
  pid: number;
  host: string;
  worker?: string;
}

export interface NewRun {
  id?: string;
  workflow: string;
  workflowVersion: number;
  subject: string;
  params: unknown;
  stepIds: string[];
  at: number;
}

/**
 * The writes made while driving a run. Each checks, in its own transaction, that the lease still
 * carries the fence's token and has not expired (database time); otherwise it throws
 * LeaseLostError and writes nothing. The runId arguments must be the fence's run.
 */
export interface FencedJournal {
  readonly fence: Fence;
  ensureSteps(runId: string, stepIds: string[]): Promise<void>;
  setRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ): Promise<void>;
  stepAttemptStarted(runId: string, stepId: string, at: number, attempt: number): Promise<void>;
  stepSucceeded(runId: string, stepId: string, at: number, output: unknown): Promise<void>;
  stepEnded(runId: string, stepId: string, at: number, state: StepState, error?: unknown): Promise<void>;
  stepWaiting(runId: string, stepId: string, at: number, message: string, wakeAt?: number): Promise<void>;
  stepCompensated(runId: string, stepId: string, at: number): Promise<void>;
  checkpoint(runId: string, stepId: string, at: number, data: unknown): Promise<void>;
  appendEvent(
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): Promise<void>;
  setAffinity(worker: string | null): Promise<void>;
  /** Extends the lease by ttlMs from the database's now; false when it is no longer ours. */
  heartbeat(ttlMs: number): Promise<boolean>;
  /** Gives the lease up (only while it is still ours). */
  releaseLease(): Promise<void>;
}

export interface Journal {
  /** The journal for messages: the SQLite file, or the PostgreSQL URL without credentials. */
  readonly file: string;
  readonly backend: 'sqlite' | 'postgres';
  close(): Promise<void>;
  /** Housekeeping the runner's heartbeat calls outside any transition (SQLite: WAL checkpoint). */
  maintain(): Promise<void>;
  /** The database's time (ms since the epoch): what lease expiry and wake times are compared with. */
  now(): Promise<number>;

  createRun(r: NewRun): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | undefined>;
  requireRun(id: string): Promise<RunRecord>;
  /** Newest first. */
  listRuns(limit?: number): Promise<RunRecord[]>;
  /** Every run in one of `states`, however old (the reaper must see a run from the first day of a wave). */
  runsInState(states: readonly RunState[]): Promise<RunRecord[]>;
  /** How many runs are in each state (states with none are left out). */
  countRunsByState(): Promise<Partial<Record<RunState, number>>>;
  /** Unfenced: operators (cancel) and tests. The runner writes through fenced(). */
  setRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ): Promise<void>;

  getSteps(runId: string): Promise<StepRecord[]>;
  getStep(runId: string, stepId: string): Promise<StepRecord | undefined>;
  ensureSteps(runId: string, stepIds: string[]): Promise<void>;
  stepAttemptStarted(runId: string, stepId: string, at: number, attempt: number): Promise<void>;
  stepSucceeded(runId: string, stepId: string, at: number, output: unknown): Promise<void>;
  stepEnded(runId: string, stepId: string, at: number, state: StepState, error?: unknown): Promise<void>;
  stepWaiting(runId: string, stepId: string, at: number, message: string, wakeAt?: number): Promise<void>;
  /**
   * Records an approval (for `notBefore`, when given). A step waiting for it goes back to pending;
   * steps waiting on a timer are woken (due at once, or at notBefore when that is sooner).
   */
  approveStep(runId: string, stepId: string, at: number, by: string, notBefore?: number): Promise<void>;
  stepCompensated(runId: string, stepId: string, at: number): Promise<void>;

  checkpoint(runId: string, stepId: string, at: number, data: unknown): Promise<void>;
  lastCheckpoint(runId: string, stepId: string): Promise<unknown | undefined>;

  appendEvent(
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): Promise<void>;
  events(runId: string, afterSeq?: number): Promise<EventRecord[]>;

  getLease(runId: string): Promise<LeaseRecord | undefined>;
  /**
   * Takes the run's lease (times from the database), or throws LeaseHeldError naming the holder.
   * A lease that expired, or whose holder is a dead process on this host, is taken over (the
   * event says so); the new token is above every earlier one of the run.
   */
  acquireLease(
    runId: string,
    owner: LeaseOwner,
    ttlMs: number,
    isAlive: (pid: number) => boolean,
  ): Promise<Fence>;
  heartbeat(fence: Fence, ttlMs: number): Promise<boolean>;
  releaseLease(fence: Fence): Promise<void>;
  /**
   * Pins the run to a worker (null: any). Under a Fence the write is fenced (the runner); with a
   * run id it is an operator's write (`v2o reassign`).
   */
  setAffinity(target: Fence | string, worker: string | null): Promise<void>;
  /** The write methods of this journal, each checked against the fence. */
  fenced(fence: Fence): FencedJournal;
}
