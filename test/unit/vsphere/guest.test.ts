import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFault } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { downloadFromGuest, runInGuest, uploadToGuest } from '../../../src/vsphere/objects/guest.js';
import { config, connectScope, isCall, soapFault, soapResponse, VC } from './fixtures.js';

const VM = { type: 'VirtualMachine', value: 'vm-42' };
const CREDS = { username: 'Administrator', password: 'Guest&Pw<1>' };
const MANAGERS = soapResponse(
  'RetrievePropertiesEx',
  '<returnval><objects><obj type="GuestOperationsManager">guestOperationsManager</obj><propSet><name>fileManager</name><val type="GuestFileManager" xsi:type="ManagedObjectReference">guestFileManager</val></propSet><propSet><name>processManager</name><val type="GuestProcessManager" xsi:type="ManagedObjectReference">guestProcessManager</val></propSet></objects></returnval>',
);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('guest operations', () => {
  it('throws GuestOperationsUnavailable as a typed fault', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(200, MANAGERS)
      .post('/sdk', isCall('StartProgramInGuest'))
      .reply(
        500,
        soapFault('GuestOperationsUnavailable', 'The guest operations agent could not be contacted.'),
      );
    const err = await runInGuest(client, VM, CREDS, {
      program: 'C:\\Windows\\System32\\cmd.exe',
      args: '/c ver',
    }).catch((e: unknown) => e);
    expect(isFault(err, 'GuestOperationsUnavailable')).toBe(true);
    expect(String((err as Error).message)).not.toContain('Guest&Pw');
    expect(scope.isDone()).toBe(true);
  });

  it('starts a program with NamePasswordAuthentication and waits for its exit code', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(200, MANAGERS)
      .post(
        '/sdk',
        (b: string) =>
          isCall('StartProgramInGuest')(b) &&
          b.includes(
            '<auth xsi:type="NamePasswordAuthentication"><interactiveSession>false</interactiveSession><username>Administrator</username><password>Guest&amp;Pw&lt;1&gt;</password></auth>',
          ) &&
          b.includes(
            '<spec xsi:type="GuestProgramSpec"><programPath>C:\\Windows\\System32\\pnputil.exe</programPath><arguments>/add-driver &quot;E:\\viostor\\w10\\amd64\\*.inf&quot; /install</arguments></spec>',
          ),
      )
      .reply(200, soapResponse('StartProgramInGuest', '<returnval>4242</returnval>'))
      .post('/sdk', (b: string) => isCall('ListProcessesInGuest')(b) && b.includes('<pids>4242</pids>'))
      .reply(
        200,
        soapResponse(
          'ListProcessesInGuest',
          '<returnval><name>pnputil.exe</name><pid>4242</pid><owner>Administrator</owner><cmdLine>pnputil</cmdLine><startTime>2026-01-01T00:00:00Z</startTime></returnval>',
        ),
      )
      .post('/sdk', isCall('ListProcessesInGuest'))
      .reply(
        200,
        soapResponse(
          'ListProcessesInGuest',
          '<returnval><name>pnputil.exe</name><pid>4242</pid><owner>Administrator</owner><cmdLine>pnputil</cmdLine><startTime>2026-01-01T00:00:00Z</startTime><endTime>2026-01-01T00:00:02Z</endTime><exitCode>259</exitCode></returnval>',
        ),
      );
    const r = await runInGuest(client, VM, CREDS, {
      program: 'C:\\Windows\\System32\\pnputil.exe',
      args: '/add-driver "E:\\viostor\\w10\\amd64\\*.inf" /install',
      pollIntervalMs: 10,
    });
    expect(r).toEqual({ pid: 4242, exitCode: 259 });
    expect(scope.isDone()).toBe(true);
  });

  it('uploads to and downloads from the guest through the transfer URLs (host * → vCenter)', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(200, MANAGERS)
      .post(
        '/sdk',
        (b: string) =>
          isCall('InitiateFileTransferToGuest')(b) &&
          b.includes('<fileSize>5</fileSize>') &&
          b.includes('<overwrite>true</overwrite>'),
      )
      .reply(
        200,
        soapResponse(
          'InitiateFileTransferToGuest',
          '<returnval>https://*/guestFile?id=1&amp;token=t</returnval>',
        ),
      )
      .put('/guestFile?id=1&token=t', 'hello')
      .reply(200)
      .post('/sdk', isCall('RetrievePropertiesEx'))
      .reply(200, MANAGERS)
      .post('/sdk', isCall('InitiateFileTransferFromGuest'))
      .reply(
        200,
        soapResponse(
          'InitiateFileTransferFromGuest',
          '<returnval><attributes xsi:type="GuestWindowsFileAttributes"></attributes><size>3</size><url>https://*/guestFile?id=2&amp;token=u</url></returnval>',
        ),
      )
      .get('/guestFile?id=2&token=u')
      .reply(200, 'abc');
    await uploadToGuest(client, VM, CREDS, 'C:\\v2o\\a.txt', 'hello');
    expect((await downloadFromGuest(client, VM, CREDS, 'C:\\v2o\\b.txt')).toString()).toBe('abc');
    expect(scope.isDone()).toBe(true);
    expect(VC).toBe('https://vc.test');
  });
});
