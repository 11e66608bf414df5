// The SQLite journal: one file (WAL) on one host. better-sqlite3 is synchronous; each method does
// its whole transaction before its promise settles, so writes apply in call order. Every state
// change is one transaction together with its event. One cohesive thing (the schema's SQL and
// every statement on it), so it stays one file over 400 lines.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { V2oError } from '../../errors.js';
import { systemClock } from '../clock.js';
import {
  JournalCorruptError,
  JournalLockedError,
  JournalTooNewError,
  LeaseHeldError,
  LeaseLostError,
  RunNotFoundError,
} from '../errors.js';
import type { Clock, RunState, StepState } from '../types.js';
import {
  type EventRow,
  errorJson,
  eventJson,
  finishes,
  json,
  type LeaseRow,
  leaseVerdict,
  newRunId,
  type RunRow,
  type StepRow,
  toEvent,
  toLease,
  toRun,
  toStep,
} from './records.js';
import { migrations, SCHEMA_VERSION } from './sqlite-schema.js';
import type {
  EventRecord,
  Fence,
  FencedJournal,
  Journal,
  LeaseOwner,
  LeaseRecord,
  NewRun,
  RunRecord,
  StepRecord,
} from './types.js';

export interface SqliteJournalOptions {
  /** How long to wait for another writer before JournalLockedError (default 5000 ms). */
  busyTimeoutMs?: number;
  /** When false and the file does not exist, open an empty in-memory journal instead of creating one. */
  create?: boolean;
  /** The journal's time (lease expiry, wake times); tests pass a FakeClock. Default: the system's. */
  clock?: Clock;
}

/** Runs with the earliest timer their waiting steps wait for (list shows it). */
const RUNS = `SELECT runs.*, (SELECT min(wake_at) FROM steps
  WHERE steps.run_id = runs.id AND steps.state = 'waiting') AS wake_at FROM runs`;

