// SOAP answers for Changed Block Tracking, shaped after the vSphere API reference (DiskChangeInfo:
// startOffset, length, changedArea[] of DiskChangeExtent {start, length}; VirtualMachineSnapshot.config;
// VirtualDiskFlatVer2BackingInfo.changeId) and govmomi's types.
import type nock from 'nock';
import { isCall, soapFault, soapResponse } from './fixtures.js';

export const MiB = 1024 * 1024;
export const VM = { type: 'VirtualMachine', value: 'vm-42' };
export const SNAP = { type: 'VirtualMachineSnapshot', value: 'snapshot-7' };
export const BASE_CHANGE_ID = '52 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8/12';
export const LIVE_CHANGE_ID = '52 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8/19';

export function diskChangeInfo(startOffset: number, length: number, areas: [number, number][]): string {
  const a = areas
    .map(([s, l]) => `<changedArea><start>${s}</start><length>${l}</length></changedArea>`)
    .join('');
  return soapResponse(
    'QueryChangedDiskAreas',
    `<returnval><startOffset>${startOffset}</startOffset><length>${length}</length>${a}</returnval>`,
  );
}

/** Expects one QueryChangedDiskAreas at `startOffset` (with or without the snapshot) and answers it. */
export function queryPage(
  scope: nock.Scope,
  q: { startOffset: number; changeId: string; snapshot?: boolean },
  reply: string,
): nock.Scope {
  return scope
    .post(
      '/sdk',
      (b: string) =>
        isCall('QueryChangedDiskAreas')(b) &&
        b.includes(`<startOffset>${q.startOffset}</startOffset>`) &&
        b.includes(`<changeId>${q.changeId}</changeId>`) &&
        b.includes('<deviceKey>2000</deviceKey>') &&
        b.includes('<snapshot type="VirtualMachineSnapshot">snapshot-7</snapshot>') === (q.snapshot ?? true),
    )
    .reply(200, reply);
}

/** What vSphere answers a changeId from before a CBT reset. */
export const FILE_FAULT = soapFault(
  'FileFault',
  'Error caused by file /vmfs/volumes/ds1/win/win.vmdk',
  '<file>/vmfs/volumes/ds1/win/win.vmdk</file>',
);

export function diskDevice(fileName: string, changeId: string, capacity = 256 * MiB): string {
  return `<device xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>x</summary></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>${fileName}</fileName><datastore type="Datastore">datastore-1</datastore><diskMode>persistent</diskMode><thinProvisioned>false</thinProvisioned><changeId>${changeId}</changeId></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>${capacity / 1024}</capacityInKB><capacityInBytes>${capacity}</capacityInBytes></device>`;
}

export function propsResponse(obj: { type: string; value: string }, props: Record<string, string>): string {
  const set = Object.entries(props)
    .map(([k, v]) => `<propSet><name>${k}</name>${v}</propSet>`)
    .join('');
  return soapResponse(
    'RetrievePropertiesEx',
    `<returnval><objects><obj type="${obj.type}">${obj.value}</obj>${set}</objects></returnval>`,
  );
}

/** The PropertyCollector round trip of waitForTask ending in success with `resultXml`. */
export function taskSuccess(scope: nock.Scope, task: string, resultXml = ''): nock.Scope {
  return scope
    .post('/sdk', isCall('CreatePropertyCollector'))
    .reply(
      200,
      soapResponse(
        'CreatePropertyCollector',
        '<returnval type="PropertyCollector">session[1]pc-1</returnval>',
      ),
    )
    .post('/sdk', (b: string) => isCall('CreateFilter')(b) && b.includes(`<obj type="Task">${task}</obj>`))
    .reply(200, soapResponse('CreateFilter', '<returnval type="PropertyFilter">session[1]f-1</returnval>'))
    .post('/sdk', isCall('WaitForUpdatesEx'))
    .reply(
      200,
      soapResponse(
        'WaitForUpdatesEx',
        `<returnval><version>1</version><filterSet><filter type="PropertyFilter">session[1]f-1</filter><objectSet><kind>enter</kind><obj type="Task">${task}</obj><changeSet><name>info</name><op>assign</op><val xsi:type="TaskInfo"><key>${task}</key><task type="Task">${task}</task><state>success</state>${resultXml}</val></changeSet></objectSet></filterSet></returnval>`,
      ),
    )
    .post('/sdk', isCall('DestroyPropertyCollector'))
    .reply(200, soapResponse('DestroyPropertyCollector', ''));
}
