// What both journal backends share: run ids, error records, and rows → records (the tables have
// the same columns in SQLite and PostgreSQL; times are ms since the epoch, JSON is stored as text).
import { randomBytes } from 'node:crypto';
import { V2oError } from '../../errors.js';
import { scrubSecrets } from '../../redaction.js';
import type { RunState, StepState } from '../types.js';
import type { ErrorRecord, EventRecord, LeaseRecord, RunRecord, StepRecord } from './types.js';

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford: no i, l, o, u

/** `r-` and 8 base32 characters (40 random bits): short enough to type. */
export function newRunId(): string {
  const b = randomBytes(5);
  let bits = 0n;
  for (const x of b) bits = (bits << 8n) | BigInt(x);
  let s = '';
  for (let i = 0; i < 8; i++) s = BASE32[Number((bits >> BigInt(i * 5)) & 31n)] + s;
  return `r-${s}`;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  const e = err instanceof Error ? err : new Error(String(err));
  const rec: ErrorRecord = { name: e.name, message: e.message };
  if (e instanceof V2oError && e.hint) rec.hint = e.hint;
  if (e instanceof V2oError && e.detail) rec.detail = e.detail;
  return scrubSecrets(rec);
}

export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
export const eventJson = (data?: Record<string, unknown>): string | null =>
  json(data === undefined ? undefined : scrubSecrets(data));
export const errorJson = (error: unknown): string | null =>
  error === undefined ? null : JSON.stringify(toErrorRecord(error));
const parse = <T>(s: string | null): T | undefined => (s === null ? undefined : (JSON.parse(s) as T));
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** Terminal states and failed set finished_at. */
export const finishes = (state: RunState): boolean =>
  state === 'succeeded' || state === 'cancelled' || state === 'failed';

export interface RunRow {
  id: string;
  workflow: string;
  workflow_version: number;
  subject: string;
  params: string;
  state: RunState;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  error: string | null;
  wake_at: number | null;
  affinity: string | null;
}
export interface StepRow {
  run_id: string;
  step_id: string;
  idx: number;
  state: StepState;
  attempts: number;
  output: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  gate_message: string | null;
  approved_at: number | null;
  approved_by: string | null;
  wake_at: number | null;
  not_before: number | null;
}
export interface EventRow {
  run_id: string;
  seq: number;
  at: number;
  type: string;
  step_id: string | null;
  data: string | null;
}
export interface LeaseRow {
  run_id: string;
  owner_pid: number;
  host: string;
  worker: string | null;
  token: number;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

export const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  workflow: r.workflow,
  workflowVersion: r.workflow_version,
  subject: r.subject,
  params: JSON.parse(r.params),
  state: r.state,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: opt(r.finished_at),
  error: parse<ErrorRecord>(r.error),
  wakeAt: opt(r.wake_at),
  affinity: opt(r.affinity),
});
export const toStep = (r: StepRow): StepRecord => ({
  runId: r.run_id,
  stepId: r.step_id,
  idx: r.idx,
  state: r.state,
  attempts: r.attempts,
  output: parse(r.output),
  error: parse<ErrorRecord>(r.error),
  startedAt: opt(r.started_at),
  finishedAt: opt(r.finished_at),
  gateMessage: opt(r.gate_message),
  approvedAt: opt(r.approved_at),
  approvedBy: opt(r.approved_by),
  wakeAt: opt(r.wake_at),
  approvalNotBefore: opt(r.not_before),
});
export const toEvent = (e: EventRow): EventRecord => ({
  runId: e.run_id,
  seq: e.seq,
  at: e.at,
  type: e.type,
  stepId: opt(e.step_id),
  data: parse<Record<string, unknown>>(e.data),
});
export const toLease = (r: LeaseRow): LeaseRecord => ({
  runId: r.run_id,
  pid: r.owner_pid,
  host: r.host,
  worker: opt(r.worker),
  token: r.token,
  acquiredAt: r.acquired_at,
  heartbeatAt: r.heartbeat_at,
  expiresAt: r.expires_at,
});

/** What acquireLease finds: our own lease, a live holder's, or one to take over (and why). */
export type LeaseVerdict = 'ours' | 'held' | 'holder process is gone' | 'lease expired';

export function leaseVerdict(
  cur: LeaseRecord,
  owner: { pid: number; host: string; worker?: string },
  now: number,
  isAlive: (pid: number) => boolean,
): LeaseVerdict {
  if (cur.pid === owner.pid && cur.host === owner.host && cur.worker === owner.worker) return 'ours';
  if (cur.host === owner.host && !isAlive(cur.pid)) return 'holder process is gone';
  return cur.expiresAt > now ? 'held' : 'lease expired';
}
