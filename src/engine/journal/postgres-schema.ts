// The PostgreSQL journal's schema, as numbered migrations applied in order, each recorded in
// schema_version; a database whose highest version is above this list is refused untouched.
// Columns mirror the SQLite journal's (times in ms since the epoch, JSON as text), so both
// backends read rows the same way.
export const pgMigrations: readonly string[] = [
  // 1: runs, steps, checkpoints, append-only events, leases with fencing tokens, run affinity.
  `
  CREATE TABLE runs (
    id text PRIMARY KEY,
    workflow text NOT NULL,
    workflow_version integer NOT NULL,
    subject text NOT NULL,
    params text NOT NULL,
    state text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    finished_at bigint,
    error text,
    affinity text,
    -- Counts the hands the lease went through; it outlives the lease row, so no token is reused.
    lease_token bigint NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_by_created ON runs (created_at);
  CREATE INDEX runs_by_state ON runs (state);

  CREATE TABLE steps (
    run_id text NOT NULL REFERENCES runs (id),
    step_id text NOT NULL,
    idx integer NOT NULL,
    state text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    output text,
    error text,
    started_at bigint,
    finished_at bigint,
    gate_message text,
    approved_at bigint,
    approved_by text,
    wake_at bigint,
    not_before bigint,
    PRIMARY KEY (run_id, step_id)
  );

  CREATE TABLE checkpoints (
    run_id text NOT NULL REFERENCES runs (id),
    step_id text NOT NULL,
    seq integer NOT NULL,
    data text NOT NULL,
    at bigint NOT NULL,
    PRIMARY KEY (run_id, step_id, seq)
  );

  CREATE TABLE events (
    run_id text NOT NULL REFERENCES runs (id),
    seq integer NOT NULL,
    at bigint NOT NULL,
    type text NOT NULL,
    step_id text,
    data text,
    PRIMARY KEY (run_id, seq)
  );
  -- The event log is history: nothing rewrites it.
  CREATE FUNCTION v2o_events_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
  CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION v2o_events_append_only();

  CREATE TABLE leases (
    run_id text PRIMARY KEY REFERENCES runs (id),
    owner_pid integer NOT NULL,
    host text NOT NULL,
    worker text,
    token bigint NOT NULL,
    acquired_at bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    expires_at bigint NOT NULL
  );
  `,
];

export const PG_SCHEMA_VERSION = pgMigrations.length;
