import { Readable } from 'node:stream';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isHttpStatus, VSphereHttpError } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import {
  datastoreDownload,
  datastoreStat,
  datastoreUpload,
  datastoreUrl,
} from '../../../src/vsphere/objects/datastore.js';
import { config, connectScope, isCall, LOGIN_OK, sessionCheck, soapResponse } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const FILE = { datacenter: 'DC 0', datastore: 'Local DS', path: 'iso files/virtio-wïn 1.iso' };
const PATH = '/folder/iso%20files/virtio-w%C3%AFn%201.iso?dcPath=DC+0&dsName=Local+DS';

describe('datastore HTTP', () => {
  it('encodes names with spaces and non-ASCII characters', () => {
    const u = datastoreUrl(new URL('https://vc.test/sdk'), FILE);
    expect(`${u.pathname}${u.search}`).toBe(PATH);
  });

  it('turns HTTP 503 into VSphereHttpError with the status (upload and download)', async () => {
    const scope = connectScope();
    const client = await connect(config);
    sessionCheck(scope)
      .put(PATH)
      .matchHeader('cookie', 'vmware_soap_session="abc"')
      .reply(503, 'Service Unavailable')
      .get(PATH)
      .reply(503, 'Service Unavailable');
    const up = await datastoreUpload(client, FILE, Readable.from([Buffer.from('abcd')]), 4).catch(
      (e: unknown) => e,
    );
    expect(up).toBeInstanceOf(VSphereHttpError);
    expect(isHttpStatus(up, 503)).toBe(true);
    expect((up as Error).message).not.toContain('dcPath');
    const down = await datastoreDownload(client, FILE).catch((e: unknown) => e);
    expect(isHttpStatus(down, 503)).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('uploads with Content-Length and progress, reads a Range, stats with HEAD', async () => {
    const scope = connectScope();
    const client = await connect(config);
    sessionCheck(scope)
      .put(PATH, 'abcdefgh')
      .matchHeader('content-length', '8')
      .reply(201)
      .get(PATH)
      .matchHeader('range', 'bytes=2-5')
      .reply(206, 'cdef', { 'Content-Range': 'bytes 2-5/8', 'Content-Length': '4' })
      .head(PATH)
      .reply(200, '', { 'Content-Length': '8' })
      .head('/folder/missing?dcPath=DC+0&dsName=Local+DS')
      .reply(404);
    const seen: number[] = [];
    await datastoreUpload(client, FILE, Readable.from([Buffer.from('abcd'), Buffer.from('efgh')]), 8, {
      onProgress: (b) => seen.push(b),
    });
    expect(seen.at(-1)).toBe(8);
    const r = await datastoreDownload(client, FILE, { range: { start: 2, end: 5 } });
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('cdef');
    expect(r.totalSize).toBe(8);
    expect(await datastoreStat(client, FILE)).toEqual({ exists: true, size: 8 });
    expect(await datastoreStat(client, { ...FILE, path: 'missing' })).toEqual({ exists: false });
    expect(scope.isDone()).toBe(true);
  });

  it('logs in again once when the session expired: 401 on GET, or an empty session before an upload', async () => {
    const scope = connectScope('vmware_soap_session="old"');
    const client = await connect(config);
    scope
      .get(PATH)
      .matchHeader('cookie', 'vmware_soap_session="old"')
      .reply(401, 'Unauthorized')
      .post('/sdk', isCall('Login'))
      .reply(200, LOGIN_OK, { 'Set-Cookie': 'vmware_soap_session="new"; Path=/' })
      .get(PATH)
      .matchHeader('cookie', 'vmware_soap_session="new"')
      .reply(200, 'data');
    const chunks: Buffer[] = [];
    for await (const c of await datastoreDownload(client, FILE)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('data');

    scope
      .post('/sdk', (b: string) => isCall('RetrievePropertiesEx')(b) && b.includes('currentSession'))
      .reply(
        200,
        soapResponse(
          'RetrievePropertiesEx',
          '<returnval><objects><obj type="SessionManager">SessionManager</obj></objects></returnval>',
        ),
      )
      .post('/sdk', isCall('Login'))
      .reply(200, LOGIN_OK, { 'Set-Cookie': 'vmware_soap_session="newer"; Path=/' })
      .put(PATH, 'xy')
      .matchHeader('cookie', 'vmware_soap_session="newer"')
      .reply(201);
    await datastoreUpload(client, FILE, Readable.from([Buffer.from('xy')]), 2);
    expect(scope.isDone()).toBe(true);
  });
});
