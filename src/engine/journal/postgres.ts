// The PostgreSQL journal: one database shared by a fleet of workers. The same records, events and
// messages as the SQLite journal; times that decide (lease expiry, wake times) are the database's
// clock_timestamp(), never a worker's. Every write transaction on a run first locks the run's row,
// so events get gap-free sequence numbers and a fenced write and a lease takeover never interleave.
// One cohesive thing (every statement on the schema), so it stays one file over 400 lines.
import pg from 'pg';
import { V2oError } from '../../errors.js';
import { redactUrl } from '../../redaction.js';
import {
  JournalTooNewError,
  JournalUnreachableError,
  LeaseHeldError,
  LeaseLostError,
  RunNotFoundError,
} from '../errors.js';
import type { RunState, StepState } from '../types.js';
import { pgTarget } from './pg-url.js';
import { PG_SCHEMA_VERSION, pgMigrations } from './postgres-schema.js';
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

export interface PostgresJournalOptions {
  /** The PG* variables the URL's missing parts come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Tables in this schema (created if missing) instead of the search path's first: tests. */
  schema?: string;
}

/** The database's now in ms; clock_timestamp() moves within a transaction, now() does not. */
const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

const RUNS = `SELECT runs.*, (SELECT min(wake_at) FROM steps
  WHERE steps.run_id = runs.id AND steps.state = 'waiting') AS wake_at FROM runs`;

// bigint (int8) and count come back as strings by default; every value here fits a double.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

type Q = pg.PoolClient | pg.Pool;

/** Codes of a connection that could not be made or was lost (network, TLS, authentication, no database). */
function unreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && /^(08|28|3D|57P0[123])/.test(e.code)) return true;
  if (
    e.code &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOENT|EPIPE|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL)/.test(
      e.code,
    )
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|does not support SSL|server closed the connection|Hostname\/IP does not match/i.test(
    e.message ?? '',
  );
}

export class PostgresJournal implements Journal {
  readonly backend = 'postgres';

  private constructor(
    private readonly pool: pg.Pool,
    readonly file: string,
    private readonly where: string,
    private readonly password: string | undefined,
  ) {}

  /** Connects and migrates; refuses, untouched, a schema newer than this program. */
  static async open(url: string, o: PostgresJournalOptions = {}): Promise<PostgresJournal> {
    const t = pgTarget(url, o.env ?? process.env);
    const pool = new pg.Pool({
      ...t.config,
      max: 4,
      types,
      ...(o.schema ? { options: `-c search_path=${o.schema}` } : {}),
    });
    // An idle client's error (the server restarted) must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const j = new PostgresJournal(pool, redactUrl(url), t.where, t.password);
    try {
      if (o.schema) await j.q(pool, `CREATE SCHEMA IF NOT EXISTS "${o.schema.replace(/"/g, '""')}"`);
      await j.migrate();
      return j;
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // Two workers starting at once: one migrates, the other waits and finds it done.
      await this.q(c, `SELECT pg_advisory_xact_lock(hashtext('v2o journal schema'))`);
      const has = (await this.q(c, `SELECT to_regclass('schema_version') IS NOT NULL AS has`)).rows[0].has;
      const version: number = has
        ? ((await this.q(c, 'SELECT coalesce(max(version), 0) AS v FROM schema_version')).rows[0].v as number)
        : 0;
      if (version > PG_SCHEMA_VERSION) throw new JournalTooNewError(this.file, version, PG_SCHEMA_VERSION);
      if (!has)
        await this.q(
          c,
          'CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
      for (let v = version; v < PG_SCHEMA_VERSION; v++) {
        await this.q(c, pgMigrations[v]);
        await this.q(c, 'INSERT INTO schema_version (version) VALUES ($1)', [v + 1]);
      }
    });
  }

  /** A driver error as an actionable one, never with the password in it. */
  private translate(err: unknown): unknown {
    if (err instanceof V2oError) return err;
    if (unreachable(err)) {
      let reason = (err as Error).message || String((err as { code?: string }).code ?? err);
      if (this.password) reason = reason.split(this.password).join('***');
      return new JournalUnreachableError(this.where, reason, err);
    }
    return err;
  }

