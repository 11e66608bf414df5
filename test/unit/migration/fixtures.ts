// Hand-written inventory shaped like the labs' VMs and cloud.
import type { Inventory, SourceVm, TargetFlavor } from '../../../src/migration/inventory.js';
import {
  parsePlanText,
  type ResolvedPlan,
  type VmMigrationConfig,
} from '../../../src/migration/plan-file.js';

const GiB = 1024 ** 3;

export function bios2019(): SourceVm {
  return {
    name: 'win2019-app01',
    moref: 'vm-42',
    instanceUuid: '5001-aaaa',
    guestId: 'windows2019srv_64Guest',
    guestFullName: 'Microsoft Windows Server 2019 (64-bit)',
    firmware: 'bios',
    secureBoot: false,
    vtpm: false,
    cpus: 2,
    memoryMiB: 4096,
    disks: [
      {
        key: 2000,
        label: 'Hard disk 1',
        capacityBytes: 40 * GiB,
        controllerType: 'VirtualLsiLogicSASController',
        busNumber: 0,
        unitNumber: 0,
        fileName: '[LocalDS_0] win2019-app01/win2019-app01.vmdk',
        datastore: 'LocalDS_0',
        diskMode: 'persistent',
        sharing: 'sharingNone',
      },
    ],
    nics: [
      {
        key: 4000,
        label: 'Network adapter 1',
        macAddress: '00:50:56:AA:BB:01',
        network: 'VM Network',
        adapterType: 'vmxnet3',
      },
    ],
    cdroms: [{ key: 3000, label: 'CD/DVD drive 1', connected: false, startConnected: false }],
    snapshots: [],
    toolsRunning: true,
    toolsStatus: 'toolsOk',
    powerState: 'poweredOn',
  };
}

export function efi2022(): SourceVm {
  const vm = bios2019();
  return {
    ...vm,
    name: 'win2022-db01',
    guestId: 'windows2019srvNext_64Guest',
    guestFullName: 'Microsoft Windows Server 2022 (64-bit)',
    firmware: 'efi',
    secureBoot: true,
    cpus: 4,
    memoryMiB: 8192,
    disks: [0, 1, 2].map((i) => ({
      key: 2000 + i,
      label: `Hard disk ${i + 1}`,
      capacityBytes: (i === 0 ? 60 : 100) * GiB,
      controllerType: 'ParaVirtualSCSIController',
      busNumber: 0,
      unitNumber: i,
      fileName: `[LocalDS_0] win2022-db01/win2022-db01_${i}.vmdk`,
      datastore: 'LocalDS_0',
      diskMode: 'persistent',
    })),
    nics: [
      {
        key: 4000,
        label: 'Network adapter 1',
        macAddress: '00:50:56:AA:BB:02',
        network: 'DB Network',
        adapterType: 'vmxnet3',
      },
    ],
  };
}

const flavors: TargetFlavor[] = [
  { id: 'f1', name: 'win.small', vcpus: 2, ramMiB: 4096, diskGiB: 50 },
  { id: 'f2', name: 'win.medium', vcpus: 4, ramMiB: 8192, diskGiB: 80 },
  { id: 'f3', name: 'win.large', vcpus: 8, ramMiB: 16384, diskGiB: 120 },
  { id: 'f4', name: 'win.bfv', vcpus: 4, ramMiB: 8192, diskGiB: 0 },
];

export function inventory(vm: SourceVm | undefined): Inventory {
  return {
    vm,
    flavors,
    networks: [
      { id: 'net-1', name: 'lab-net', subnets: [{ id: 'sub-1', name: 'lab-subnet', cidr: '10.10.0.0/24' }] },
      {
        id: 'net-2',
        name: 'lab-db-net',
        subnets: [{ id: 'sub-2', name: 'lab-db-subnet', cidr: '10.20.0.0/24' }],
      },
    ],
  };
}

export function config(yamlVm = '', defaults = ''): VmMigrationConfig {
  return resolved(yamlVm, defaults).vms[0]!;
}

/** A plan file with one VM (named `vm`) and the lab's networks and ISO, resolved. */
export function resolved(yamlVm = '', defaults = ''): ResolvedPlan {
  const text = `version: 1
source: {}
target: { cloud: v2o-lab }
defaults:
  drivers: { virtioWin: { url: "http://127.0.0.1:1/virtio-win.iso", sha256: "${'a'.repeat(64)}" } }
  networks:
    - { portGroup: VM Network, network: lab-net }
    - { portGroup: DB Network, network: lab-db-net }
${defaults}
vms:
  - name: vm
${yamlVm}`;
  return parsePlanText(text);
}
