import { describe, expect, it } from 'vitest';
import { toCdromDeviceChange } from '../../../src/vsphere/objects/cdrom.js';
import { vm } from './vm-info-fixture.js';

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

  it('reads the disks the boot order names, in order, skipping other device kinds', () => {
    expect(vm().bootDiskOrder).toEqual([2001]);
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
