// Shared nock fixtures: a Keystone token with a catalog on http://os.test, version documents,
// and a CloudConfig, so each test mocks only the calls it is about.
import nock from 'nock';
import type { CloudConfig } from '../../../src/openstack/config.js';

export const KS = 'http://os.test:5000';
export const NOVA = 'http://os.test:8774';
export const GLANCE = 'http://os.test:9292';
export const CINDER = 'http://os.test:8776';
export const NEUTRON = 'http://os.test:9696';
export const PROJECT_ID = 'p0000000000000000000000000000001';

export function testConfig(over: Partial<CloudConfig> = {}): CloudConfig {
  return {
    name: 'unit',
    authType: 'password',
    auth: {
      authUrl: `${KS}/v3`,
      username: 'demo',
      password: 's3cret-pw',
      userDomainName: 'Default',
      projectName: 'demo',
      projectDomainName: 'Default',
    },
    regionName: 'RegionOne',
    interface: 'public',
    insecure: false,
    endpointOverrides: {},
    source: 'unit',
    ...over,
  };
}

export function catalog(omit: string[] = []) {
  const svc = (type: string, url: string) => ({
    type,
    name: type,
    endpoints: [
      { interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url },
      {
        interface: 'internal',
        region: 'RegionOne',
        region_id: 'RegionOne',
        url: url.replace('os.test', 'internal.test'),
      },
    ],
  });
  return [
    svc('identity', `${KS}/v3`),
    svc('compute', `${NOVA}/v2.1`),
    svc('image', GLANCE),
    svc('volumev3', `${CINDER}/v3/${PROJECT_ID}`),
    svc('network', NEUTRON),
  ].filter((s) => !omit.includes(s.type));
}

function tokenBody(expiresInMs = 3_600_000, omit: string[] = []) {
  const now = Date.now();
  return {
    token: {
      issued_at: new Date(now).toISOString(),
      expires_at: new Date(now + expiresInMs).toISOString(),
      methods: ['password'],
      user: { id: 'u1', name: 'demo', domain: { id: 'default', name: 'Default' } },
      project: { id: PROJECT_ID, name: 'demo', domain: { id: 'default', name: 'Default' } },
      roles: [{ id: 'r1', name: 'member' }],
      catalog: catalog(omit),
    },
  };
}

/** Expect `times` token requests; each returns token-1, token-2 ... in order. */
export function mockAuth(
  times = 1,
  opts: { expiresInMs?: number; omit?: string[]; firstToken?: number } = {},
) {
  const scope = nock(KS);
  for (let i = 0; i < times; i++) {
    const id = `token-${(opts.firstToken ?? 1) + i}`;
    scope.post('/v3/auth/tokens').reply(201, tokenBody(opts.expiresInMs, opts.omit), {
      'X-Subject-Token': id,
      'Content-Type': 'application/json',
    });
  }
  return scope;
}

export function mockVersions(compute = '2.93', volume = '3.70') {
  return [
    nock(NOVA)
      .get('/v2.1/')
      .reply(200, { version: { id: 'v2.1', status: 'CURRENT', version: compute, min_version: '2.1' } }),
    nock(CINDER)
      .get('/v3/')
      .reply(200, { versions: [{ id: 'v3.0', status: 'CURRENT', version: volume, min_version: '3.0' }] }),
  ];
}

export const noSleep = async (_ms: number) => {};

/** A recording sleep: tests assert the waits (back-off, Retry-After) without waiting. */
export function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}
