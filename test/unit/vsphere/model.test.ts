import { describe, expect, it } from 'vitest';
import { toVmInfo, type VmInfo } from '../../../src/vsphere/model.js';
import { toCdromDeviceChange } from '../../../src/vsphere/objects/cdrom.js';
import { assessReadiness } from '../../../src/vsphere/readiness.js';
import { parseXml, toValue, type XmlValue } from '../../../src/vsphere/soap/xml.js';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const val = (xml: string): XmlValue => toValue(parseXml(xml));

const HARDWARE =
  val(`<val ${XSI} xsi:type="VirtualHardware"><numCPU>4</numCPU><numCoresPerSocket>2</numCoresPerSocket><memoryMB>8192</memoryMB>
<device xsi:type="VirtualLsiLogicSASController"><key>1000</key><deviceInfo><label>SCSI controller 0</label><summary>LSI</summary></deviceInfo><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device>
<device xsi:type="VirtualAHCIController"><key>15000</key><busNumber>0</busNumber></device>
<device xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>40 GB</summary></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds 1] win 2019/win 2019-000001.vmdk</fileName><datastore type="Datastore">datastore-1</datastore><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned><sharing>sharingNone</sharing><parent xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds 1] win 2019/win 2019.vmdk</fileName><diskMode>persistent</diskMode></parent></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>41943040</capacityInKB><capacityInBytes>42949672960</capacityInBytes></device>
<device xsi:type="VirtualDisk"><key>2001</key><deviceInfo><label>Hard disk 2</label></deviceInfo><backing xsi:type="VirtualDiskRawDiskMappingVer1BackingInfo"><fileName>[ds 1] win 2019/rdm.vmdk</fileName><compatibilityMode>physicalMode</compatibilityMode><diskMode>independent_persistent</diskMode><deviceName>/vmfs/devices/disks/naa.1</deviceName></backing><controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>1048576</capacityInKB></device>
<device xsi:type="VirtualVmxnet3"><key>4000</key><deviceInfo><label>Network adapter 1</label></deviceInfo><backing xsi:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port><switchUuid>50 1</switchUuid><portgroupKey>dvportgroup-9</portgroupKey></port></backing><connectable><startConnected>true</startConnected><connected>true</connected></connectable><macAddress>00:50:56:aa:bb:cc</macAddress></device>
<device xsi:type="VirtualCdrom"><key>16000</key><deviceInfo><label>CD/DVD drive 1</label></deviceInfo><backing xsi:type="VirtualCdromIsoBackingInfo"><fileName>[ds 1] iso/x.iso</fileName></backing><connectable><startConnected>false</startConnected><connected>false</connected></connectable><controllerKey>15000</controllerKey><unitNumber>0</unitNumber></device>
<device xsi:type="VirtualTPM"><key>11000</key></device></val>`);

function vm(): VmInfo {
  return toVmInfo(
    { type: 'VirtualMachine', value: 'vm-42' },
    {
      name: 'win 2019',
      'config.guestId': 'windows2019srv_64Guest',
      'config.guestFullName': 'Microsoft Windows Server 2019 (64-bit)',
      'config.firmware': 'efi',
      'config.bootOptions': val(
        `<val ${XSI} xsi:type="VirtualMachineBootOptions"><efiSecureBootEnabled>true</efiSecureBootEnabled></val>`,
      ),
      'config.hardware': HARDWARE,
      'config.changeTrackingEnabled': 'true',
      snapshot: val(
        `<val ${XSI} xsi:type="VirtualMachineSnapshotInfo"><rootSnapshotList><snapshot type="VirtualMachineSnapshot">snapshot-1</snapshot><name>before patch</name><description></description><createTime>2026-01-01T00:00:00Z</createTime><childSnapshotList><snapshot type="VirtualMachineSnapshot">snapshot-2</snapshot><name>after</name><createTime>2026-01-02T00:00:00Z</createTime></childSnapshotList></rootSnapshotList></val>`,
      ),
      'guest.toolsStatus': 'toolsOk',
      'guest.toolsRunningStatus': 'guestToolsRunning',
      'guest.toolsVersion': '12352',
      'runtime.powerState': 'poweredOn',
      'runtime.host': { type: 'HostSystem', value: 'host-1' },
    },
    { hostName: 'esx1', datacenter: 'DC0', portgroupNames: new Map([['dvportgroup-9', 'VM Network 2']]) },
  );
}

