// How v2o reads a journal URL: libpq's sslmode meanings, enforced by v2o (not node-postgres).
import fs from 'node:fs';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { pgTarget } from '../../../src/engine/journal/pg-url.js';
import { ConfigError } from '../../../src/errors.js';
import { tmpDir } from './helpers.js';

const cert = (name: string) =>
  ({ subject: { CN: name }, subjectaltname: `DNS:${name}` }) as unknown as PeerCertificate;
type Ssl = {
  ca?: Buffer;
  rejectUnauthorized?: boolean;
  checkServerIdentity?: (h: string, c: PeerCertificate) => Error | undefined;
};

describe('journal URL', () => {
  it('takes user, password, host, port and database from the URL, the rest from PG* variables', () => {
    const t = pgTarget('postgres://v2o:p%40ss@db.example:6543/journal?application_name=w1', {});
    expect(t.config).toMatchObject({
      user: 'v2o',
      password: 'p@ss',
      host: 'db.example',
      port: 6543,
      database: 'journal',
    });
    expect(t.config.application_name).toBe('w1');
    expect(t.where).toBe('db.example:6543/journal');
    const e = pgTarget('postgres://', {
      PGHOST: 'h',
      PGPORT: '5433',
      PGUSER: 'u',
      PGPASSWORD: 'pw',
      PGDATABASE: 'd',
    });
    expect(e.config).toMatchObject({
      host: 'h',
      port: 5433,
      user: 'u',
      password: 'pw',
      database: 'd',
      ssl: false,
    });
  });

  it('a socket directory as host= (no TLS on a socket)', () => {
    const t = pgTarget('postgres://postgres@localhost/v2o?host=/var/run/postgresql&sslmode=verify-full', {});
    expect(t.config).toMatchObject({ host: '/var/run/postgresql', ssl: false });
    expect(t.where).toBe('socket /var/run/postgresql/v2o');
  });

  it('verify-full checks the CA and the URL host name; verify-ca only the CA; require neither', () => {
    const ca = path.join(tmpDir(), 'ca.pem');
    fs.writeFileSync(ca, 'CA');
    const full = pgTarget(`postgres://u@127.0.0.1/d?sslmode=verify-full&sslrootcert=${ca}`, {}).config
      .ssl as Ssl;
    expect(full.rejectUnauthorized).toBe(true);
    expect(full.ca?.toString()).toBe('CA');
    expect(full.checkServerIdentity!('ignored', cert('other.example'))).toBeInstanceOf(Error);
    const named = pgTarget(`postgres://u@db.example/d?sslmode=verify-full&sslrootcert=${ca}`, {}).config
      .ssl as Ssl;
    expect(named.checkServerIdentity!('ignored', cert('db.example'))).toBeUndefined();
    const vca = pgTarget(`postgres://u@db.example/d?sslmode=verify-ca&sslrootcert=${ca}`, {}).config
      .ssl as Ssl;
    expect(vca.checkServerIdentity!('db.example', cert('other.example'))).toBeUndefined();
    expect(vca.rejectUnauthorized).toBe(true);
    expect(pgTarget('postgres://u@h/d?sslmode=require', {}).config.ssl).toMatchObject({
      rejectUnauthorized: false,
    });
    // libpq: require with a root certificate verifies the CA.
    expect(pgTarget(`postgres://u@h/d?sslmode=require&sslrootcert=${ca}`, {}).config.ssl).toMatchObject({
      rejectUnauthorized: true,
    });
    expect(
      pgTarget('postgres://u@h/d', { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca }).config.ssl,
    ).toMatchObject({ rejectUnauthorized: true });
  });

  it('refuses what it would not honour: other sslmodes, unknown parameters, unreadable files', () => {
    expect(() => pgTarget('postgres://h/d?sslmode=prefer', {})).toThrow(ConfigError);
    expect(() => pgTarget('postgres://h/d?target_session_attrs=any', {})).toThrow(
      /does not support: target_session_attrs/,
    );
    expect(() => pgTarget('postgres://h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem', {})).toThrow(
      /cannot read the journal's sslrootcert/,
    );
  });
});
