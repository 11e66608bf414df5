// Hand-written inventory shaped like the labs' VMs and cloud.
import type { GuestAdapter, GuestFacts } from '../../../src/migration/guest/facts.js';
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

/** The guest facts of the lab's win2022-static01 (issue 13 §3), as the capture parses them. */
export function staticFacts(): GuestFacts {
  const adapter = (over: Partial<GuestAdapter>): GuestAdapter => ({
    name: 'Ethernet0',
    description: 'vmxnet3 Ethernet Adapter',
    mac: '00:50:56:a1:30:01',
    ifIndex: 4,
    status: 'Up',
    dhcp: false,
    ipv4: [],
    ipv6: [],
    gateways: [],
    routes: [],
    dnsServers: [],
    registerInDns: true,
    mtu: 1500,
    category: 'DomainAuthenticated',
    vlanId: 0,
    ...over,
  });
  return {
    capturedAt: '2026-12-01T10:00:00Z',
    hostname: 'WIN2022-STATIC01',
    powershellVersion: '5.1',
    languageMode: 'FullLanguage',
    deviceInstallBlocked: false,
    sourceUuid: '4201aaaa-bbbb-cccc-dddd-eeeeffff0001',
    domainController: false,
    partOfDomain: true,
    pendingReboot: [],
    fastStartup: false,
    hibernation: false,
    realTimeIsUniversal: false,
    bitlocker: [],
    adapters: [
      adapter({
        name: 'Prod LAN',
        ipv4: [
          { address: '192.0.2.41', prefixLength: 24 },
          { address: '192.0.2.42', prefixLength: 24 },
        ],
        gateways: [{ nextHop: '192.0.2.1', metric: 256 }],
        routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254', metric: 256 }],
        dnsServers: ['192.0.2.53', '192.0.2.54'],
        dnsSuffix: 'corp.example',
      }),
      adapter({
        name: 'Backup',
        description: 'Intel(R) 82574L Gigabit Network Connection',
        mac: '00:50:56:a1:30:02',
        ifIndex: 6,
        ipv4: [{ address: '198.51.100.41', prefixLength: 24 }],
        registerInDns: false,
      }),
    ],
    ghostAdapters: [
      {
        name: 'Ethernet1',
        description: 'vmxnet3 Ethernet Adapter #2',
        instanceId: 'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1309900',
      },
    ],
    teams: [],
    disks: [
      {
        number: 0,
        online: true,
        system: true,
        boot: true,
        partitionStyle: 'GPT',
        sizeBytes: 60 * GiB,
        dynamic: false,
        volumes: [
          {
            guid: '\\\\?\\Volume{11111111-0000-0000-0000-000000000001}\\',
            driveLetter: 'C',
            fileSystem: 'NTFS',
            sizeBytes: 59 * GiB,
            freeBytes: 30 * GiB,
          },
        ],
      },
      {
        number: 1,
        online: true,
        system: false,
        boot: false,
        partitionStyle: 'GPT',
        sizeBytes: 10 * GiB,
        dynamic: false,
        volumes: [
          {
            guid: '\\\\?\\Volume{22222222-0000-0000-0000-000000000002}\\',
            driveLetter: 'E',
            label: 'Data',
            fileSystem: 'NTFS',
            sizeBytes: 10 * GiB,
            freeBytes: 9 * GiB,
          },
        ],
      },
    ],
    sanPolicy: 'OfflineShared',
    systemFreeBytes: 30 * GiB,
    gaps: [],
  };
}

/** The lab VM win2022-static01: NIC 1 vmxnet3 on "VM Network", NIC 2 e1000e on "DB Network", two disks. */
export function static2022(): SourceVm {
  const vm = efi2022();
  return {
    ...vm,
    name: 'win2022-static01',
    disks: vm.disks.slice(0, 2),
    nics: [
      {
        key: 4000,
        label: 'Network adapter 1',
        macAddress: '00:50:56:a1:30:01',
        network: 'VM Network',
        adapterType: 'vmxnet3',
      },
      {
        key: 4001,
        label: 'Network adapter 2',
        macAddress: '00:50:56:a1:30:02',
        network: 'DB Network',
        adapterType: 'e1000e',
      },
    ],
  };
}

/** The lab cloud of issue 13 §E: lab-net 192.0.2.0/24, lab-db-net 198.51.100.0/24. */
export function staticInventory(): Inventory {
  return {
    vm: static2022(),
    flavors,
    networks: [
      {
        id: 'net-1',
        name: 'lab-net',
        mtu: 1500,
        subnets: [{ id: 'sub-1', name: 'lab-subnet', cidr: '192.0.2.0/24' }],
      },
      {
        id: 'net-2',
        name: 'lab-db-net',
        mtu: 1500,
        subnets: [{ id: 'sub-2', name: 'lab-db-subnet', cidr: '198.51.100.0/24' }],
      },
    ],
    guest: staticFacts(),
    macsInUse: {},
    addressesInUse: {},
  };
}
