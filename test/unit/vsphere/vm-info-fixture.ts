// A VM as vSphere's property collector returns it (XML values), decoded by toVmInfo: one with
// something for every part of the model (two disks, one an RDM; a NIC; a CD-ROM; snapshots; a vTPM).
import { toVmInfo, type VmInfo } from '../../../src/vsphere/model.js';
import { parseXml, toValue, type XmlValue } from '../../../src/vsphere/soap/xml.js';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const val = (xml: string): XmlValue => toValue(parseXml(xml));

export const HARDWARE =
  val(`<val ${XSI} xsi:type="VirtualHardware"><numCPU>4</numCPU><numCoresPerSocket>2</numCoresPerSocket><memoryMB>8192</memoryMB>
<device xsi:type="VirtualLsiLogicSASController"><key>1000</key><deviceInfo><label>SCSI controller 0</label><summary>LSI</summary></deviceInfo><busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device>
<device xsi:type="VirtualAHCIController"><key>15000</key><busNumber>0</busNumber></device>
<device xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>40 GB</summary></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds 1] win 2019/win 2019-000001.vmdk</fileName><datastore type="Datastore">datastore-1</datastore><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned><sharing>sharingNone</sharing><parent xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds 1] win 2019/win 2019.vmdk</fileName><diskMode>persistent</diskMode></parent></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>41943040</capacityInKB><capacityInBytes>42949672960</capacityInBytes></device>
<device xsi:type="VirtualDisk"><key>2001</key><deviceInfo><label>Hard disk 2</label></deviceInfo><backing xsi:type="VirtualDiskRawDiskMappingVer1BackingInfo"><fileName>[ds 1] win 2019/rdm.vmdk</fileName><compatibilityMode>physicalMode</compatibilityMode><diskMode>independent_persistent</diskMode><deviceName>/vmfs/devices/disks/naa.1</deviceName></backing><controllerKey>1000</controllerKey><unitNumber>1</unitNumber><capacityInKB>1048576</capacityInKB></device>
<device xsi:type="VirtualVmxnet3"><key>4000</key><deviceInfo><label>Network adapter 1</label></deviceInfo><backing xsi:type="VirtualEthernetCardDistributedVirtualPortBackingInfo"><port><switchUuid>50 1</switchUuid><portgroupKey>dvportgroup-9</portgroupKey></port></backing><connectable><startConnected>true</startConnected><connected>true</connected></connectable><macAddress>00:50:56:aa:bb:cc</macAddress></device>
<device xsi:type="VirtualCdrom"><key>16000</key><deviceInfo><label>CD/DVD drive 1</label></deviceInfo><backing xsi:type="VirtualCdromIsoBackingInfo"><fileName>[ds 1] iso/x.iso</fileName></backing><connectable><startConnected>false</startConnected><connected>false</connected></connectable><controllerKey>15000</controllerKey><unitNumber>0</unitNumber></device>
<device xsi:type="VirtualTPM"><key>11000</key></device></val>`);

export function vm(): VmInfo {
  return toVmInfo(
    { type: 'VirtualMachine', value: 'vm-42' },
    {
      name: 'win 2019',
      'config.guestId': 'windows2019srv_64Guest',
      'config.guestFullName': 'Microsoft Windows Server 2019 (64-bit)',
      'config.firmware': 'efi',
      'config.bootOptions': val(
        `<val ${XSI} xsi:type="VirtualMachineBootOptions"><efiSecureBootEnabled>true</efiSecureBootEnabled><bootOrder xsi:type="VirtualMachineBootOptionsBootableCdromDevice"></bootOrder><bootOrder xsi:type="VirtualMachineBootOptionsBootableDiskDevice"><deviceKey>2001</deviceKey></bootOrder></val>`,
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
