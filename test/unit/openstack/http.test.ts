// Retries, Retry-After, quota errors, error body shapes, secrets kept out of logs.
import nock from 'nock';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../../src/errors.js';
import { createVolume } from '../../../src/openstack/block-storage/volumes/requests.js';
import { parseRetryAfter } from '../../../src/openstack/client/http.js';
import { type Cloud, openCloud } from '../../../src/openstack/cloud.js';
import { listFlavors } from '../../../src/openstack/compute/flavors/requests.js';
import {
  createServer,
  getConsoleOutput,
  getServer,
} from '../../../src/openstack/compute/servers/requests.js';
import {
  isStatus,
  OpenStackConnectionError,
  OpenStackHttpError,
  OpenStackQuotaError,
  parseServiceMessage,
  quotaFromMessage,
} from '../../../src/openstack/errors.js';
import { createPort } from '../../../src/openstack/network/ports/requests.js';
import {
  CINDER,
  mockAuth,
  mockVersions,
  NEUTRON,
  NOVA,
  PROJECT_ID,
  recordingSleep,
  testConfig,
} from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

async function open(sleep: (ms: number) => Promise<void>, log?: pino.Logger): Promise<Cloud> {
  mockAuth(1);
  mockVersions();
  return openCloud(testConfig(), { sleep, log });
}

// nock 14 keeps `code` only on a real Error.
const netError = (code: string, message: string) => Object.assign(new Error(message), { code });

const FLAVOR = { id: 'f1', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 };

describe('retries', () => {
  it('503 with Retry-After, then success: waits what the service asked, sends the microversion', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA, {
      reqheaders: { 'openstack-api-version': 'compute 2.79', 'x-auth-token': 'token-1' },
    })
      .get('/v2.1/flavors/detail')
      .reply(503, 'busy', { 'Retry-After': '3' })
      .get('/v2.1/flavors/detail')
      .reply(200, { flavors: [FLAVOR] });
    const flavors = await listFlavors(cloud.compute);
    expect(flavors.map((f) => f.name)).toEqual(['m1.small']);
    expect(waits).toEqual([3000]);
    expect(scope.isDone()).toBe(true);
  });

  it('backs off on 502/504 and connection resets for GET, then gives up with the last error', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA)
      .get('/v2.1/servers/s1')
      .replyWithError(netError('ECONNRESET', 'socket hang up'))
      .get('/v2.1/servers/s1')
      .times(4)
      .reply(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'Content-Type': 'text/html' });
    const err = await getServer(cloud.compute, 's1').catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect(err.status).toBe(502);
    expect(waits).toEqual([500, 1000, 2000, 4000]);
    expect(scope.isDone()).toBe(true);
  });

  it('does not retry a POST on 503 (it may have been done), but does on 429', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA)
      .post('/v2.1/servers')
      .reply(503, { computeFault: { code: 503, message: 'try later' } })
      .post('/v2.1/servers')
      .reply(429, { overLimit: { code: 429, message: 'rate' } }, { 'Retry-After': '1' })
      .post('/v2.1/servers')
      .reply(202, { server: { id: 'new' } });
    const opts = { name: 'x', flavorRef: 'f1', imageRef: 'i1', networks: 'none' as const };
    const err = await createServer(cloud.compute, opts).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackHttpError);
    expect(err.message).toContain('try later');
    expect(waits).toEqual([]);
    await expect(createServer(cloud.compute, opts)).resolves.toEqual({ id: 'new' });
    expect(waits).toEqual([1000]);
    expect(scope.isDone()).toBe(true);
  });

  it('connection refused is retried even for POST (nothing was sent), then explained', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA)
      .post('/v2.1/servers')
      .times(5)
      .replyWithError(netError('ECONNREFUSED', 'connect ECONNREFUSED'));
    const err = await createServer(cloud.compute, {
      name: 'x',
      flavorRef: 'f',
      imageRef: 'i',
      networks: 'none',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackConnectionError);
    expect(err.hint).toMatch(/nothing listens at os.test:8774/);
    expect(waits).toHaveLength(4);
    expect(scope.isDone()).toBe(true);
  });
});

