// v2o's journal database in the OpenStack lab's PostgreSQL (test/lab/openstack, issue 15): TCP on
// 127.0.0.1 with TLS only, verify-full against the lab CA, the v2o role's scram password, the socket URL,
// CREATEDB. Through psql and openssl s_client (libpq and OpenSSL) on purpose: this checks the lab itself,
// independently of the driver v2o uses.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnv } from '../../helpers/lab-env.js';

const env = labEnv();
const journal = env.V2O_LAB_JOURNAL ?? '';
const socketUrl = env.V2O_LAB_JOURNAL_SOCKET ?? '';
const ca = env.V2O_LAB_PG_CA ?? '';

// Debian's psql binary itself (not the pg_wrapper in /usr/bin, which picks a cluster by its own rules)
function psqlBinary(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'psql'))) return join(base, v, 'bin', 'psql');
  return 'psql';
}
const PSQL = psqlBinary();

let home = '';
interface Run {
  code: number;
  out: string;
  err: string;
}
function run(cmd: string, args: string[], input?: string): Promise<Run> {
  // No PG* variables, ~/.pgpass or ~/.postgresql/root.crt of the caller's: only the URL counts.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...clean, HOME: home, PGCONNECT_TIMEOUT: '10' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: String(stdout).trim(), err: String(stderr).trim() });
      },
    );
    child.stdin?.end(input ?? '');
  });
}
const psql = (url: string, sql: string) =>
  run(PSQL, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, url]);
const SSL_ROW = 'SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

function withUrl(url: string, change: (u: URL) => void): string {
  const u = new URL(url);
  change(u);
  return u.toString();
}

describe('the lab journal database (V2O_LAB_JOURNAL)', () => {
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'v2o-journal-db-'));
  });
  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('is in lab.env with the shapes the contract names', () => {
    const u = new URL(journal);
    expect(u.protocol).toBe('postgres:');
    expect(u.username).toBe('v2o');
    expect(u.password).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(u.hostname).toBe('127.0.0.1');
    expect(Number(u.port)).toBeGreaterThan(0);
    expect(u.pathname).toBe('/v2o');
    expect(u.searchParams.get('sslmode')).toBe('verify-full');
    expect(u.searchParams.get('sslrootcert')).toBe(ca);
    expect(existsSync(ca)).toBe(true);
    const s = new URL(socketUrl.replace('@/', '@placeholder/'));
    expect(s.username).toBe('v2o');
    expect(s.password).toBe(u.password);
    expect(s.pathname).toBe('/v2o');
    expect(existsSync(join(s.searchParams.get('host')!, `.s.PGSQL.${s.searchParams.get('port')}`))).toBe(
      true,
    );
  });

  it('connects with verify-full and the lab CA, over TLS, as v2o', async () => {
    const r = await psql(journal, SSL_ROW);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^v2o\|t\|TLSv1\.[23]$/);
  });

  it('verifies "localhost" too (the certificate names both)', async () => {
    // hostaddr: connect to 127.0.0.1 whatever localhost resolves to; host is what verify-full checks
    const url = withUrl(journal, (u) => {
      u.hostname = 'localhost';
      u.searchParams.set('hostaddr', '127.0.0.1');
    });
    const r = await psql(url, SSL_ROW);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^v2o\|t\|/);
  });

  it('refuses a server the given CA did not sign', async () => {
    const other = join(home, 'other-ca.pem');
    const made = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=not the lab CA',
      '-keyout',
      join(home, 'other-ca.key'),
      '-out',
      other,
    ]);
    expect(made.code, made.err).toBe(0);
    const r = await psql(
      withUrl(journal, (u) => u.searchParams.set('sslrootcert', other)),
      'SELECT 1',
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/certificate verify failed/);
  });

  it('refuses a host name the certificate does not name', async () => {
    const url = withUrl(journal, (u) => {
      u.hostname = 'journal.lab.invalid';
      u.searchParams.set('hostaddr', '127.0.0.1'); // the same server: only the name differs
    });
    const r = await psql(url, 'SELECT 1');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/does not match host name "journal\.lab\.invalid"/);
  });

  it('refuses a wrong password (scram-sha-256), on TCP and on the socket', async () => {
    for (const url of [journal, socketUrl]) {
      const bad = url.replace(/^(postgres:\/\/v2o:)[^@]*@/, '$1not-the-password@');
      expect(bad).not.toBe(url);
      const r = await psql(bad, 'SELECT 1');
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/password authentication failed for user "v2o"/);
    }
  });

  it('refuses v2o on TCP without TLS, and every other role on TCP', async () => {
    const plain = await psql(
      withUrl(journal, (u) => {
        u.searchParams.set('sslmode', 'disable');
        u.searchParams.delete('sslrootcert');
      }),
      'SELECT 1',
    );
    expect(plain.code).not.toBe(0);
    expect(plain.err).toMatch(
      /pg_hba\.conf (rejects connection|entry) for host "127\.0\.0\.1", user "v2o", database "v2o", no encryption/,
    );
    const superuser = await psql(
      withUrl(journal, (u) => {
        u.username = 'postgres';
        u.password = '';
        u.pathname = '/postgres';
      }),
      'SELECT 1',
    );
    expect(superuser.code).not.toBe(0);
    expect(superuser.err).toMatch(/pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "postgres"/);
  });

  it('serves the same database through the socket URL', async () => {
    const r = await psql(socketUrl, 'SELECT current_user, current_database(), inet_server_addr() IS NULL');
    expect(r.err).toBe('');
    expect(r.out).toBe('v2o|v2o|t'); // no server address: a Unix socket
  });

  it('lets v2o create (and drop) databases of its own', async () => {
    const db = `v2o_labtest_${process.pid}_${Date.now()}`;
    const made = await psql(journal, `CREATE DATABASE ${db}`);
    expect(made.err).toBe('');
    try {
      const inside = await psql(
        withUrl(journal, (u) => {
          u.pathname = `/${db}`;
        }),
        'CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT current_database(), sum(x) FROM t',
      );
      expect(inside.err).toBe('');
      expect(inside.out.split('\n').pop()).toBe(`${db}|42`);
    } finally {
      const dropped = await psql(journal, `DROP DATABASE ${db}`);
      expect(dropped.err).toBe('');
    }
    const gone = await psql(journal, `SELECT count(*) FROM pg_database WHERE datname = '${db}'`);
    expect(gone.out).toBe('0');
  });

  it('presents a certificate for 127.0.0.1 and localhost that chains to V2O_LAB_PG_CA (openssl s_client)', async () => {
    const port = new URL(journal).port;
    const r = await run(
      'openssl',
      [
        's_client',
        '-starttls',
        'postgres',
        '-connect',
        `127.0.0.1:${port}`,
        '-CAfile',
        ca,
        '-verify_return_error',
        '-verify_ip',
        '127.0.0.1',
        '-showcerts',
      ],
      '',
    );
    expect(r.out).toMatch(/Verify return code: 0 \(ok\)/);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.out)?.[0];
    expect(pem).toBeDefined();
    const text = await run('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], pem);
    expect(text.out).toMatch(/IP Address:127\.0\.0\.1/);
    expect(text.out).toMatch(/DNS:localhost/);
  });
});
