// Errors the engine raises about runs and the journal. Each names the problem and the fix
// (hint); the CLI entry turns them into messages and exit codes.
import { ConfigError, ExitCode, V2oError } from '../errors.js';

/** The journal file is not a SQLite database or is damaged. */
export class JournalCorruptError extends V2oError {
  constructor(file: string, cause: unknown) {
    super(`the journal ${file} is corrupt or not a v2o journal`, {
      cause,
      exitCode: ExitCode.badInput,
      hint: `move it aside (mv '${file}' '${file}.bad') and keep it for inspection, or use another --state-dir`,
    });
  }
}

/** Another process holds a write lock on the journal longer than the busy timeout. */
export class JournalLockedError extends V2oError {
  constructor(file: string, cause: unknown) {
    super(`the journal ${file} is locked by another process`, {
      cause,
      exitCode: ExitCode.badInput,
      hint: 'wait for the other v2o process to finish (see `v2o list`), or stop it, then try again',
    });
  }
}

/** The PostgreSQL journal cannot be reached (network, TLS, authentication): nothing was written. */
export class JournalUnreachableError extends V2oError {
  constructor(where: string, reason: string, cause: unknown) {
    super(`cannot reach the journal database at ${where}: ${reason}`, {
      cause,
      exitCode: ExitCode.badInput,
      hint: 'check the journal URL (--journal or V2O_JOURNAL), the network to the database, its sslmode and sslrootcert, and the credentials',
    });
  }
}

/** The journal was written by a newer v2o; this program must not touch it. */
export class JournalTooNewError extends V2oError {
  constructor(file: string, found: number, supported: number) {
    super(`the journal ${file} has schema version ${found}; this v2o understands up to ${supported}`, {
      exitCode: ExitCode.badInput,
      hint: 'use the newer v2o that wrote it (the journal was left unchanged)',
    });
  }
}

export class RunNotFoundError extends ConfigError {
  constructor(runId: string, journalFile: string) {
    super(`no run '${runId}' in the journal ${journalFile}`, {
      hint: '`v2o list` shows the runs; pass --state-dir if the run was made with another state directory',
    });
  }
}

export class UnknownWorkflowError extends ConfigError {
  constructor(name: string, known: string[]) {
    super(`unknown workflow '${name}' (known: ${known.join(', ') || 'none'})`, {
      hint: 'use a v2o version that has this workflow',
    });
  }
}

/** The code's workflow changed in a way the stored run cannot follow. */
export class WorkflowVersionMismatchError extends ConfigError {
  constructor(runId: string, workflow: string, stored: number, current: number) {
    super(`run ${runId} was started with workflow ${workflow} v${stored}; this v2o has v${current}`, {
      hint: `finish it with the v2o version that started it, or \`v2o cancel ${runId}\` and start a new run`,
    });
  }
}

/** The run's stored params do not fit the workflow's parseParams: another v2o version made them. */
export class RunParamsError extends ConfigError {
  constructor(runId: string, workflow: string, version: number, cause: unknown) {
    super(
      `run ${runId} has params that workflow ${workflow} v${version} does not understand: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
        hint: `the run was made by another v2o version: finish or cancel it with that version, or \`v2o cancel ${runId}\` and start it again (v2o migrate)`,
      },
    );
  }
}

/** Another live runner holds the run's lease. */
export class LeaseHeldError extends V2oError {
  constructor(
    readonly runId: string,
    readonly pid: number,
    readonly host: string,
    since: number,
    readonly worker?: string,
  ) {
    super(
      `run ${runId} is held by pid ${pid} on host ${host}${worker ? ` (worker ${worker})` : ''} since ${new Date(since).toISOString()}`,
      {
        exitCode: ExitCode.badInput,
        hint: `wait for that process to finish, or stop it (kill ${pid} on ${host}); a dead holder is taken over`,
      },
    );
  }
}

/**
 * Our lease was taken over, or expired before we could renew it: stop at once and write nothing
 * more, someone else runs the run now.
 */
export class LeaseLostError extends V2oError {
  constructor(runId: string) {
    super(`lost the lease on run ${runId} to another process`, {
      hint: `another worker took the run over; see \`v2o status ${runId}\``,
    });
  }
}

/** The run was cancelled (by `v2o cancel`) while this process ran it. */
export class RunCancelledError extends V2oError {
  constructor(runId: string) {
    super(`run ${runId} was cancelled`, {
      hint: `\`v2o cancel ${runId} --rollback\` undoes the steps that ran`,
    });
  }
}

/** A run in a state that the command cannot act on (for example resume of a cancelled run). */
export class RunStateError extends ConfigError {}

/** One attempt of a step ran past its timeoutMs. Retryable. */
export class StepTimeoutError extends V2oError {
  constructor(stepId: string, ms: number) {
    super(`step ${stepId} timed out after ${ms} ms`);
  }
}
