// Run logs: pino JSON lines, one file per run, secrets redacted. The redaction list lives
// here alone so the vSphere and OpenStack clients reuse it for their own loggers.
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger, type LoggerOptions } from 'pino';

/** pino redact paths (fast-redact syntax: `*` is one level). */
export const redactPaths: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'secret',
  '*.secret',
  'cookie',
  '*.cookie',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  '*.headers.Cookie',
  '*.headers["set-cookie"]',
  '*.headers["x-auth-token"]',
  '*.headers["X-Auth-Token"]',
  '*.headers["x-subject-token"]',
  '*.headers["X-Subject-Token"]',
  '"X-Auth-Token"',
  '"x-auth-token"',
  'auth.identity.password.user.password',
  '*.auth.identity.password.user.password',
];

export const REDACTED = '[redacted]';

export const redactOptions = { paths: [...redactPaths], censor: REDACTED } satisfies LoggerOptions['redact'];

/** Keys whose values are secrets wherever they appear (for data that does not go through pino). */
const SECRET_KEY = /pass(word)?|token|secret|cookie|authorization|credential|api[-_]?key/i;

/** A deep copy of `value` with secret-looking keys replaced; used for journal events and errors. */
export function scrubSecrets<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEY.test(k) ? REDACTED : scrubSecrets(v, depth + 1);
  }
  return out as T;
}

export interface RunLogger {
  log: Logger;
  file: string;
  close(): void;
}

/** Opens <state>/runs/<run>.log (mode 0600, synchronous writes so a crash loses nothing). */
export function createRunLogger(file: string, runId: string, level = 'debug'): RunLogger {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const dest = pino.destination({ dest: file, sync: true, mkdir: true, mode: 0o600, append: true });
  const log = pino({ level, redact: redactOptions, base: { runId } }, dest);
  return {
    log,
    file,
    close: () => {
      try {
        dest.flushSync();
      } catch {
        // already closed or nothing buffered
      }
      dest.end();
    },
  };
}

/** A logger that drops everything; for plans and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
