// Keystone auth: request bodies, token reuse and refresh, re-auth once on 401, and the bad-input
// cases (wrong password, missing endpoint, TLS) as one-line ConfigErrors with a fix (exit 2).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatError } from '../../../src/cli/program.js';
import { ConfigError } from '../../../src/errors.js';
import { Http } from '../../../src/openstack/client/http.js';
import { openCloud } from '../../../src/openstack/cloud.js';
import { listFlavors } from '../../../src/openstack/compute/flavors/requests.js';
import { findEndpoint } from '../../../src/openstack/identity/catalog.js';
import { Identity } from '../../../src/openstack/identity/identity.js';
import { toAuthBody } from '../../../src/openstack/identity/tokens/requests.js';
import { catalog, KS, mockAuth, mockVersions, NOVA, noSleep, PROJECT_ID, testConfig } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('auth bodies (pure)', () => {
  it('password, project scope by name and domain', () => {
    expect(toAuthBody(testConfig())).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'demo', domain: { name: 'Default' }, password: 's3cret-pw' } },
        },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
  });

  it('password, domain scope; application credential without scope', () => {
    const c = testConfig();
    c.auth = { authUrl: c.auth.authUrl, userId: 'u1', password: 'p', domainName: 'Ops' };
    expect(toAuthBody(c)).toMatchObject({ auth: { scope: { domain: { name: 'Ops' } } } });
    const ac = testConfig({ authType: 'v3applicationcredential' });
    ac.auth = {
      authUrl: ac.auth.authUrl,
      applicationCredentialId: 'ac1',
      applicationCredentialSecret: 'sec',
    };
    expect(toAuthBody(ac)).toEqual({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: 'ac1', secret: 'sec' },
        },
      },
    });
  });
});

describe('catalog', () => {
  it('finds block-storage under volumev3, honours interface and region', () => {
    const cat = catalog();
    expect(
      findEndpoint(cat, { serviceType: 'block-storage', interface: 'public', region: 'RegionOne' }),
    ).toBe(`http://os.test:8776/v3/${PROJECT_ID}`);
    expect(findEndpoint(cat, { serviceType: 'compute', interface: 'internal' })).toBe(
      'http://internal.test:8774/v2.1',
    );
    expect(
      findEndpoint(cat, { serviceType: 'compute', interface: 'public', region: 'Elsewhere' }),
    ).toBeUndefined();
  });
});

describe('tokens', () => {
  it('reuses a token, refreshes it shortly before expiry', async () => {
    let now = Date.now();
    const scope = mockAuth(2, { expiresInMs: 3_600_000 });
    const id = new Identity(testConfig(), new Http({ sleep: noSleep }), { now: () => now });
    expect(await id.token()).toBe('token-1');
    expect(await id.token()).toBe('token-1');
    now += 3_600_000 - 4 * 60_000; // inside the 5 min margin
    expect(await id.token()).toBe('token-2');
    expect(id.issued).toBe(2);
    expect(scope.isDone()).toBe(true);
  });

  it('concurrent callers share one token request', async () => {
    const scope = mockAuth(1);
    const id = new Identity(testConfig(), new Http({ sleep: noSleep }));
    const all = await Promise.all([id.token(), id.token(), id.token()]);
    expect(all).toEqual(['token-1', 'token-1', 'token-1']);
    expect(scope.isDone()).toBe(true);
  });

  it('re-authenticates once on 401, then succeeds', async () => {
    const auth = mockAuth(2);
    mockVersions();
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    const nova = nock(NOVA)
      .get('/v2.1/flavors/detail')
      .matchHeader('x-auth-token', 'token-1')
      .reply(401, { error: { code: 401, message: 'The request you have made requires authentication.' } })
      .get('/v2.1/flavors/detail')
      .matchHeader('x-auth-token', 'token-2')
      .reply(200, { flavors: [] });
    await expect(listFlavors(cloud.compute)).resolves.toEqual([]);
    expect(auth.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });

  it('a second 401 with a fresh token is an error, not a loop', async () => {
    const auth = mockAuth(2);
    mockVersions();
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    const nova = nock(NOVA)
      .get('/v2.1/flavors/detail')
      .times(2)
      .reply(401, { error: { code: 401, message: 'no' } });
    const err = await listFlavors(cloud.compute).catch((e) => e);
    expect(err.status).toBe(401);
    expect(auth.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });
});

describe('bad input → ConfigError, one line and a fix, exit 2', () => {
  function expectOneLineFix(err: unknown, pattern: RegExp): void {
    expect(err).toBeInstanceOf(ConfigError);
    const f = formatError(err, false);
    expect(f.exitCode).toBe(2);
    const lines = f.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(pattern);
    expect(lines[1]).toMatch(/^ {2}fix: /);
  }

  it('wrong password', async () => {
    const scope = nock(KS)
      .post('/v3/auth/tokens')
      .reply(401, {
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });
    const err = await openCloud(testConfig(), { sleep: noSleep }).catch((e) => e);
    expectOneLineFix(
      err,
      /^error: Keystone \(unit\) rejected the credentials of user 'demo' for 'demo' \(401: The request/,
    );
    expect(formatError(err, false).message).not.toContain('s3cret-pw');
    expect(scope.isDone()).toBe(true);
  });

  it('missing endpoint in the catalog', async () => {
    const scope = mockAuth(1, { omit: ['volumev3'] });
    mockVersions();
    const err = await openCloud(testConfig(), { sleep: noSleep }).catch((e) => e);
    expectOneLineFix(
      err,
      /has no 'block-storage' endpoint \(interface public, region RegionOne\); it has: identity/,
    );
    expect(scope.isDone()).toBe(true);
  });

  it('auth_url that is not Keystone', async () => {
    const scope = nock(KS).post('/v3/auth/tokens').reply(404, 'Not Found');
    const err = await openCloud(testConfig(), { sleep: noSleep }).catch((e) => e);
    expectOneLineFix(err, /no Keystone v3 token API at http:\/\/os.test:5000\/v3\/auth\/tokens \(404\)/);
    expect(scope.isDone()).toBe(true);
  });

  describe('TLS failure against a real self-signed server', () => {
    let server: Server;
    let port: number;
    let cert: string;
    beforeAll(async () => {
      const d = mkdtempSync(join(tmpdir(), 'v2o-tls-'));
      cert = join(d, 'cert.pem');
      const key = join(d, 'key.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      );
      server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
        res.statusCode = 404;
        res.end('nothing here');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
      nock.enableNetConnect('127.0.0.1');
    });
    afterAll(() => {
      server.close();
      nock.disableNetConnect();
    });

    it('untrusted certificate → set cacert', async () => {
      const cfg = testConfig();
      cfg.auth.authUrl = `https://127.0.0.1:${port}/v3`;
      const err = await openCloud(cfg, { sleep: noSleep }).catch((e) => e);
      expectOneLineFix(
        err,
        /^error: TLS to 127.0.0.1:\d+ failed: .*self[- ]signed certificate.*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      );
      expect(err.hint).toMatch(/cacert/);
    });

    it('with cacert the TLS check passes (and the next problem is reported)', async () => {
      const cfg = testConfig({ cacert: cert });
      cfg.auth.authUrl = `https://127.0.0.1:${port}/v3`;
      const err = await openCloud(cfg, { sleep: noSleep }).catch((e) => e);
      expectOneLineFix(err, /no Keystone v3 token API/);
    });
  });
});
