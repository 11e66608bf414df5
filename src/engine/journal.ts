// The journal: one SQLite file (WAL) holding runs, step records, checkpoints, an append-only
// event log and leases. It is the history that lets `resume` skip finished work, so every
// state change is one transaction together with its event. One cohesive thing (the schema's SQL and
// every statement on it), so it stays one file over 400 lines.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { V2oError } from '../errors.js';
import { scrubSecrets } from '../redaction.js';
import {
  JournalCorruptError,
  JournalLockedError,
  JournalTooNewError,
  LeaseHeldError,
  RunNotFoundError,
} from './errors.js';
import { migrations, SCHEMA_VERSION } from './journal-schema.js';
import type { RunState, StepState } from './types.js';

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

export interface LeaseRecord {
  runId: string;
  pid: number;
  host: string;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

/** An error as stored: no stack (that goes to the run log), secrets scrubbed. */
export interface ErrorRecord {
  name: string;
  message: string;
  hint?: string;
  /** Evidence kept with the error (V2oError.detail), shown by `v2o status`. */
  detail?: string;
}

export interface LeaseOwner {
  pid: number;
  host: string;
}

export interface OpenJournalOptions {
  /** How long to wait for another writer before JournalLockedError (default 5000 ms). */
  busyTimeoutMs?: number;
  /** When false and the file does not exist, open an empty in-memory journal instead of creating one. */
  create?: boolean;
}

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

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = <T>(s: string | null): T | undefined => (s === null ? undefined : (JSON.parse(s) as T));
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

interface RunRow {
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
}
interface StepRow {
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

const toRun = (r: RunRow): RunRecord => ({
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
});
const toStep = (r: StepRow): StepRecord => ({
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

const TERMINAL: RunState[] = ['succeeded', 'cancelled'];

/** Runs with the earliest timer their waiting steps wait for (list shows it). */
const RUNS = `SELECT runs.*, (SELECT min(wake_at) FROM steps
  WHERE steps.run_id = runs.id AND steps.state = 'waiting') AS wake_at FROM runs`;

export class Journal {
  private readonly stmts = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    /** The journal file (or ':memory:'), for messages. */
    readonly file: string,
  ) {}

  /**
   * Opens (creating with mode 0600 if needed) and migrates the journal. Refuses, without
   * writing anything, a file that is corrupt, locked, or newer than this program.
   */
  static open(file: string, opts: OpenJournalOptions = {}): Journal {
    const exists = fs.existsSync(file);
    if (!exists && opts.create === false) return Journal.memory(`${file} (which does not exist yet)`);
    if (!exists) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.closeSync(fs.openSync(file, 'wx', 0o600));
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5_000 });
      const j = new Journal(db, file);
      j.setup();
      return j;
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, file);
    }
  }

  /** A throwaway journal (tests, and read-only commands when no journal exists yet). */
  static memory(label = ':memory:'): Journal {
    const j = new Journal(new Database(':memory:'), label);
    j.setup();
    return j;
  }

  private setup(): void {
    // Read the version before any write so a newer or corrupt file stays untouched.
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new JournalTooNewError(this.file, version, SCHEMA_VERSION);
    if (this.db.name !== ':memory:') {
      // WAL: readers never block the runner. NORMAL sync is durable across process crashes (what
      // resume needs); a power cut may lose the last commit, which re-runs an idempotent step.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // No automatic checkpoint inside a step transition (its fsync is the p99 of a commit);
      // the runner calls maintain() from its heartbeat, and closing checkpoints too.
      this.db.pragma('wal_autocheckpoint = 0');
    }
    this.db.pragma('foreign_keys = ON');
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db
        .transaction(() => {
          this.db.exec(migrations[v]);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Moves WAL pages into the database without waiting for readers (PASSIVE); best effort. */
  maintain(): void {
    if (this.db.name === ':memory:') return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or locked: the next heartbeat tries again
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Every public method goes through here so SQLite errors become actionable ones. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, this.file);
    }
  }

  private tx<T>(fn: () => T): T {
    return this.guard(() => this.db.transaction(fn).immediate());
  }

  private addEvent(runId: string, at: number, type: string, stepId?: string, data?: Record<string, unknown>) {
    this.stmt(
      `INSERT INTO events (run_id, seq, at, type, step_id, data)
       SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ? FROM events WHERE run_id = ?`,
    ).run(runId, at, type, stepId ?? null, json(data === undefined ? undefined : scrubSecrets(data)), runId);
  }

  private touchRun(runId: string, at: number) {
    this.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(at, runId);
  }

  // --- runs ---

  createRun(r: {
    id?: string;
    workflow: string;
    workflowVersion: number;
    subject: string;
    params: unknown;
    stepIds: string[];
    at: number;
  }): RunRecord {
    const id = r.id ?? newRunId();
    this.tx(() => {
      this.stmt(
        `INSERT INTO runs (id, workflow, workflow_version, subject, params, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ).run(id, r.workflow, r.workflowVersion, r.subject, JSON.stringify(r.params ?? null), r.at, r.at);
      const ins = this.stmt(`INSERT INTO steps (run_id, step_id, idx, state) VALUES (?, ?, ?, 'pending')`);
      r.stepIds.forEach((s, i) => {
        ins.run(id, s, i);
      });
      this.addEvent(id, r.at, 'run.created', undefined, {
        workflow: r.workflow,
        version: r.workflowVersion,
        subject: r.subject,
      });
    });
    return this.requireRun(id);
  }

  getRun(id: string): RunRecord | undefined {
    return this.guard(() => {
      const row = this.stmt(`${RUNS} WHERE id = ?`).get(id) as RunRow | undefined;
      return row && toRun(row);
    });
  }

  requireRun(id: string): RunRecord {
    const r = this.getRun(id);
    if (!r) throw new RunNotFoundError(id, this.file);
    return r;
  }

  /** Newest first. */
  listRuns(limit = 1000): RunRecord[] {
    return this.guard(() =>
      (this.stmt(`${RUNS} ORDER BY created_at DESC, id LIMIT ?`).all(limit) as RunRow[]).map(toRun),
    );
  }

  setRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ) {
    this.tx(() => {
      this.stmt('UPDATE runs SET state = ?, updated_at = ?, finished_at = ?, error = ? WHERE id = ?').run(
        state,
        at,
        TERMINAL.includes(state) || state === 'failed' ? at : null,
        error === undefined ? null : JSON.stringify(toErrorRecord(error)),
        runId,
      );
      const data = { ...eventData, ...(error === undefined ? {} : { error: toErrorRecord(error) }) };
      this.addEvent(runId, at, `run.${state}`, undefined, Object.keys(data).length > 0 ? data : undefined);
    });
  }

  // --- steps ---

  getSteps(runId: string): StepRecord[] {
    return this.guard(() =>
      (this.stmt('SELECT * FROM steps WHERE run_id = ? ORDER BY idx').all(runId) as StepRow[]).map(toStep),
    );
  }

  getStep(runId: string, stepId: string): StepRecord | undefined {
    return this.guard(() => {
      const row = this.stmt('SELECT * FROM steps WHERE run_id = ? AND step_id = ?').get(runId, stepId) as
        | StepRow
        | undefined;
      return row && toStep(row);
    });
  }

  /** Adds step rows a stored run lacks (same workflow version, but defensive). */
  ensureSteps(runId: string, stepIds: string[]): void {
    this.tx(() => {
      const ins = this.stmt(
        `INSERT OR IGNORE INTO steps (run_id, step_id, idx, state) VALUES (?, ?, ?, 'pending')`,
      );
      stepIds.forEach((s, i) => {
        ins.run(runId, s, i);
      });
    });
  }

  /** An attempt begins: counted before run() so an attempt that kills the process still counts. */
  stepAttemptStarted(runId: string, stepId: string, at: number, attempt: number): void {
    this.tx(() => {
      this.stmt(
        `UPDATE steps SET state = 'running', attempts = attempts + 1, error = NULL, wake_at = NULL,
           started_at = coalesce(started_at, ?), finished_at = NULL WHERE run_id = ? AND step_id = ?`,
      ).run(at, runId, stepId);
      this.touchRun(runId, at);
      this.addEvent(runId, at, 'step.started', stepId, { attempt });
    });
  }

  /** Output and state in one transaction: a step is succeeded exactly when its output is stored. */
  stepSucceeded(runId: string, stepId: string, at: number, output: unknown): void {
    this.tx(() => {
      this.stmt(
        `UPDATE steps SET state = 'succeeded', output = ?, error = NULL, finished_at = ?, wake_at = NULL
         WHERE run_id = ? AND step_id = ?`,
      ).run(json(output), at, runId, stepId);
      this.touchRun(runId, at);
      this.addEvent(runId, at, 'step.succeeded', stepId);
    });
  }

  /** failed, interrupted, cancelled: the step ended without output. */
  stepEnded(runId: string, stepId: string, at: number, state: StepState, error?: unknown): void {
    this.tx(() => {
      this.stmt(
        'UPDATE steps SET state = ?, error = ?, finished_at = ?, wake_at = NULL WHERE run_id = ? AND step_id = ?',
      ).run(state, error === undefined ? null : JSON.stringify(toErrorRecord(error)), at, runId, stepId);
      this.touchRun(runId, at);
      this.addEvent(
        runId,
        at,
        `step.${state}`,
        stepId,
        error === undefined ? undefined : { error: toErrorRecord(error) },
      );
    });
  }

  /**
   * Step and run wait together: for approval (the step's gate asked), or, with `wakeAt`, on a
   * timer (ctx.waitUntil, or an approval for a later time). The step's checkpoints stay.
   */
  stepWaiting(runId: string, stepId: string, at: number, message: string, wakeAt?: number): void {
    this.tx(() => {
      this.stmt(
        `UPDATE steps SET state = 'waiting', gate_message = ?, wake_at = ?, finished_at = NULL
         WHERE run_id = ? AND step_id = ?`,
      ).run(message, wakeAt ?? null, runId, stepId);
      this.stmt(`UPDATE runs SET state = 'waiting', updated_at = ? WHERE id = ?`).run(at, runId);
      this.addEvent(
        runId,
        at,
        'step.waiting',
        stepId,
        wakeAt === undefined ? { message } : { message, wakeAt },
      );
    });
  }

  /**
   * Records an approval (for `notBefore`, when given). A step waiting for it goes back to pending
   * so `resume` runs it; steps waiting on a timer are woken: due at once, or at notBefore when
   * that comes before their own time (the approved step itself waits for its notBefore).
   */
  approveStep(runId: string, stepId: string, at: number, by: string, notBefore?: number): void {
    const wake = notBefore ?? at;
    this.tx(() => {
      this.stmt(
        `UPDATE steps SET approved_at = ?, approved_by = ?, not_before = ?,
           state = CASE WHEN state = 'waiting' AND wake_at IS NULL THEN 'pending' ELSE state END,
           wake_at = CASE WHEN state = 'waiting' AND wake_at IS NOT NULL THEN ? ELSE wake_at END
         WHERE run_id = ? AND step_id = ?`,
      ).run(at, by, notBefore ?? null, wake, runId, stepId);
      const woken = (
        this.stmt(
          `SELECT step_id FROM steps WHERE run_id = ? AND step_id != ? AND state = 'waiting'
             AND wake_at IS NOT NULL AND wake_at > ?`,
        ).all(runId, stepId, wake) as { step_id: string }[]
      ).map((r) => r.step_id);
      this.stmt(
        `UPDATE steps SET wake_at = ? WHERE run_id = ? AND step_id != ? AND state = 'waiting'
           AND wake_at IS NOT NULL AND wake_at > ?`,
      ).run(wake, runId, stepId, wake);
      this.stmt(
        `UPDATE runs SET state = 'pending', updated_at = ? WHERE id = ? AND state = 'waiting'
           AND NOT EXISTS (SELECT 1 FROM steps WHERE run_id = ? AND state = 'waiting')`,
      ).run(at, runId, runId);
      this.touchRun(runId, at);
      this.addEvent(runId, at, 'step.approved', stepId, {
        by,
        ...(notBefore === undefined ? {} : { notBefore }),
        ...(woken.length ? { woken, wakeAt: wake } : {}),
      });
    });
  }

  stepCompensated(runId: string, stepId: string, at: number): void {
    this.tx(() => {
      this.stmt(
        `UPDATE steps SET state = 'compensated', finished_at = ? WHERE run_id = ? AND step_id = ?`,
      ).run(at, runId, stepId);
      this.touchRun(runId, at);
      this.addEvent(runId, at, 'step.compensated', stepId);
    });
  }

  // --- checkpoints ---

  checkpoint(runId: string, stepId: string, at: number, data: unknown): void {
    this.guard(() =>
      this.stmt(
        `INSERT INTO checkpoints (run_id, step_id, seq, data, at)
         SELECT ?, ?, coalesce(max(seq), 0) + 1, ?, ? FROM checkpoints WHERE run_id = ? AND step_id = ?`,
      ).run(runId, stepId, JSON.stringify(data ?? null), at, runId, stepId),
    );
  }

  lastCheckpoint(runId: string, stepId: string): unknown | undefined {
    return this.guard(() => {
      const row = this.stmt(
        'SELECT data FROM checkpoints WHERE run_id = ? AND step_id = ? ORDER BY seq DESC LIMIT 1',
      ).get(runId, stepId) as { data: string } | undefined;
      return row ? JSON.parse(row.data) : undefined;
    });
  }

  // --- events ---

  appendEvent(
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): void {
    this.tx(() => this.addEvent(runId, at, type, stepId, data));
  }

  events(runId: string, afterSeq = 0): EventRecord[] {
    return this.guard(() =>
      (
        this.stmt('SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq').all(runId, afterSeq) as {
          run_id: string;
          seq: number;
          at: number;
          type: string;
          step_id: string | null;
          data: string | null;
        }[]
      ).map((e) => ({
        runId: e.run_id,
        seq: e.seq,
        at: e.at,
        type: e.type,
        stepId: opt(e.step_id),
        data: parse<Record<string, unknown>>(e.data),
      })),
    );
  }

  // --- leases ---

  getLease(runId: string): LeaseRecord | undefined {
    return this.guard(() => {
      const r = this.stmt('SELECT * FROM leases WHERE run_id = ?').get(runId) as
        | {
            run_id: string;
            owner_pid: number;
            host: string;
            acquired_at: number;
            heartbeat_at: number;
            expires_at: number;
          }
        | undefined;
      return (
        r && {
          runId: r.run_id,
          pid: r.owner_pid,
          host: r.host,
          acquiredAt: r.acquired_at,
          heartbeatAt: r.heartbeat_at,
          expiresAt: r.expires_at,
        }
      );
    });
  }

  /**
   * Takes the run's lease, or throws LeaseHeldError naming the holder. A lease that expired,
   * or whose holder is a dead process on this host, is taken over (and the event says so).
   */
  acquireLease(
    runId: string,
    owner: LeaseOwner,
    at: number,
    ttlMs: number,
    isAlive: (pid: number) => boolean,
  ) {
    this.tx(() => {
      const cur = this.getLease(runId);
      if (cur && !(cur.pid === owner.pid && cur.host === owner.host)) {
        const dead = cur.host === owner.host && !isAlive(cur.pid);
        if (!dead && cur.expiresAt > at) throw new LeaseHeldError(runId, cur.pid, cur.host, cur.acquiredAt);
        this.addEvent(runId, at, 'lease.taken-over', undefined, {
          from: { pid: cur.pid, host: cur.host },
          reason: dead ? 'holder process is gone' : 'lease expired',
        });
      }
      this.stmt(
        `INSERT INTO leases (run_id, owner_pid, host, acquired_at, heartbeat_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET owner_pid = excluded.owner_pid, host = excluded.host,
           acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(runId, owner.pid, owner.host, at, at, at + ttlMs);
    });
  }

  /** Extends our lease; false when it is no longer ours (taken over). */
  heartbeat(runId: string, owner: LeaseOwner, at: number, ttlMs: number): boolean {
    return this.guard(
      () =>
        this.stmt(
          'UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND owner_pid = ? AND host = ?',
        ).run(at, at + ttlMs, runId, owner.pid, owner.host).changes === 1,
    );
  }

  releaseLease(runId: string, owner: LeaseOwner): void {
    this.guard(() =>
      this.stmt('DELETE FROM leases WHERE run_id = ? AND owner_pid = ? AND host = ?').run(
        runId,
        owner.pid,
        owner.host,
      ),
    );
  }
}

/** SQLite's codes → errors that name the problem and the fix. Others pass through. */
function translateSqliteError(err: unknown, file: string): unknown {
  if (err instanceof V2oError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new JournalLockedError(file, err);
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))
    return new JournalCorruptError(file, err);
  return err;
}
