// The error hierarchy. Every error a person can act on is a V2oError with a `hint`
// (what to do next). Only the CLI entry turns errors into exit codes and messages.

export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  waiting: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface V2oErrorOptions {
  cause?: unknown;
  /** What the operator should do next, in one sentence. */
  hint?: string;
  /** Evidence a person reads below the message (several lines, e.g. the end of a console log). */
  detail?: string;
  exitCode?: ExitCode;
}

export class V2oError extends Error {
  readonly hint?: string;
  readonly detail?: string;
  readonly exitCode: ExitCode;
  constructor(message: string, opts: V2oErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.detail = opts.detail;
    this.exitCode = opts.exitCode ?? ExitCode.failed;
  }
}

/** Bad input: a plan file, a flag, credentials, a certificate. Exit 2, never retried. */
export class ConfigError extends V2oError {
  constructor(message: string, opts: Omit<V2oErrorOptions, 'exitCode'> = {}) {
    super(message, { ...opts, exitCode: ExitCode.badInput });
  }
}

/** An error that retrying cannot fix; the engine fails the step at once. */
export class NonRetryableError extends V2oError {}

/** The run was aborted (Ctrl-C, SIGTERM, cancel). */
export class InterruptedError extends V2oError {
  constructor(message = 'interrupted', opts: Omit<V2oErrorOptions, 'exitCode'> = {}) {
    super(message, { ...opts, exitCode: ExitCode.interrupted });
  }
}

/** True when `err` (or anything in its cause chain) is an instance of `cls`. */
export function hasCause<T extends Error>(
  err: unknown,
  cls: abstract new (...a: never[]) => T,
): T | undefined {
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    if (e instanceof cls) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
