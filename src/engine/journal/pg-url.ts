// A postgres:// URL (and the PG* variables for what it leaves out) → node-postgres settings.
// v2o reads the TLS settings itself: node-postgres's own URL parsing differs from libpq's
// (its sslmode=require verifies the certificate, verify-ca checks no less than verify-full, and
// it honours no PGSSLROOTCERT), so here sslmode means what libpq documents, and verify-full
// checks the server's name against the URL's host whatever node-postgres does.
import fs from 'node:fs';
import tls from 'node:tls';
import type { PoolConfig } from 'pg';
import { ConfigError } from '../../errors.js';

const SSLMODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSLMODES)[number];
const PARAMS = new Set([
  'host',
  'port',
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'application_name',
  'connect_timeout',
]);

export interface PgTarget {
  config: PoolConfig;
  /** host:port/database (or the socket directory) for messages: never the user or password. */
  where: string;
  /** The password, so messages can be checked not to contain it. */
  password?: string;
}

function readFile(what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read the journal's ${what} ${file}: ${(err as Error).message}`, {
      hint: `give a readable file in the URL (${what}=/path) or ${what === 'sslrootcert' ? 'PGSSLROOTCERT' : what === 'sslcert' ? 'PGSSLCERT' : 'PGSSLKEY'}`,
    });
  }
}

export function pgTarget(url: string, env: NodeJS.ProcessEnv = process.env): PgTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('the journal URL is not a URL', {
      hint: 'postgres://user:password@host:5432/database?sslmode=verify-full&sslrootcert=/path/ca.pem',
    });
  }
  const q = u.searchParams;
  for (const k of q.keys())
    if (!PARAMS.has(k))
      throw new ConfigError(`the journal URL has a parameter v2o does not support: ${k}`, {
        hint: `supported: ${[...PARAMS].join(', ')}`,
      });
  const dec = (s: string) => (s ? decodeURIComponent(s) : undefined);
  const host = q.get('host') ?? (u.hostname ? u.hostname.replace(/^\[|\]$/g, '') : undefined) ?? env.PGHOST;
  const port = Number(q.get('port') ?? (u.port || env.PGPORT || 5432));
  const user = dec(u.username) ?? env.PGUSER;
  const password = dec(u.password) ?? env.PGPASSWORD;
  const database = dec(u.pathname.replace(/^\//, '')) ?? env.PGDATABASE;
  const socket = (host ?? '').startsWith('/');
  const mode = (q.get('sslmode') ?? env.PGSSLMODE ?? 'disable') as SslMode;
  if (!SSLMODES.includes(mode))
    throw new ConfigError(`the journal's sslmode ${mode} is not one v2o supports`, {
      hint: `use one of ${SSLMODES.join(', ')} (verify-full with sslrootcert=<CA file> checks the server's certificate and name)`,
    });
  const rootcert = q.get('sslrootcert') ?? env.PGSSLROOTCERT;
  const cert = q.get('sslcert') ?? env.PGSSLCERT;
  const key = q.get('sslkey') ?? env.PGSSLKEY;
  const timeout = Number(q.get('connect_timeout') ?? env.PGCONNECT_TIMEOUT ?? 10);
  const name = host ?? 'localhost';
  const config: PoolConfig = {
    host,
    port,
    user,
    password,
    database,
    application_name: q.get('application_name') ?? env.PGAPPNAME ?? 'v2o',
    connectionTimeoutMillis: Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : 10_000,
  };
  // libpq: require with a root certificate behaves as verify-ca.
  const effective: SslMode = mode === 'require' && rootcert ? 'verify-ca' : mode;
  if (effective === 'disable' || socket) config.ssl = false;
  else {
    const ca = rootcert && rootcert !== 'system' ? readFile('sslrootcert', rootcert) : undefined;
    const client = {
      ...(cert ? { cert: readFile('sslcert', cert) } : {}),
      ...(key ? { key: readFile('sslkey', key) } : {}),
    };
    if (effective === 'require') config.ssl = { rejectUnauthorized: false, ...client };
    else if (effective === 'verify-ca')
      config.ssl = { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined, ...client };
    else
      config.ssl = {
        ca,
        rejectUnauthorized: true,
        // The URL's host, not whatever name the driver passes: an IP address is checked against the certificate's IP SANs.
        checkServerIdentity: (_name, peer) => tls.checkServerIdentity(name, peer),
        ...client,
      };
  }
  const where = `${socket ? `socket ${host}` : `${name.includes(':') ? `[${name}]` : name}:${port}`}/${database ?? user ?? ''}`;
  return { config, where, password };
}
