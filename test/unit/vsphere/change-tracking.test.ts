// QueryChangedDiskAreas paging, changeId rejection, snapshots with their frozen backings, ReconfigVM.
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChangeIdRejectedError, isFault, VSphereFault } from '../../../src/vsphere/errors.js';
import {
  getChangeTracking,
  queryChangedAreas,
  setChangeTracking,
} from '../../../src/vsphere/objects/change-tracking.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { createSnapshot, removeSnapshot } from '../../../src/vsphere/objects/snapshot.js';
import {
  BASE_CHANGE_ID,
  diskChangeInfo,
  diskDevice,
  FILE_FAULT,
  LIVE_CHANGE_ID,
  MiB,
  propsResponse,
  queryPage,
  SNAP,
  taskSuccess,
  VM,
} from './cbt-fixtures.js';
import { config, connectScope, isCall, soapFault, soapResponse } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('queryChangedAreas', () => {
  it('pages to the capacity, going on past an empty page in the middle', async () => {
    const scope = connectScope();
    const client = await connect(config);
    const cap = 384 * MiB;
    queryPage(
      scope,
      { startOffset: 0, changeId: '52 aa/3' },
      diskChangeInfo(0, 128 * MiB, [
        [0, 65536],
        [MiB, 2 * 65536],
      ]),
    );
    // Nothing changed in the second 128 MiB: an empty page whose length still moves on.
    queryPage(
      scope,
      { startOffset: 128 * MiB, changeId: '52 aa/3' },
      diskChangeInfo(128 * MiB, 128 * MiB, []),
    );
    queryPage(
      scope,
      { startOffset: 256 * MiB, changeId: '52 aa/3' },
      diskChangeInfo(256 * MiB, 128 * MiB, [[300 * MiB, 65536]]),
    );
    const r = await queryChangedAreas(client, VM, {
      snapshot: SNAP,
      deviceKey: 2000,
      changeId: '52 aa/3',
      capacityBytes: cap,
    });
    expect(r.pages).toBe(3);
    expect(r.areas).toEqual([
      { start: 0, length: 65536 },
      { start: MiB, length: 131072 },
      { start: 300 * MiB, length: 65536 },
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it('starts the next page where the areas end when a page is shorter than its last area', async () => {
    const scope = connectScope();
    const client = await connect(config);
    // 512 areas cap a page before 128 MiB: the page's length says where it stopped.
    queryPage(scope, { startOffset: 0, changeId: '*' }, diskChangeInfo(0, 2 * MiB, [[0, 2 * MiB]]));
    queryPage(
      scope,
      { startOffset: 2 * MiB, changeId: '*' },
      diskChangeInfo(2 * MiB, 2 * MiB, [[3 * MiB, MiB]]),
    );
    const r = await queryChangedAreas(client, VM, {
      snapshot: SNAP,
      deviceKey: 2000,
      changeId: '*',
      capacityBytes: 4 * MiB,
    });
    expect(r).toEqual({
      areas: [
        { start: 0, length: 2 * MiB },
        { start: 3 * MiB, length: MiB },
      ],
      pages: 2,
    });
    expect(scope.isDone()).toBe(true);
  });

  it('fails on a page that does not move past the offset (instead of looping)', async () => {
    const scope = connectScope();
    const client = await connect(config);
    queryPage(scope, { startOffset: 0, changeId: '52 aa/3' }, diskChangeInfo(0, 0, []));
    const err = await queryChangedAreas(client, VM, {
      snapshot: SNAP,
      deviceKey: 2000,
      changeId: '52 aa/3',
      capacityBytes: MiB,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/does not move past offset 0/);
    expect(scope.isDone()).toBe(true);
  });

  it('turns the FileFault for a changeId from before a CBT reset into ChangeIdRejectedError', async () => {
    const scope = connectScope();
    const client = await connect(config);
    queryPage(scope, { startOffset: 0, changeId: '52 aa/3', snapshot: false }, FILE_FAULT);
    const err = await queryChangedAreas(client, VM, {
      deviceKey: 2000,
      changeId: '52 aa/3',
      capacityBytes: MiB,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChangeIdRejectedError);
    expect(err).toMatchObject({ diskKey: 2000, changeId: '52 aa/3' });
    expect(isFault(err, 'FileFault')).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('leaves a FileFault of a "*" query as it is (no changeId to reject)', async () => {
    const scope = connectScope();
    const client = await connect(config);
    queryPage(scope, { startOffset: 0, changeId: '*' }, FILE_FAULT);
    const err = await queryChangedAreas(client, VM, {
      snapshot: SNAP,
      deviceKey: 2000,
      changeId: '*',
      capacityBytes: MiB,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VSphereFault);
    expect(err).not.toBeInstanceOf(ChangeIdRejectedError);
    expect(scope.isDone()).toBe(true);
  });
});

describe('snapshots and CBT state', () => {
  it("returns the snapshot's own backing with its changeId, not the VM's live one", async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('CreateSnapshot_Task')(b) &&
          b.includes('<name>v2o-r1-base</name>') &&
          b.includes('<memory>false</memory>') &&
          b.includes('<quiesce>false</quiesce>'),
      )
      .reply(200, soapResponse('CreateSnapshot_Task', '<returnval type="Task">task-9</returnval>'));
    taskSuccess(scope, 'task-9', '<result type="VirtualMachineSnapshot">snapshot-7</result>');
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('RetrievePropertiesEx')(b) &&
          b.includes('<obj type="VirtualMachineSnapshot">snapshot-7</obj>') &&
          b.includes('<pathSet>config.hardware</pathSet>'),
      )
      .reply(
        200,
        propsResponse(SNAP, {
          'config.hardware': `<val xsi:type="VirtualHardware"><numCPU>2</numCPU><memoryMB>4096</memoryMB>${diskDevice('[ds1] win/win.vmdk', BASE_CHANGE_ID)}</val>`,
        }),
      );
    const r = await createSnapshot(client, VM, { name: 'v2o-r1-base', description: 'v2o base copy' });
    expect(r.snapshot).toEqual(SNAP);
    expect(r.disks).toHaveLength(1);
    expect(r.disks[0]).toMatchObject({ key: 2000, fileName: '[ds1] win/win.vmdk', changeId: BASE_CHANGE_ID });
    expect(r.disks[0]!.changeId).not.toBe(LIVE_CHANGE_ID);
    expect(scope.isDone()).toBe(true);
  });

  it('removes with consolidation, and a snapshot already gone is fine', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('RemoveSnapshot_Task')(b) &&
          b.includes('<_this type="VirtualMachineSnapshot">snapshot-7</_this>') &&
          b.includes('<removeChildren>false</removeChildren>') &&
          b.includes('<consolidate>true</consolidate>'),
      )
      .reply(500, soapFault('ManagedObjectNotFound', 'The object has already been deleted'));
    await removeSnapshot(client, SNAP);
    expect(scope.isDone()).toBe(true);
  });

  it('reads enabled, hardware version, consolidationNeeded and the live changeIds', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('RetrievePropertiesEx')(b) && b.includes('<pathSet>runtime.consolidationNeeded</pathSet>'),
      )
      .reply(
        200,
        propsResponse(VM, {
          'config.changeTrackingEnabled': '<val xsi:type="xsd:boolean">true</val>',
          'config.version': '<val xsi:type="xsd:string">vmx-19</val>',
          'runtime.consolidationNeeded': '<val xsi:type="xsd:boolean">true</val>',
          'runtime.powerState': '<val xsi:type="VirtualMachinePowerState">poweredOn</val>',
          'config.hardware': `<val xsi:type="VirtualHardware">${diskDevice('[ds1] win/win-000001.vmdk', LIVE_CHANGE_ID)}</val>`,
        }),
      );
    const s = await getChangeTracking(client, VM);
    expect(s).toMatchObject({
      enabled: true,
      hardwareVersion: 19,
      consolidationNeeded: true,
      powerState: 'poweredOn',
    });
    expect(s.disks[0]).toMatchObject({ key: 2000, changeId: LIVE_CHANGE_ID, capacityBytes: 256 * MiB });
    expect(scope.isDone()).toBe(true);
  });

  it('sets changeTrackingEnabled by ReconfigVM_Task and waits for the task', async () => {
    const scope = connectScope();
    const client = await connect(config);
    scope
      .post(
        '/sdk',
        (b: string) =>
          isCall('ReconfigVM_Task')(b) &&
          b.includes('<spec><changeTrackingEnabled>true</changeTrackingEnabled></spec>'),
      )
      .reply(200, soapResponse('ReconfigVM_Task', '<returnval type="Task">task-3</returnval>'));
    taskSuccess(scope, 'task-3');
    await setChangeTracking(client, VM, true);
    expect(scope.isDone()).toBe(true);
  });
});
