import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { isFault } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { retrieveOne } from '../../../src/vsphere/objects/property.js';
import {
  config,
  connectScope,
  isCall,
  LOGIN_OK,
  LOGOUT_OK,
  SERVICE_CONTENT,
  soapFault,
  soapResponse,
  VC,
} from './fixtures.js';

const VM = { type: 'VirtualMachine', value: 'vm-42' };
const NAME_OK = soapResponse(
  'RetrievePropertiesEx',
  '<returnval><objects><obj type="VirtualMachine">vm-42</obj><propSet><name>name</name><val xsi:type="xsd:string">win 2019</val></propSet></objects></returnval>',
);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('vSphere session', () => {
  it('turns InvalidLogin into a ConfigError (exit 2) without the password in the message', async () => {
    const scope = nock(VC)
      .post('/sdk', isCall('RetrieveServiceContent'))
      .reply(200, SERVICE_CONTENT)
      .post(
        '/sdk',
        (b: string) => isCall('Login')(b) && b.includes('<password>s3cret&amp;&lt;pw&gt;</password>'),
      )
      .reply(
        500,
        soapFault('InvalidLogin', 'Cannot complete login due to an incorrect user name or password.'),
      );
    const err = await connect(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).toMatch(/wrong user name or password/);
    expect((err as ConfigError).hint).toMatch(/GOVC_PASSWORD/);
    expect(JSON.stringify({ m: (err as Error).message, h: (err as ConfigError).hint })).not.toContain(
      's3cret',
    );
    expect(isFault(err, 'InvalidLogin')).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('sends the session cookie, logs in again once on NotAuthenticated mid-session, and repeats the call', async () => {
    const scope = connectScope('vmware_soap_session="first"');
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .matchHeader('cookie', 'vmware_soap_session="first"')
      .reply(500, soapFault('NotAuthenticated', 'The session is not authenticated.'))
      .post('/sdk', isCall('Login'))
      .reply(200, LOGIN_OK, { 'Set-Cookie': 'vmware_soap_session="second"; Path=/' })
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .matchHeader('cookie', 'vmware_soap_session="second"')
      .reply(200, NAME_OK)
      .post('/sdk', isCall('Logout'))
      .reply(200, LOGOUT_OK);
    const o = await retrieveOne(client, VM, ['name']);
    expect(o.props.name).toBe('win 2019');
    await client.close();
    expect(scope.isDone()).toBe(true);
  });

  it('treats a per-object missingSet NotAuthenticated (vcsim) like the fault', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(
        200,
        soapResponse(
          'RetrievePropertiesEx',
          '<returnval><objects><obj type="VirtualMachine">vm-42</obj><missingSet><path>name</path><fault><fault xsi:type="NotAuthenticated"></fault><localizedMessage></localizedMessage></fault></missingSet></objects></returnval>',
        ),
      )
      .post('/sdk', isCall('Login'))
      .reply(200, LOGIN_OK)
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(200, NAME_OK);
    expect((await retrieveOne(client, VM, ['name'])).props.name).toBe('win 2019');
    expect(scope.isDone()).toBe(true);
  });

  it('logs in again only once: a second NotAuthenticated is thrown', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(500, soapFault('NotAuthenticated', 'not authenticated'))
      .post('/sdk', isCall('Login'))
      .reply(200, LOGIN_OK)
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(500, soapFault('NotAuthenticated', 'still not authenticated'));
    const err = await retrieveOne(client, VM, ['name']).catch((e: unknown) => e);
    expect(isFault(err, 'NotAuthenticated')).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('pages with ContinueRetrievePropertiesEx', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(
        200,
        soapResponse(
          'RetrievePropertiesEx',
          '<returnval><token>t1</token><objects><obj type="VirtualMachine">vm-1</obj></objects></returnval>',
        ),
      )
      .post(
        '/sdk',
        (b: string) => isCall('ContinueRetrievePropertiesEx')(b) && b.includes('<token>t1</token>'),
      )
      .reply(
        200,
        soapResponse(
          'ContinueRetrievePropertiesEx',
          '<returnval><objects><obj type="VirtualMachine">vm-2</obj></objects></returnval>',
        ),
      );
    const { retrieve } = await import('../../../src/vsphere/objects/property.js');
    const out = await retrieve(
      client,
      [
        { type: 'VirtualMachine', value: 'vm-1' },
        { type: 'VirtualMachine', value: 'vm-2' },
      ],
      ['name'],
      { pageSize: 1 },
    );
    expect(out.map((o) => o.obj.value)).toEqual(['vm-1', 'vm-2']);
    expect(scope.isDone()).toBe(true);
  });
});
