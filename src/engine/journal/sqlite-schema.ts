// The SQLite journal's schema, as numbered migrations applied in order. PRAGMA user_version holds the
// number of the last one applied; a journal newer than this list is refused untouched.
export const migrations: readonly string[] = [
  // 1: runs, steps, checkpoints, append-only events, leases.
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    subject TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    error TEXT
  );
  CREATE INDEX runs_by_created ON runs (created_at);

  CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs (id),
    step_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    output TEXT,
    error TEXT,
    started_at INTEGER,
    finished_at INTEGER,
    gate_message TEXT,
    approved_at INTEGER,
    approved_by TEXT,
    PRIMARY KEY (run_id, step_id)
  );

  CREATE TABLE checkpoints (
    run_id TEXT NOT NULL REFERENCES runs (id),
    step_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_id, seq)
  );

  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    step_id TEXT,
    data TEXT,
    PRIMARY KEY (run_id, seq)
  );
  -- The event log is history: nothing rewrites it.
  CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

  CREATE TABLE leases (
    run_id TEXT PRIMARY KEY REFERENCES runs (id),
    owner_pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // 2: timed waits (a step waits in the journal until wake_at, ms) and approvals for a later time
  // (the approved step does not run before not_before, ms).
  `
  ALTER TABLE steps ADD COLUMN wake_at INTEGER;
  ALTER TABLE steps ADD COLUMN not_before INTEGER;
  `,
  // 3: fencing and affinity. runs.lease_token counts the hands the lease went through (it outlives
  // the lease row, so a token is never reused); leases carry the token and the worker's name.
  `
  ALTER TABLE runs ADD COLUMN affinity TEXT;
  ALTER TABLE runs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE leases ADD COLUMN worker TEXT;
  ALTER TABLE leases ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = migrations.length;
