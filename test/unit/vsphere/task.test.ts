import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFault, VSphereFault } from '../../../src/vsphere/errors.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { powerOn } from '../../../src/vsphere/objects/vm.js';
import { config, connectScope, isCall, soapFault, soapResponse } from './fixtures.js';

const VM = { type: 'VirtualMachine', value: 'vm-42' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function taskWait(scope: nock.Scope, updateInner: string): nock.Scope {
  return scope
    .post('/sdk', isCall('CreatePropertyCollector'))
    .reply(
      200,
      soapResponse(
        'CreatePropertyCollector',
        '<returnval type="PropertyCollector">session[1]pc-1</returnval>',
      ),
    )
    .post(
      '/sdk',
      (b: string) =>
        isCall('CreateFilter')(b) &&
        b.includes('<obj type="Task">task-7</obj>') &&
        b.includes('<pathSet>info</pathSet>'),
    )
    .reply(200, soapResponse('CreateFilter', '<returnval type="PropertyFilter">session[1]f-1</returnval>'))
    .post('/sdk', (b: string) => isCall('WaitForUpdatesEx')(b) && b.includes('session[1]pc-1'))
    .reply(
      200,
      soapResponse(
        'WaitForUpdatesEx',
        `<returnval><version>1</version><filterSet><filter type="PropertyFilter">session[1]f-1</filter><objectSet><kind>enter</kind><obj type="Task">task-7</obj>${updateInner}</objectSet></filterSet></returnval>`,
      ),
    )
    .post('/sdk', isCall('DestroyPropertyCollector'))
    .reply(200, soapResponse('DestroyPropertyCollector', ''));
}

describe('tasks', () => {
  it('throws the fault of a task that ends in error (InvalidPowerState), matched by type', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('PowerOnVM_Task'))
      .reply(200, soapResponse('PowerOnVM_Task', '<returnval type="Task">task-7</returnval>'));
    taskWait(
      scope,
      '<changeSet><name>info</name><op>assign</op><val xsi:type="TaskInfo"><key>task-7</key><task type="Task">task-7</task><descriptionId>VirtualMachine.powerOn</descriptionId><state>error</state><error><fault xsi:type="InvalidPowerState"><requestedState>poweredOff</requestedState><existingState>poweredOn</existingState></fault><localizedMessage>The attempted operation cannot be performed in the current state (Powered on).</localizedMessage></error></val></changeSet>',
    );
    const err = await powerOn(client, VM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VSphereFault);
    expect(isFault(err, 'InvalidPowerState')).toBe(true);
    expect((err as Error).message).toMatch(/current state \(Powered on\)/);
    expect(scope.isDone()).toBe(true);
  });

  it('throws a fault returned by the method itself (not via the task)', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('PowerOnVM_Task'))
      .reply(500, soapFault('InvalidPowerState', 'already on', '<existingState>poweredOn</existingState>'));
    const err = await powerOn(client, VM).catch((e: unknown) => e);
    expect(isFault(err, 'InvalidPowerState')).toBe(true);
    expect((err as VSphereFault).method).toBe('PowerOnVM_Task');
    expect(scope.isDone()).toBe(true);
  });

  it('follows partial updates until success and reports progress', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post('/sdk', isCall('PowerOnVM_Task'))
      .reply(200, soapResponse('PowerOnVM_Task', '<returnval type="Task">task-7</returnval>'));
    scope
      .post('/sdk', isCall('CreatePropertyCollector'))
      .reply(
        200,
        soapResponse('CreatePropertyCollector', '<returnval type="PropertyCollector">pc-1</returnval>'),
      )
      .post('/sdk', isCall('CreateFilter'))
      .reply(200, soapResponse('CreateFilter', '<returnval type="PropertyFilter">f-1</returnval>'))
      .post('/sdk', (b: string) => isCall('WaitForUpdatesEx')(b) && b.includes('<version></version>'))
      .reply(
        200,
        soapResponse(
          'WaitForUpdatesEx',
          '<returnval><version>1</version><filterSet><filter type="PropertyFilter">f-1</filter><objectSet><kind>enter</kind><obj type="Task">task-7</obj><changeSet><name>info</name><op>assign</op><val xsi:type="TaskInfo"><state>running</state><progress>40</progress></val></changeSet></objectSet></filterSet></returnval>',
        ),
      )
      .post('/sdk', (b: string) => isCall('WaitForUpdatesEx')(b) && b.includes('<version>1</version>'))
      .reply(
        200,
        soapResponse(
          'WaitForUpdatesEx',
          '<returnval><version>2</version><filterSet><filter type="PropertyFilter">f-1</filter><objectSet><kind>modify</kind><obj type="Task">task-7</obj><changeSet><name>info.state</name><op>assign</op><val xsi:type="TaskInfoState">success</val></changeSet></objectSet></filterSet></returnval>',
        ),
      )
      .post('/sdk', isCall('DestroyPropertyCollector'))
      .reply(200, soapResponse('DestroyPropertyCollector', ''));
    const { waitForTask } = await import('../../../src/vsphere/objects/task.js');
    const { powerOnVmTask } = await import('../../../src/vsphere/methods/virtual-machine.js');
    const seen: number[] = [];
    await waitForTask(client, await powerOnVmTask(client, VM), { onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([40, 100]);
    expect(scope.isDone()).toBe(true);
  });
});