  private async q(c: Q, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    try {
      return await c.query(sql, params);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /**
   * One transaction. With a run id it first locks the run's row (every writer of a run does, so
   * they serialize); with a fence the same query checks that the lease still has this token and has
   * not expired by the database's clock, else LeaseLostError and nothing is written.
   */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, runId?: string, fence?: Fence): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    let broken = false;
    try {
      await this.q(c, 'BEGIN');
      if (fence) {
        // The run's row lock and the fence check in one round trip (every transition pays for it).
        const l = await this.q(
          c,
          `SELECT l.token, l.expires_at > ${NOW} AS live FROM runs r
             LEFT JOIN leases l ON l.run_id = r.id WHERE r.id = $1 FOR UPDATE OF r`,
          [fence.runId],
        );
        const row = l.rows[0] as { token: number | null; live: boolean | null } | undefined;
        if (!row || row.token !== fence.token || !row.live) throw new LeaseLostError(fence.runId);
      } else if (runId !== undefined) {
        await this.q(c, 'SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      }
      const out = await fn(c);
      await this.q(c, 'COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw this.translate(err);
    } finally {
      c.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }

  async maintain(): Promise<void> {}

  async now(): Promise<number> {
    return (await this.q(this.pool, `SELECT ${NOW} AS now`)).rows[0].now as number;
  }

  private async addEvent(
    c: Q,
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): Promise<void> {
    await this.q(
      c,
      `INSERT INTO events (run_id, seq, at, type, step_id, data)
       SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5 FROM events WHERE run_id = $1`,
      [runId, at, type, stepId ?? null, eventJson(data)],
    );
  }

  private touchRun(c: Q, runId: string, at: number) {
    return this.q(c, 'UPDATE runs SET updated_at = $1 WHERE id = $2', [at, runId]);
  }

  // --- runs ---

  async createRun(r: NewRun): Promise<RunRecord> {
    const id = r.id ?? newRunId();
    await this.tx(async (c) => {
      await this.q(
        c,
        `INSERT INTO runs (id, workflow, workflow_version, subject, params, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)`,
        [id, r.workflow, r.workflowVersion, r.subject, JSON.stringify(r.params ?? null), r.at],
      );
      if (r.stepIds.length)
        await this.q(
          c,
          `INSERT INTO steps (run_id, step_id, idx, state)
           SELECT $1, s, i - 1, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS t(s, i)`,
          [id, r.stepIds],
        );
      await this.addEvent(c, id, r.at, 'run.created', undefined, {
        workflow: r.workflow,
        version: r.workflowVersion,
        subject: r.subject,
      });
    });
    return this.requireRun(id);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = (await this.q(this.pool, `${RUNS} WHERE id = $1`, [id])).rows[0] as RunRow | undefined;
    return row && toRun(row);
  }

  async requireRun(id: string): Promise<RunRecord> {
    const r = await this.getRun(id);
    if (!r) throw new RunNotFoundError(id, this.file);
    return r;
  }

  async listRuns(limit = 1000): Promise<RunRecord[]> {
    return (
      (await this.q(this.pool, `${RUNS} ORDER BY created_at DESC, id LIMIT $1`, [limit])).rows as RunRow[]
    ).map(toRun);
  }

  async runsInState(states: readonly RunState[]): Promise<RunRecord[]> {
    const r = await this.q(this.pool, `${RUNS} WHERE state = ANY($1::text[]) ORDER BY created_at, id`, [
      [...states],
    ]);
    return (r.rows as RunRow[]).map(toRun);
  }

  async countRunsByState(): Promise<Partial<Record<RunState, number>>> {
    const r = await this.q(this.pool, 'SELECT state, count(*) AS n FROM runs GROUP BY state');
    return Object.fromEntries((r.rows as { state: RunState; n: number }[]).map((x) => [x.state, x.n]));
  }

  private async doSetRunState(
    c: Q,
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ) {
    const err = errorJson(error);
    await this.q(
      c,
      'UPDATE runs SET state = $1, updated_at = $2, finished_at = $3, error = $4 WHERE id = $5',
      [state, at, finishes(state) ? at : null, err, runId],
    );
    const data = { ...eventData, ...(err === null ? {} : { error: JSON.parse(err) }) };
    await this.addEvent(
      c,
      runId,
      at,
      `run.${state}`,
      undefined,
      Object.keys(data).length > 0 ? data : undefined,
    );
  }

  async setRunState(
    runId: string,
    state: RunState,
    at: number,
    error?: unknown,
    eventData?: Record<string, unknown>,
  ): Promise<void> {
    await this.tx((c) => this.doSetRunState(c, runId, state, at, error, eventData), runId);
  }

  // --- steps ---

  async getSteps(runId: string): Promise<StepRecord[]> {
    return (
      (await this.q(this.pool, 'SELECT * FROM steps WHERE run_id = $1 ORDER BY idx', [runId]))
        .rows as StepRow[]
    ).map(toStep);
  }

  async getStep(runId: string, stepId: string): Promise<StepRecord | undefined> {
    const row = (
      await this.q(this.pool, 'SELECT * FROM steps WHERE run_id = $1 AND step_id = $2', [runId, stepId])
    ).rows[0] as StepRow | undefined;
    return row && toStep(row);
  }

  private async doEnsureSteps(c: Q, runId: string, stepIds: string[]) {
    if (!stepIds.length) return;
    await this.q(
      c,
      `INSERT INTO steps (run_id, step_id, idx, state)
       SELECT $1, s, i - 1, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS t(s, i)
       ON CONFLICT DO NOTHING`,
      [runId, stepIds],
    );
  }

  async ensureSteps(runId: string, stepIds: string[]): Promise<void> {
    await this.tx((c) => this.doEnsureSteps(c, runId, stepIds), runId);
  }

  private async doStepAttemptStarted(c: Q, runId: string, stepId: string, at: number, attempt: number) {
    await this.q(
      c,
      `UPDATE steps SET state = 'running', attempts = attempts + 1, error = NULL, wake_at = NULL,
         started_at = coalesce(started_at, $1), finished_at = NULL WHERE run_id = $2 AND step_id = $3`,
      [at, runId, stepId],
    );
    await this.touchRun(c, runId, at);
    await this.addEvent(c, runId, at, 'step.started', stepId, { attempt });
  }

  async stepAttemptStarted(runId: string, stepId: string, at: number, attempt: number): Promise<void> {
    await this.tx((c) => this.doStepAttemptStarted(c, runId, stepId, at, attempt), runId);
  }

  private async doStepSucceeded(c: Q, runId: string, stepId: string, at: number, output: unknown) {
    await this.q(
      c,
      `UPDATE steps SET state = 'succeeded', output = $1, error = NULL, finished_at = $2, wake_at = NULL
       WHERE run_id = $3 AND step_id = $4`,
      [json(output), at, runId, stepId],
    );
    await this.touchRun(c, runId, at);
    await this.addEvent(c, runId, at, 'step.succeeded', stepId);
  }

  async stepSucceeded(runId: string, stepId: string, at: number, output: unknown): Promise<void> {
    await this.tx((c) => this.doStepSucceeded(c, runId, stepId, at, output), runId);
  }

  private async doStepEnded(
    c: Q,
    runId: string,
    stepId: string,
    at: number,
    state: StepState,
    error?: unknown,
  ) {
    const err = errorJson(error);
    await this.q(
      c,
      'UPDATE steps SET state = $1, error = $2, finished_at = $3, wake_at = NULL WHERE run_id = $4 AND step_id = $5',
      [state, err, at, runId, stepId],
    );
    await this.touchRun(c, runId, at);
    await this.addEvent(
      c,
      runId,
      at,
      `step.${state}`,
      stepId,
      err === null ? undefined : { error: JSON.parse(err) },
    );
  }

  async stepEnded(
    runId: string,
    stepId: string,
    at: number,
    state: StepState,
    error?: unknown,
  ): Promise<void> {
    await this.tx((c) => this.doStepEnded(c, runId, stepId, at, state, error), runId);
  }

  private async doStepWaiting(
    c: Q,
    runId: string,
    stepId: string,
    at: number,
    message: string,
    wakeAt?: number,
  ) {
    await this.q(
      c,
      `UPDATE steps SET state = 'waiting', gate_message = $1, wake_at = $2, finished_at = NULL
       WHERE run_id = $3 AND step_id = $4`,
      [message, wakeAt ?? null, runId, stepId],
    );
    await this.q(c, `UPDATE runs SET state = 'waiting', updated_at = $1 WHERE id = $2`, [at, runId]);
    await this.addEvent(
      c,
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
    await this.tx((c) => this.doStepWaiting(c, runId, stepId, at, message, wakeAt), runId);
  }

  async approveStep(
    runId: string,
    stepId: string,
    at: number,
    by: string,
    notBefore?: number,
  ): Promise<void> {
    const wake = notBefore ?? at;
    await this.tx(async (c) => {
      await this.q(
        c,
        `UPDATE steps SET approved_at = $1, approved_by = $2, not_before = $3,
           state = CASE WHEN state = 'waiting' AND wake_at IS NULL THEN 'pending' ELSE state END,
           wake_at = CASE WHEN state = 'waiting' AND wake_at IS NOT NULL THEN $4 ELSE wake_at END
         WHERE run_id = $5 AND step_id = $6`,
        [at, by, notBefore ?? null, wake, runId, stepId],
      );
      const woken = (
        await this.q(
          c,
          `SELECT step_id FROM steps WHERE run_id = $1 AND step_id != $2 AND state = 'waiting'
             AND wake_at IS NOT NULL AND wake_at > $3 ORDER BY idx`,
          [runId, stepId, wake],
        )
      ).rows.map((r) => r.step_id as string);
      await this.q(
        c,
        `UPDATE steps SET wake_at = $1 WHERE run_id = $2 AND step_id != $3 AND state = 'waiting'
           AND wake_at IS NOT NULL AND wake_at > $1`,
        [wake, runId, stepId],
      );
      await this.q(
        c,
        `UPDATE runs SET state = 'pending', updated_at = $1 WHERE id = $2 AND state = 'waiting'
           AND NOT EXISTS (SELECT 1 FROM steps WHERE run_id = $2 AND state = 'waiting')`,
        [at, runId],
      );
      await this.touchRun(c, runId, at);
      await this.addEvent(c, runId, at, 'step.approved', stepId, {
        by,
        ...(notBefore === undefined ? {} : { notBefore }),
        ...(woken.length ? { woken, wakeAt: wake } : {}),
      });
    }, runId);
  }

  private async doStepCompensated(c: Q, runId: string, stepId: string, at: number) {
    await this.q(
      c,
      `UPDATE steps SET state = 'compensated', finished_at = $1 WHERE run_id = $2 AND step_id = $3`,
      [at, runId, stepId],
    );
    await this.touchRun(c, runId, at);
    await this.addEvent(c, runId, at, 'step.compensated', stepId);
  }

  async stepCompensated(runId: string, stepId: string, at: number): Promise<void> {
    await this.tx((c) => this.doStepCompensated(c, runId, stepId, at), runId);
  }

  // --- checkpoints ---

  private async doCheckpoint(c: Q, runId: string, stepId: string, at: number, data: unknown) {
    await this.q(
      c,
      `INSERT INTO checkpoints (run_id, step_id, seq, data, at)
       SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4 FROM checkpoints WHERE run_id = $1 AND step_id = $2`,
      [runId, stepId, JSON.stringify(data ?? null), at],
    );
  }

  async checkpoint(runId: string, stepId: string, at: number, data: unknown): Promise<void> {
    await this.tx((c) => this.doCheckpoint(c, runId, stepId, at, data), runId);
  }

  async lastCheckpoint(runId: string, stepId: string): Promise<unknown | undefined> {
    const row = (
      await this.q(
        this.pool,
        'SELECT data FROM checkpoints WHERE run_id = $1 AND step_id = $2 ORDER BY seq DESC LIMIT 1',
        [runId, stepId],
      )
    ).rows[0] as { data: string } | undefined;
    return row ? JSON.parse(row.data) : undefined;
  }

  // --- events ---

  async appendEvent(
    runId: string,
    at: number,
    type: string,
    stepId?: string,
    data?: Record<string, unknown>,
  ): Promise<void> {
    await this.tx((c) => this.addEvent(c, runId, at, type, stepId, data), runId);
  }

  async events(runId: string, afterSeq = 0): Promise<EventRecord[]> {
    return (
      (
        await this.q(this.pool, 'SELECT * FROM events WHERE run_id = $1 AND seq > $2 ORDER BY seq', [
          runId,
          afterSeq,
        ])
      ).rows as EventRow[]
    ).map(toEvent);
  }

  // --- leases ---

  async getLease(runId: string): Promise<LeaseRecord | undefined> {
    const r = (await this.q(this.pool, 'SELECT * FROM leases WHERE run_id = $1', [runId])).rows[0] as
      | LeaseRow
      | undefined;
    return r && toLease(r);
  }

  async acquireLease(
    runId: string,
    owner: LeaseOwner,
    ttlMs: number,
    isAlive: (pid: number) => boolean,
  ): Promise<Fence> {
    return this.tx(async (c) => {
      const now = (await this.q(c, `SELECT ${NOW} AS now`)).rows[0].now as number;
      const row = (await this.q(c, 'SELECT * FROM leases WHERE run_id = $1', [runId])).rows[0] as
        | LeaseRow
        | undefined;
      const cur = row && toLease(row);
      if (cur) {
        const verdict = leaseVerdict(cur, owner, now, isAlive);
        if (verdict === 'held')
          throw new LeaseHeldError(runId, cur.pid, cur.host, cur.acquiredAt, cur.worker);
        if (verdict !== 'ours')
          await this.addEvent(c, runId, now, 'lease.taken-over', undefined, {
            from: { pid: cur.pid, host: cur.host, ...(cur.worker ? { worker: cur.worker } : {}) },
            reason: verdict,
          });
      }
      const bumped = await this.q(
        c,
        'UPDATE runs SET lease_token = lease_token + 1 WHERE id = $1 RETURNING lease_token',
        [runId],
      );
      if (bumped.rowCount === 0) throw new RunNotFoundError(runId, this.file);
      const token = bumped.rows[0].lease_token as number;
      await this.q(
        c,
        `INSERT INTO leases (run_id, owner_pid, host, worker, token, acquired_at, heartbeat_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $6 + $7::bigint)
         ON CONFLICT (run_id) DO UPDATE SET owner_pid = excluded.owner_pid, host = excluded.host,
           worker = excluded.worker, token = excluded.token, acquired_at = excluded.acquired_at,
           heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
        [runId, owner.pid, owner.host, owner.worker ?? null, token, now, Math.round(ttlMs)],
      );
      return { runId, token };
    }, runId);
  }

  async heartbeat(fence: Fence, ttlMs: number): Promise<boolean> {
    const r = await this.q(
      this.pool,
      `UPDATE leases SET heartbeat_at = ${NOW}, expires_at = ${NOW} + $1::bigint
       WHERE run_id = $2 AND token = $3 AND expires_at > ${NOW}`,
      [Math.round(ttlMs), fence.runId, fence.token],
    );
    return r.rowCount === 1;
  }

  async releaseLease(fence: Fence): Promise<void> {
    await this.q(this.pool, 'DELETE FROM leases WHERE run_id = $1 AND token = $2', [
      fence.runId,
      fence.token,
    ]);
  }

  private async doSetAffinity(c: Q, runId: string, worker: string | null) {
    const now = (await this.q(c, `SELECT ${NOW} AS now`)).rows[0].now as number;
    await this.q(c, 'UPDATE runs SET affinity = $1, updated_at = $2 WHERE id = $3', [worker, now, runId]);
    await this.addEvent(c, runId, now, 'run.affinity', undefined, { worker });
  }

  async setAffinity(target: Fence | string, worker: string | null): Promise<void> {
    if (typeof target === 'string') await this.tx((c) => this.doSetAffinity(c, target, worker), target);
    else await this.tx((c) => this.doSetAffinity(c, target.runId, worker), target.runId, target);
  }

  fenced(fence: Fence): FencedJournal {
    const f =
      <A extends unknown[]>(fn: (c: Q, ...a: A) => Promise<unknown>) =>
      async (runId: string, ...a: A): Promise<void> => {
        if (runId !== fence.runId)
          throw new Error(`a write for run ${runId} under the fence of ${fence.runId}`);
        await this.tx((c) => fn(c, ...a), fence.runId, fence);
      };
    const id = fence.runId;
    return {
      fence,
      ensureSteps: f((c, ids: string[]) => this.doEnsureSteps(c, id, ids)),
      setRunState: f((c, state: RunState, at: number, error?: unknown, data?: Record<string, unknown>) =>
        this.doSetRunState(c, id, state, at, error, data),
      ),
      stepAttemptStarted: f((c, stepId: string, at: number, attempt: number) =>
        this.doStepAttemptStarted(c, id, stepId, at, attempt),
      ),
      stepSucceeded: f((c, stepId: string, at: number, output: unknown) =>
        this.doStepSucceeded(c, id, stepId, at, output),
      ),
      stepEnded: f((c, stepId: string, at: number, state: StepState, error?: unknown) =>
        this.doStepEnded(c, id, stepId, at, state, error),
      ),
      stepWaiting: f((c, stepId: string, at: number, message: string, wakeAt?: number) =>
        this.doStepWaiting(c, id, stepId, at, message, wakeAt),
      ),
      stepCompensated: f((c, stepId: string, at: number) => this.doStepCompensated(c, id, stepId, at)),
      checkpoint: f((c, stepId: string, at: number, data: unknown) =>
        this.doCheckpoint(c, id, stepId, at, data),
      ),
      appendEvent: f((c, at: number, type: string, stepId?: string, data?: Record<string, unknown>) =>
        this.addEvent(c, id, at, type, stepId, data),
      ),
      setAffinity: (worker) => this.setAffinity(fence, worker),
      heartbeat: (ttlMs) => this.heartbeat(fence, ttlMs),
      releaseLease: () => this.releaseLease(fence),
    };
  }
}
