// TLS against a real local server with a self-signed certificate made by openssl (no nock here).
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { ThumbprintMismatchError } from '../../../src/vsphere/soap/tls.js';
import { LOGIN_OK, LOGOUT_OK, SERVICE_CONTENT } from './soap-fixtures.js';

let dir: string;
let server: https.Server;
let url: URL;
let sha256: string;
let requests = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'v2o-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  sha256 = new X509Certificate(cert).fingerprint256;
  server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    requests++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('Content-Type', 'text/xml');
      if (body.includes('<RetrieveServiceContent')) res.end(SERVICE_CONTENT);
      else if (body.includes('<Login')) res.setHeader('Set-Cookie', 'vmware_soap_session="x"').end(LOGIN_OK);
      else res.end(LOGOUT_OK);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`);
});

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => ({ url, username: 'u', password: 'p' });

describe('TLS', () => {
  it('refuses a thumbprint mismatch before sending any request, naming the observed SHA-256', async () => {
    requests = 0;
    const err = await connect({ ...base(), thumbprint: 'ab'.repeat(32) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThumbprintMismatchError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toContain(sha256);
    expect((err as ConfigError).hint).toContain(`GOVC_THUMBPRINT=${sha256}`);
    expect(requests).toBe(0);
  });

  it('accepts the pinned SHA-256 thumbprint (with or without colons)', async () => {
    const c = await connect({ ...base(), thumbprint: sha256.replace(/:/g, '').toLowerCase() });
    expect(c.serviceContent.about.apiType).toBe('VirtualCenter');
    await c.close();
  });

  it('rejects an untrusted certificate by default, telling its thumbprint and how to pin it', async () => {
    const err = await connect(base()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/not trusted/);
    expect((err as ConfigError).hint).toContain(sha256);
  });

  it('trusts a pinned CA file, and --insecure', async () => {
    const c = await connect({ ...base(), caFiles: [join(dir, 'cert.pem')] });
    await c.close();
    const d = await connect({ ...base(), insecure: true });
    await d.close();
    expect(c.host).toBe(url.host);
  });
});