describe('retries: per call', () => {
  it('a POST the call marks idempotent (os-getConsoleOutput) is retried on 503', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA)
      .post('/v2.1/servers/s1/action')
      .reply(503, 'busy')
      .post('/v2.1/servers/s1/action', { 'os-getConsoleOutput': { length: 5 } })
      .reply(200, { output: 'boot ok' });
    await expect(getConsoleOutput(cloud.compute, 's1', { lines: 5 })).resolves.toBe('boot ok');
    expect(waits).toEqual([500]);
    expect(scope.isDone()).toBe(true);
  });

  it('aborting during the wait before a retry ends the call with InterruptedError at once', async () => {
    const { InterruptedError } = await import('../../../src/errors.js');
    const ac = new AbortController();
    // Waits until aborted, as the real sleep does with the call's signal.
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_, reject) => {
        signal?.addEventListener('abort', () => reject(new InterruptedError('interrupted')));
        ac.abort();
      });
    const cloud = await open(sleep);
    const scope = nock(NOVA).get('/v2.1/servers/s1').reply(503, 'busy');
    const err = await getServer(cloud.compute, 's1', { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(scope.isDone()).toBe(true);
  });
});

describe('quota errors: not retried, name the quota', () => {
  it('Nova 403 instances', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(NOVA)
      .post('/v2.1/servers')
      .reply(
        403,
        {
          forbidden: {
            code: 403,
            message: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances',
          },
        },
        { 'x-openstack-request-id': 'req-abc' },
      );
    const err = await createServer(cloud.compute, {
      name: 'x',
      flavorRef: 'f',
      imageRef: 'i',
      networks: 'none',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackQuotaError);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect(err.quota).toBe('instances');
    expect(err.message).toMatch(
      /the 'instances' quota is exceeded: POST .*\/servers returned 403: Quota exceeded/,
    );
    expect(err.message).toContain('req-abc');
    expect(err.hint).toContain('openstack quota set --instances');
    expect(isStatus(err, 403)).toBe(true);
    expect(waits).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });

  it('Cinder 413 with Retry-After: 0 is still not retried', async () => {
    const { waits, sleep } = recordingSleep();
    const cloud = await open(sleep);
    const scope = nock(CINDER)
      .post(`/v3/${PROJECT_ID}/volumes`)
      .reply(
        413,
        {
          overLimit: {
            code: 413,
            message:
              "VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded for quota 'volumes'.",
            retryAfter: '0',
          },
        },
        { 'Retry-After': '0' },
      );
    const err = await createVolume(cloud.volume, { size: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackQuotaError);
    expect(err.quota).toBe('volumes');
    expect(waits).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });

  it('Neutron 409 OverQuota', async () => {
    const cloud = await open(recordingSleep().sleep);
    const scope = nock(NEUTRON)
      .post('/v2.0/ports')
      .reply(409, {
        NeutronError: { type: 'OverQuota', message: "Quota exceeded for resources: ['port'].", detail: '' },
      });
    const err = await createPort(cloud.network, { networkId: 'n1' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenStackQuotaError);
    expect(err.quota).toBe('port');
    expect(scope.isDone()).toBe(true);
  });
});

describe('error bodies', () => {
  it('parses the services’ shapes', () => {
    expect(
      parseServiceMessage('{"itemNotFound": {"code": 404, "message": "Flavor x could not be found."}}'),
    ).toBe('Flavor x could not be found.');
    expect(
      parseServiceMessage(
        '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}',
      ),
    ).toBe('The request you have made requires authentication.');
    expect(
      parseServiceMessage(
        '{"NeutronError": {"type": "PortNotFound", "message": "Port p could not be found.", "detail": ""}}',
      ),
    ).toBe('PortNotFound: Port p could not be found.');
    expect(
      parseServiceMessage(
        '{"errors": [{"status": 409, "title": "Conflict", "detail": "resource provider busy"}]}',
      ),
    ).toBe('resource provider busy');
    expect(
      parseServiceMessage(
        '{"code": "413 Request Entity Too Large", "title": "Request Entity Too Large", "message": "Image exceeds the storage quota: The size of the data 5 will exceed the limit. 1 bytes remaining.<br /><br />\\n"}',
      ),
    ).toBe(
      'Image exceeds the storage quota: The size of the data 5 will exceed the limit. 1 bytes remaining.',
    );
    expect(
      parseServiceMessage(
        '409 Conflict\n\nImage status transition from active to saving is not allowed\n\n   ',
        'text/plain',
      ),
    ).toBe('Image status transition from active to saving is not allowed');
  });

  it('extracts the quota name from each service’s wording', () => {
    expect(quotaFromMessage('Quota exceeded for cores: Requested 4, but already used 18 of 20 cores')).toBe(
      'cores',
    );
    expect(quotaFromMessage("Quota exceeded for resources: ['port'].")).toBe('port');
    expect(
      quotaFromMessage(
        'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota.',
      ),
    ).toBe('gigabytes');
    expect(quotaFromMessage('Maximum number of ports exceeded')).toBe('ports');
    expect(
      quotaFromMessage(
        'Project p is over a limit for [Resource image_size_total is over limit of 1000 due to current usage 0 and delta 2000]',
      ),
    ).toBe('image_size_total');
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('URLs', () => {
  it('builders are paths below the endpoint with each segment encoded; absolute() prefixes the endpoint', async () => {
    const { Http } = await import('../../../src/openstack/client/http.js');
    const { ServiceClient } = await import('../../../src/openstack/client/service-client.js');
    const { portTagsUrl } = await import('../../../src/openstack/network/ports/urls.js');
    const { volumeAttachmentUrl } = await import('../../../src/openstack/compute/volume-attachments/urls.js');
    const auth = { token: async () => 't', invalidate: () => {} };
    const http = new Http();
    const c = new ServiceClient({
      serviceType: 'network',
      endpoint: 'http://os.test:9696/v2.0/',
      auth,
      http,
    });
    expect(portTagsUrl(c, 'a/b c')).toBe('ports/a%2Fb%20c/tags');
    expect(volumeAttachmentUrl(c, 's1', 'v1')).toBe('servers/s1/os-volume_attachments/v1');
    expect(c.absolute(portTagsUrl(c, 'p1'))).toBe('http://os.test:9696/v2.0/ports/p1/tags');
    expect(c.absolute('http://elsewhere/v2/images?marker=x')).toBe('http://elsewhere/v2/images?marker=x');
    http.destroy();
  });
});

describe('secrets', () => {
  it('never logs the token or the password, even at trace level', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    const cloud = await open(recordingSleep().sleep, log);
    const scope = nock(NOVA)
      .get('/v2.1/flavors/detail')
      .reply(503, 'x')
      .get('/v2.1/flavors/detail')
      .reply(200, { flavors: [] });
    await listFlavors(cloud.compute);
    const all = lines.join('\n');
    expect(all).toContain('openstack http');
    expect(all).not.toContain('token-1');
    expect(all).not.toContain('s3cret-pw');
    expect(scope.isDone()).toBe(true);
  });
});

describe('abort', () => {
  it('aborting an upload to a server that never answers ends it with InterruptedError', async () => {
    const { createServer } = await import('node:http');
    const { Readable } = await import('node:stream');
    const { InterruptedError } = await import('../../../src/errors.js');
    const { uploadImageData } = await import('../../../src/openstack/image/imagedata/requests.js');
    // Accepts the connection and never answers. (Backpressure itself is measured by the 2 GiB
    // integration test: under nock the request body may be buffered by its interceptor.)
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    nock.enableNetConnect('127.0.0.1');
    try {
      mockAuth(1);
      const port = (server.address() as import('node:net').AddressInfo).port;
      const cloud = await openCloud(
        testConfig({ endpointOverrides: { image: `http://127.0.0.1:${port}/v2` } }),
        {
          sleep: recordingSleep().sleep,
          services: ['image'],
        },
      );
      const open = () => Readable.from([Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)]);
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 300);
      const err = await uploadImageData(cloud.image, 'img1', open, { signal: ac.signal }).catch((e) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect(Date.now() - started).toBeLessThan(5000);
      await cloud.close();
    } finally {
      server.closeAllConnections();
      server.close();
      nock.disableNetConnect();
    }
  });
});
