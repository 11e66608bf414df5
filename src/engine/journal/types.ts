// PLACEHOLDER until helper P's lands; P's file wins at merge.
// Only what src/fleet uses of the asynchronous Journal contract (contract-15.md section 1).
import type { RunRecord as SqliteRunRecord, StepRecord } from '../journal.js';

export type { StepRecord };

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

export type RunRecord = SqliteRunRecord & { affinity?: string };

export interface Journal {
  /** The database's time (ms epoch): leases and wake times are compared with it. */
  now(): Promise<number>;
  getRun(id: string): Promise<RunRecord | undefined>;
  requireRun(id: string): Promise<RunRecord>;
  listRuns(limit?: number): Promise<RunRecord[]>;
  getSteps(runId: string): Promise<StepRecord[]>;
  getLease(runId: string): Promise<LeaseRecord | undefined>;
  acquireLease(
    runId: string,
    owner: LeaseOwner,
    ttlMs: number,
    isAlive: (pid: number) => boolean,
  ): Promise<Fence>;
  releaseLease(fence: Fence): Promise<void>;
  setAffinity(fence: Fence, worker: string | null): Promise<void>;
  events(
    runId: string,
    afterSeq?: number,
  ): Promise<{ runId: string; seq: number; at: number; type: string; data?: Record<string, unknown> }[]>;
  close(): void | Promise<void>;
}
