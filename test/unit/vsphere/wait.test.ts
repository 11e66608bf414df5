import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../../src/errors.js';
import { VSphereTimeoutError } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { waitForTask } from '../../../src/vsphere/objects/task.js';
import { shutdownGuest } from '../../../src/vsphere/objects/vm.js';
import { config, connectScope, isCall, soapResponse } from './fixtures.js';

const VM = { type: 'VirtualMachine', value: 'vm-42' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function collector(scope: nock.Scope): nock.Scope {
  return scope
    .post('/sdk', isCall('CreatePropertyCollector'))
    .reply(
      200,
      soapResponse('CreatePropertyCollector', '<returnval type="PropertyCollector">pc-1</returnval>'),
    )
    .post('/sdk', isCall('CreateFilter'))
    .reply(200, soapResponse('CreateFilter', '<returnval type="PropertyFilter">f-1</returnval>'));
}

describe('waiting', () => {
  it('ShutdownGuest waits for poweredOff and gives up with VSphereTimeoutError', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('RetrievePropertiesEx')(b) && b.includes('<pathSet>runtime.powerState</pathSet>'),
      )
      .reply(
        200,
        soapResponse(
          'RetrievePropertiesEx',
          '<returnval><objects><obj type="VirtualMachine">vm-42</obj><propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet></objects></returnval>',
        ),
      )
      .post('/sdk', isCall('ShutdownGuest'))
      .reply(200, soapResponse('ShutdownGuest', ''));
    collector(scope)
      .post('/sdk', isCall('WaitForUpdatesEx'))
      .delay(1_600)
      .reply(200, soapResponse('WaitForUpdatesEx', '')) // maxWaitSeconds passed without updates
      .post('/sdk', isCall('DestroyPropertyCollector'))
      .reply(200, soapResponse('DestroyPropertyCollector', ''));
    const err = await shutdownGuest(client, VM, { timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VSphereTimeoutError);
    expect(scope.isDone()).toBe(true);
  });

  it('an aborted signal ends a task wait with InterruptedError and still destroys the collector', async () => {
    const scope = connectScope();
    const client = await connect(config);
    const ac = new AbortController();
    // Abort while WaitForUpdatesEx is in flight (a fixed timer fired before the request on a busy machine).
    const waitCall = (b: string) => {
      if (!isCall('WaitForUpdatesEx')(b)) return false;
      setImmediate(() => ac.abort());
      return true;
    };
    collector(scope)
      .post('/sdk', waitCall)
      .delay(5_000)
      .reply(200, soapResponse('WaitForUpdatesEx', ''))
      .post('/sdk', isCall('DestroyPropertyCollector'))
      .reply(200, soapResponse('DestroyPropertyCollector', ''));
    const err = await waitForTask(client, { type: 'Task', value: 'task-9' }, { signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InterruptedError);
    expect(scope.isDone()).toBe(true);
  });
});