describe('VM model', () => {
  it('decodes firmware, disks, controllers, NICs, CD-ROMs, snapshots, tools and TPM', () => {
    const v = vm();
    expect(v).toMatchObject({
      name: 'win 2019',
      firmware: 'efi',
      secureBoot: true,
      vtpm: true,
      numCpu: 4,
      memoryMiB: 8192,
      cbtEnabled: true,
    });
    expect(v.disks[0]).toMatchObject({
      capacityBytes: 42949672960,
      controller: { kind: 'lsilogic-sas', bus: 'scsi', busNumber: 0 },
      unitNumber: 0,
      datastore: 'ds 1',
      datastorePath: 'win 2019/win 2019-000001.vmdk',
      baseFileName: '[ds 1] win 2019/win 2019.vmdk',
      provisioning: 'thin',
      independent: false,
    });
    expect(v.disks[1]).toMatchObject({
      capacityBytes: 1073741824,
      independent: true,
      rdm: { compatibilityMode: 'physicalMode' },
    });
    expect(v.nics[0]).toMatchObject({
      adapterType: 'vmxnet3',
      macAddress: '00:50:56:aa:bb:cc',
      network: 'VM Network 2',
    });
    expect(v.cdroms[0]).toMatchObject({
      key: 16000,
      controller: { bus: 'sata' },
      backing: { kind: 'iso', fileName: '[ds 1] iso/x.iso' },
    });
    expect(v.snapshots.map((s) => [s.name, s.depth])).toEqual([
      ['before patch', 0],
      ['after', 1],
    ]);
    expect(v.host?.name).toBe('esx1');
  });

  it('marks blockers and warnings with fixes', () => {
    const r = assessReadiness(vm());
    expect(r.blockers.map((b) => b.code)).toEqual(['vsphere.rdm-disk']);
    expect(r.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining([
        'vsphere.independent-disk',
        'vsphere.snapshots',
        'vsphere.vtpm',
        'vsphere.bitlocker-risk',
        'vsphere.secure-boot',
      ]),
    );
    for (const i of [...r.blockers, ...r.warnings]) expect(i.fix.length).toBeGreaterThan(10);
    const linux = {
      ...vm(),
      guestId: 'ubuntu64Guest',
      guestFullName: 'Ubuntu Linux (64-bit)',
      disks: [],
      tools: { status: 'toolsNotInstalled' },
    };
    expect(assessReadiness(linux).blockers.map((b) => b.code)).toEqual(
      expect.arrayContaining(['vsphere.not-windows', 'vsphere.no-disks', 'vsphere.tools-not-installed']),
    );
  });
});

describe('CD-ROM device spec', () => {
  it('always carries deviceInfo, in VirtualDevice field order', () => {
    const x = toCdromDeviceChange({
      operation: 'edit',
      key: 16000,
      label: 'CD/DVD drive 1',
      backing: { kind: 'iso', fileName: '[ds 1] iso/virtio-win & co.iso' },
      connected: true,
      startConnected: true,
      controllerKey: 15000,
      unitNumber: 0,
    });
    expect(x).toBe(
      '<deviceChange><operation>edit</operation><device xsi:type="VirtualCdrom"><key>16000</key><deviceInfo xsi:type="Description"><label>CD/DVD drive 1</label><summary>ISO [ds 1] iso/virtio-win &amp; co.iso</summary></deviceInfo><backing xsi:type="VirtualCdromIsoBackingInfo"><fileName>[ds 1] iso/virtio-win &amp; co.iso</fileName></backing><connectable><startConnected>true</startConnected><allowGuestControl>true</allowGuestControl><connected>true</connected></connectable><controllerKey>15000</controllerKey><unitNumber>0</unitNumber></device></deviceChange>',
    );
    const rm = toCdromDeviceChange({
      operation: 'remove',
      key: 3002,
      backing: { kind: 'none' },
      connected: false,
      startConnected: false,
    });
    expect(rm).toContain('<deviceInfo xsi:type="Description">');
    expect(rm).toContain('VirtualCdromRemotePassthroughBackingInfo');
  });
});
