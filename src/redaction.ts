// What never reaches a log line, the journal or an error message in clear text. One list for every
// logger (run logs, the CLI's stderr logger, the clients' own), so a secret name added here is
// redacted everywhere. Shared by all layers, like errors.ts: it knows no client and no engine.
import type { LoggerOptions } from 'pino';

export const REDACTED = '[redacted]';

/** pino redact paths (fast-redact syntax: `*` is one level). */
const redactPaths: readonly string[] = [
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
  'headers["X-Auth-Token"]',
  'headers["x-subject-token"]',
  'headers["X-Subject-Token"]',
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
  // OpenStack: clouds.yaml and application credentials.
  'applicationCredentialSecret',
  '*.applicationCredentialSecret',
  'config.auth.applicationCredentialSecret',
  'application_credential_secret',
  '*.application_credential_secret',
  // vSphere: govc's variables and the guest administrator.
  'GOVC_PASSWORD',
  '*.GOVC_PASSWORD',
  'creds.password',
  '*.creds.password',
];

export const redactOptions = { paths: [...redactPaths], censor: REDACTED } satisfies LoggerOptions['redact'];

/** Keys whose values are secrets wherever they appear (for data that does not go through pino). */
const SECRET_KEY = /passw(or)?d|passphrase|token|secret|cookie|authorization|credential|api[-_]?key/i;

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

const SECRET_QUERY = /token|secret|password|signature|sig$|key/i;

/**
 * A URL fit for a message: user and password dropped, secret-looking query values masked.
 * Input that is not a URL comes back with any `user:pass@` removed.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const k of [...u.searchParams.keys()]) {
      if (SECRET_QUERY.test(k)) u.searchParams.set(k, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}