export class SqliteJournal implements Journal {
  readonly backend = 'sqlite';
  private readonly stmts = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    /** The journal file (or ':memory:'), for messages. */
    readonly file: string,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens (creating with mode 0600 if needed) and migrates the journal. Refuses, without
   * writing anything, a file that is corrupt, locked, or newer than this program.
   */
  static open(file: string, opts: SqliteJournalOptions = {}): SqliteJournal {
    const exists = fs.existsSync(file);
    if (!exists && opts.create === false)
      return SqliteJournal.memory(`${file} (which does not exist yet)`, opts);
    if (!exists) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.closeSync(fs.openSync(file, 'wx', 0o600));
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5_000 });
      const j = new SqliteJournal(db, file, opts.clock ?? systemClock);
      j.setup();
      return j;
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, file);
    }
  }

  /** A throwaway journal (tests, and read-only commands when no journal exists yet). */
  static memory(label = ':memory:', opts: { clock?: Clock } = {}): SqliteJournal {
    const j = new SqliteJournal(new Database(':memory:'), label, opts.clock ?? systemClock);
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Moves WAL pages into the database without waiting for readers (PASSIVE); best effort. */
  async maintain(): Promise<void> {
    if (this.db.name === ':memory:') return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or locked: the next heartbeat tries again
    }
  }

  /** One host: its clock is the database's. */
  async now(): Promise<number> {
    return this.clock.now();
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

  /** One write transaction; under a fence it first checks the lease is still ours and unexpired. */
  private tx<T>(fn: () => T, fence?: Fence): T {
    return this.guard(() =>
      this.db
        .transaction(() => {
          if (fence) this.checkFence(fence);
          return fn();
        })
        .immediate(),
    );
  }

  private checkFence(fence: Fence): void {
    const row = this.stmt('SELECT token, expires_at FROM leases WHERE run_id = ?').get(fence.runId) as
      | { token: number; expires_at: number }
      | undefined;
    if (!row || row.token !== fence.token || row.expires_at <= this.clock.now())
      throw new LeaseLostError(fence.runId);
  }

  private addEvent(runId: string, at: number, type: string, stepId?: string, data?: Record<string, unknown>) {
    this.stmt(
      `INSERT INTO events (run_id, seq, at, type, step_id, data)
       SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ? FROM events WHERE run_id = ?`,
    ).run(runId, at, type, stepId ?? null, eventJson(data), runId);
  }

  private touchRun(runId: string, at: number) {
    this.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(at, runId);
  }

  // --- runs ---

  async createRun(r: NewRun): Promise<RunRecord> {
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

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.guard(() => {
      const row = this.stmt(`${RUNS} WHERE id = ?`).get(id) as RunRow | undefined;
      return row && toRun(row);
    });
  }

  async requireRun(id: string): Promise<RunRecord> {
    const r = await this.getRun(id);
    if (!r) throw new RunNotFoundError(id, this.file);
    return r;
  }

  async listRuns(limit = 1000): Promise<RunRecord[]> {
    return this.guard(() =>
      (this.stmt(`${RUNS} ORDER BY created_at DESC, id LIMIT ?`).all(limit) as RunRow[]).map(toRun),
    );
  }

  async runsInState(states: readonly RunState[]): Promise<RunRecord[]> {
    return this.guard(() =>
      (
        this.stmt(`${RUNS} WHERE state IN (SELECT value FROM json_each(?)) ORDER BY created_at, id`).all(
          JSON.stringify(states),
        ) as RunRow[]
      ).map(toRun),
    );
  }

  async countRunsByState(): Promise<Partial<Record<RunState, number>>> {
    return this.guard(() =>
      Object.fromEntries(
        (
          this.stmt('SELECT state, count(*) AS n FROM runs GROUP BY state').all() as {
            state: RunState;
            n: number;
          }[]
        ).map((x) => [x.state, x.n]),
      ),
    );
  }

  private doSetRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ) {
    this.stmt('UPDATE runs SET state = ?, updated_at = ?, finished_at = ?, error = ? WHERE id = ?').run(
      state,
      at,
      finishes(state) ? at : null,
      errorJson(error),
      runId,
    );
    const data = { ...eventData, ...(error === undefined ? {} : { error: JSON.parse(errorJson(error)!) }) };
    this.addEvent(runId, at, `run.${state}`, undefined, Object.keys(data).length > 0 ? data : undefined);
  }

  async setRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ): Promise<void> {
    this.tx(() => this.doSetRunState(runId, state, at, error, eventData));
  }

  // --- steps ---

  async getSteps(runId: string): Promise<StepRecord[]> {
    return this.guard(() =>
      (this.stmt('SELECT * FROM steps WHERE run_id = ? ORDER BY idx').all(runId) as StepRow[]).map(toStep),
    );
  }

  async getStep(runId: string, stepId: string): Promise<StepRecord | undefined> {
    return this.guard(() => {
      const row = this.stmt('SELECT * FROM steps WHERE run_id = ? AND step_id = ?').get(runId, stepId) as
        | StepRow
        | undefined;
      return row && toStep(row);
    });
  }

  private doEnsureSteps(runId: string, stepIds: string[]) {
    const ins = this.stmt(
      `INSERT OR IGNORE INTO steps (run_id, step_id, idx, state) VALUES (?, ?, ?, 'pending')`,
    );
    stepIds.forEach((s, i) => {
      ins.run(runId, s, i);
    });
  }

  /** Adds step rows a stored run lacks (same workflow version, but defensive). */
  async ensureSteps(runId: string, stepIds: string[]): Promise<void> {
    this.tx(() => this.doEnsureSteps(runId, stepIds));
  }

  /** An attempt begins: counted before run() so an attempt that kills the process still counts. */
  private doStepAttemptStarted(runId: string, stepId: string, at: number, attempt: number) {
    this.stmt(
      `UPDATE steps SET state = 'running', attempts = attempts + 1, error = NULL, wake_at = NULL,
         started_at = coalesce(started_at, ?), finished_at = NULL WHERE run_id = ? AND step_id = ?`,
    ).run(at, runId, stepId);
    this.touchRun(runId, at);
    this.addEvent(runId, at, 'step.started', stepId, { attempt });
  }

  async stepAttemptStarted(runId: string, stepId: string, at: number, attempt: number): Promise<void> {
    this.tx(() => this.doStepAttemptStarted(runId, stepId, at, attempt));
  }

  /** Output and state in one transaction: a step is succeeded exactly when its output is stored. */
  private doStepSucceeded(runId: string, stepId: string, at: number, output: unknown) {
    this.stmt(
      `UPDATE steps SET state = 'succeeded', output = ?, error = NULL, finished_at = ?, wake_at = NULL
       WHERE run_id = ? AND step_id = ?`,
    ).run(json(output), at, runId, stepId);
    this.touchRun(runId, at);
    this.addEvent(runId, at, 'step.succeeded', stepId);
  }

  async stepSucceeded(runId: string, stepId: string, at: number, output: unknown): Promise<void> {
    this.tx(() => this.doStepSucceeded(runId, stepId, at, output));
  }

  /** failed, interrupted, cancelled, skipped: the step ended without output. */
  private doStepEnded(runId: string, stepId: string, at: number, state: StepState, error?: unknown) {
    const err = errorJson(error);
    this.stmt(
      'UPDATE steps SET state = ?, error = ?, finished_at = ?, wake_at = NULL WHERE run_id = ? AND step_id = ?',
    ).run(state, err, at, runId, stepId);
    this.touchRun(runId, at);
    this.addEvent(runId, at, `step.${state}`, stepId, err === null ? undefined : { error: JSON.parse(err) });
  }

  async stepEnded(
    runId: string,
    stepId: string,
    at: number,
    state: StepState,
    error?: unknown,
  ): Promise<void> {
    this.tx(() => this.doStepEnded(runId, stepId, at, state, error));
  }

  /**
   * Step and run wait together: for approval (the step's gate asked), or, with `wakeAt`, on a
   * timer (ctx.waitUntil, or an approval for a later time). The step's checkpoints stay.
   */
  private doStepWaiting(runId: string, stepId: string, at: number, message: string, wakeAt?: number) {
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
  }

  async stepWaiting(
    runId: string,
    stepId: string,
    at: number,
    message: string,
    wakeAt?: number,
  ): Promise<void> {
    this.tx(() => this.doStepWaiting(runId, stepId, at, message, wakeAt));
  }

  async approveStep(
    runId: string,
    stepId: string,
    at: number,
    by: string,
    notBefore?: number,
  ): Promise<void> {
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
             AND wake_at IS NOT NULL AND wake_at > ? ORDER BY idx`,
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

  private doStepCompensated(runId: string, stepId: string, at: number) {
    this.stmt(`UPDATE steps SET state = 'compensated', finished_at = ? WHERE run_id = ? AND step_id = ?`).run(
      at,
      runId,
      stepId,
    );
    this.touchRun(runId, at);
    this.addEvent(runId, at, 'step.compensated', stepId);
  }

  async stepCompensated(runId: string, stepId: string, at: number): Promise<void> {
    this.tx(() => this.doStepCompensated(runId, stepId, at));
  }

  // --- checkpoints ---

  private doCheckpoint(runId: string, stepId: string, at: number, data: unknown) {
    this.stmt(
      `INSERT INTO checkpoints (run_id, step_id, seq, data, at)
       SELECT ?, ?, coalesce(max(seq), 0) + 1, ?, ? FROM checkpoints WHERE run_id = ? AND step_id = ?`,
    ).run(runId, stepId, JSON.stringify(data ?? null), at, runId, stepId);
  }

  async checkpoint(runId: string, stepId: string, at: number, data: unknown): Promise<void> {
    this.tx(() => this.doCheckpoint(runId, stepId, at, data));
  }

  async lastCheckpoint(runId: string, stepId: string): Promise<unknown | undefined> {
    return this.guard(() => {
      const row = this.stmt(
        'SELECT data FROM checkpoints WHERE run_id = ? AND step_id = ? ORDER BY seq DESC LIMIT 1',
      ).get(runId, stepId) as { data: string } | undefined;
      return row ? JSON.parse(row.data) : undefined;
    });
  }

  // --- events ---

  async appendEvent(
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): Promise<void> {
    this.tx(() => this.addEvent(runId, at, type, stepId, data));
  }

  async events(runId: string, afterSeq = 0): Promise<EventRecord[]> {
    return this.guard(() =>
      (
        this.stmt('SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq').all(
          runId,
          afterSeq,
        ) as EventRow[]
      ).map(toEvent),
    );
  }

  // --- leases ---

  private leaseRow(runId: string): LeaseRecord | undefined {
    const r = this.stmt('SELECT * FROM leases WHERE run_id = ?').get(runId) as LeaseRow | undefined;
    return r && toLease(r);
  }

  async getLease(runId: string): Promise<LeaseRecord | undefined> {
    return this.guard(() => this.leaseRow(runId));
  }

  async acquireLease(
    runId: string,
    owner: LeaseOwner,
    ttlMs: number,
    isAlive: (pid: number) => boolean,
  ): Promise<Fence> {
    return this.tx(() => {
      const now = this.clock.now();
      const cur = this.leaseRow(runId);
      if (cur) {
        const verdict = leaseVerdict(cur, owner, now, isAlive);
        if (verdict === 'held')
          throw new LeaseHeldError(runId, cur.pid, cur.host, cur.acquiredAt, cur.worker);
        if (verdict !== 'ours')
          this.addEvent(runId, now, 'lease.taken-over', undefined, {
            from: { pid: cur.pid, host: cur.host, ...(cur.worker ? { worker: cur.worker } : {}) },
            reason: verdict,
          });
      }
      const bumped = this.stmt(
        'UPDATE runs SET lease_token = lease_token + 1 WHERE id = ? RETURNING lease_token',
      ).get(runId) as { lease_token: number } | undefined;
      if (!bumped) throw new RunNotFoundError(runId, this.file);
      this.stmt(
        `INSERT INTO leases (run_id, owner_pid, host, worker, token, acquired_at, heartbeat_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET owner_pid = excluded.owner_pid, host = excluded.host,
           worker = excluded.worker, token = excluded.token, acquired_at = excluded.acquired_at,
           heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(runId, owner.pid, owner.host, owner.worker ?? null, bumped.lease_token, now, now, now + ttlMs);
      return { runId, token: bumped.lease_token };
    });
  }

  async heartbeat(fence: Fence, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    return this.guard(
      () =>
        this.stmt(
          'UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE run_id = ? AND token = ? AND expires_at > ?',
        ).run(now, now + ttlMs, fence.runId, fence.token, now).changes === 1,
    );
  }

  async releaseLease(fence: Fence): Promise<void> {
    this.guard(() =>
      this.stmt('DELETE FROM leases WHERE run_id = ? AND token = ?').run(fence.runId, fence.token),
    );
  }

  private doSetAffinity(runId: string, worker: string | null) {
    const now = this.clock.now();
    this.stmt('UPDATE runs SET affinity = ?, updated_at = ? WHERE id = ?').run(worker, now, runId);
    this.addEvent(runId, now, 'run.affinity', undefined, { worker });
  }

  async setAffinity(target: Fence | string, worker: string | null): Promise<void> {
    if (typeof target === 'string') this.tx(() => this.doSetAffinity(target, worker));
    else this.tx(() => this.doSetAffinity(target.runId, worker), target);
  }

  fenced(fence: Fence): FencedJournal {
    const f =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      async (runId: string, ...a: A): Promise<void> => {
        if (runId !== fence.runId)
          throw new Error(`a write for run ${runId} under the fence of ${fence.runId}`);
        this.tx(() => fn(...a), fence);
      };
    return {
      fence,
      ensureSteps: f((ids: string[]) => this.doEnsureSteps(fence.runId, ids)),
      setRunState: f((state: RunState, at: number, error?: unknown, data?: Record<string, unknown>) =>
        this.doSetRunState(fence.runId, state, at, error, data),
      ),
      stepAttemptStarted: f((stepId: string, at: number, attempt: number) =>
        this.doStepAttemptStarted(fence.runId, stepId, at, attempt),
      ),
      stepSucceeded: f((stepId: string, at: number, output: unknown) =>
        this.doStepSucceeded(fence.runId, stepId, at, output),
      ),
      stepEnded: f((stepId: string, at: number, state: StepState, error?: unknown) =>
        this.doStepEnded(fence.runId, stepId, at, state, error),
      ),
      stepWaiting: f((stepId: string, at: number, message: string, wakeAt?: number) =>
        this.doStepWaiting(fence.runId, stepId, at, message, wakeAt),
      ),
      stepCompensated: f((stepId: string, at: number) => this.doStepCompensated(fence.runId, stepId, at)),
      checkpoint: f((stepId: string, at: number, data: unknown) =>
        this.doCheckpoint(fence.runId, stepId, at, data),
      ),
      appendEvent: f((at: number, type: string, stepId?: string, data?: Record<string, unknown>) =>
        this.addEvent(fence.runId, at, type, stepId, data),
      ),
      setAffinity: (worker) => this.setAffinity(fence, worker),
      heartbeat: (ttlMs) => this.heartbeat(fence, ttlMs),
      releaseLease: () => this.releaseLease(fence),
    };
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
