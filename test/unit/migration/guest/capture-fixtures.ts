// Capture files as Windows PowerShell writes them (contract §A): `ConvertTo-Json -Depth 4` then
// `Out-File -Encoding utf8` (a BOM on 5.1), one object bare, none an empty file, enums as integers,
// a cmdlet that does not exist: no file and Windows' words on stderr.
const BOM = '\uFEFF';

/** ConvertTo-Json's way with a list: bare when one object, nothing when none. */
export function ps(v: unknown[] | unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '';
    return `${BOM}${JSON.stringify(v.length === 1 ? v[0] : v, null, 4)}\r\n`;
  }
  return `${BOM}${JSON.stringify(v, null, 4)}\r\n`;
}

const GiB = 1024 ** 3;
const vol = (id: string) => `\\\\?\\Volume{${id}}\\`;
const C_VOL = vol('4a1c7f5e-0000-0000-0000-100000000000');
const EFI_VOL = vol('4a1c7f5e-0000-0000-0000-200000000000');
const E_VOL = vol('9b2d0e11-0000-0000-0000-300000000000');

const notRecognized = (cmdlet: string) =>
  `${cmdlet} : The term '${cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`;

/** The issue's §3 machine: Server 2022, PowerShell 5.1, two static adapters, E: offline data disk, a ghost. */
export function win2022Static01(): Record<string, string | undefined> {
  return {
    psversion: ps({
      Major: 5,
      Minor: 1,
      Build: 20348,
      Revision: 2849,
      MajorRevision: 0,
      MinorRevision: 2849,
    }),
    languagemode: ps(0),
    computer: ps({
      Name: 'WIN2022-STATIC01',
      Manufacturer: 'VMware, Inc.',
      Model: 'VMware7,1',
      DomainRole: 3,
      PartOfDomain: true,
      Domain: 'corp.example',
    }),
    product: ps({ UUID: '4223A1B2-C3D4-E5F6-0718-293A4B5C6D7E' }),
    adapters: ps([
      {
        Name: 'Prod LAN',
        InterfaceDescription: 'vmxnet3 Ethernet Adapter',
        InterfaceGuid: '{6A8F2E10-1111-4C3B-9D00-000000000001}',
        MacAddress: '00-50-56-A1-30-01',
        ifIndex: 4,
        Status: 'Up',
        MtuSize: 1500,
        VlanID: 0,
      },
      {
        Name: 'Backup',
        InterfaceDescription: 'Intel(R) 82574L Gigabit Network Connection',
        InterfaceGuid: '{6A8F2E10-2222-4C3B-9D00-000000000002}',
        MacAddress: '00-50-56-A1-30-02',
        ifIndex: 7,
        Status: 'Up',
        MtuSize: 1500,
        VlanID: 0,
      },
    ]),
    ghosts: ps([
      {
        FriendlyName: 'vmxnet3 Ethernet Adapter',
        InstanceId: 'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1300100',
        Status: 'OK',
        Present: true,
      },
      {
        FriendlyName: 'Intel(R) 82574L Gigabit Network Connection',
        InstanceId: 'PCI\\VEN_8086&DEV_10D3&SUBSYS_07D015AD&REV_00\\000C29FFFF3002',
        Status: 'OK',
        Present: true,
      },
      {
        FriendlyName: 'vmxnet3 Ethernet Adapter #2',
        InstanceId: 'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A12F0000',
        Status: 'Unknown',
        Present: false,
      },
      {
        FriendlyName: 'WAN Miniport (IP)',
        InstanceId: 'SWD\\MSRRAS\\MS_NDISWANIP',
        Status: 'OK',
        Present: true,
      },
    ]),
    ipinterfaces: ps([
      { InterfaceIndex: 4, InterfaceAlias: 'Prod LAN', AddressFamily: 23, Dhcp: 1, NlMtu: 1500 },
      { InterfaceIndex: 7, InterfaceAlias: 'Backup', AddressFamily: 23, Dhcp: 1, NlMtu: 1500 },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        AddressFamily: 23,
        Dhcp: 0,
        NlMtu: 4294967295,
      },
      { InterfaceIndex: 4, InterfaceAlias: 'Prod LAN', AddressFamily: 2, Dhcp: 0, NlMtu: 1500 },
      { InterfaceIndex: 7, InterfaceAlias: 'Backup', AddressFamily: 2, Dhcp: 0, NlMtu: 1500 },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        AddressFamily: 2,
        Dhcp: 0,
        NlMtu: 4294967295,
      },
    ]),
    ipaddresses: ps([
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 23,
        IPAddress: 'fe80::8d4c:1a2b:3c4d:5e6f%4',
        PrefixLength: 64,
        PrefixOrigin: 2,
        SuffixOrigin: 4,
      },
      {
        InterfaceIndex: 7,
        InterfaceAlias: 'Backup',
        AddressFamily: 23,
        IPAddress: 'fe80::11aa:22bb:33cc:44dd%7',
        PrefixLength: 64,
        PrefixOrigin: 2,
        SuffixOrigin: 4,
      },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        AddressFamily: 23,
        IPAddress: '::1',
        PrefixLength: 128,
        PrefixOrigin: 2,
        SuffixOrigin: 2,
      },
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 2,
        IPAddress: '192.0.2.41',
        PrefixLength: 24,
        PrefixOrigin: 1,
        SuffixOrigin: 1,
      },
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 2,
        IPAddress: '192.0.2.42',
        PrefixLength: 24,
        PrefixOrigin: 1,
        SuffixOrigin: 1,
      },
      {
        InterfaceIndex: 7,
        InterfaceAlias: 'Backup',
        AddressFamily: 2,
        IPAddress: '198.51.100.41',
        PrefixLength: 24,
        PrefixOrigin: 1,
        SuffixOrigin: 1,
      },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        AddressFamily: 2,
        IPAddress: '127.0.0.1',
        PrefixLength: 8,
        PrefixOrigin: 2,
        SuffixOrigin: 2,
      },
    ]),
    routes: ps([
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 2,
        DestinationPrefix: '0.0.0.0/0',
        NextHop: '192.0.2.1',
        RouteMetric: 256,
      },
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 2,
        DestinationPrefix: '203.0.113.0/24',
        NextHop: '192.0.2.254',
        RouteMetric: 256,
      },
    ]),
    dnsservers: ps([
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        AddressFamily: 2,
        ServerAddresses: ['192.0.2.53', '192.0.2.54'],
      },
      { InterfaceIndex: 4, InterfaceAlias: 'Prod LAN', AddressFamily: 23, ServerAddresses: [] },
      { InterfaceIndex: 7, InterfaceAlias: 'Backup', AddressFamily: 2, ServerAddresses: [] },
      { InterfaceIndex: 7, InterfaceAlias: 'Backup', AddressFamily: 23, ServerAddresses: [] },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        AddressFamily: 23,
        ServerAddresses: ['fec0:0:0:ffff::1', 'fec0:0:0:ffff::2', 'fec0:0:0:ffff::3'],
      },
    ]),
    dnsclients: ps([
      {
        InterfaceIndex: 4,
        InterfaceAlias: 'Prod LAN',
        ConnectionSpecificSuffix: 'corp.example',
        RegisterThisConnectionsAddress: true,
      },
      {
        InterfaceIndex: 7,
        InterfaceAlias: 'Backup',
        ConnectionSpecificSuffix: '',
        RegisterThisConnectionsAddress: false,
      },
      {
        InterfaceIndex: 1,
        InterfaceAlias: 'Loopback Pseudo-Interface 1',
        ConnectionSpecificSuffix: '',
        RegisterThisConnectionsAddress: true,
      },
    ]),
    profiles: ps([
      { InterfaceIndex: 4, InterfaceAlias: 'Prod LAN', NetworkCategory: 2 },
      { InterfaceIndex: 7, InterfaceAlias: 'Backup', NetworkCategory: 1 },
    ]),
    teams: '',
    disks: ps([
      {
        Number: 0,
        IsOffline: false,
        OfflineReason: null,
        IsSystem: true,
        IsBoot: true,
        PartitionStyle: 2,
        Size: 60 * GiB,
      },
      {
        Number: 1,
        IsOffline: true,
        OfflineReason: 2,
        IsSystem: false,
        IsBoot: false,
        PartitionStyle: 2,
        Size: 20 * GiB,
      },
    ]),
    partitions: ps([
      { DiskNumber: 0, PartitionNumber: 1, DriveLetter: '\u0000', AccessPaths: [EFI_VOL], Size: 104857600 },
      { DiskNumber: 0, PartitionNumber: 2, DriveLetter: '\u0000', AccessPaths: null, Size: 16777216 },
      {
        DiskNumber: 0,
        PartitionNumber: 3,
        DriveLetter: 'C',
        AccessPaths: ['C:\\', C_VOL],
        Size: 64299679744,
      },
      {
        DiskNumber: 1,
        PartitionNumber: 2,
        DriveLetter: 'E',
        AccessPaths: ['E:\\', E_VOL],
        Size: 21339553792,
      },
    ]),
    volumes: ps([
      {
        DriveLetter: 'C',
        FileSystemLabel: '',
        FileSystem: 'NTFS',
        Size: 64299679744,
        SizeRemaining: 41 * GiB,
        Path: C_VOL,
      },
      {
        DriveLetter: null,
        FileSystemLabel: '',
        FileSystem: 'FAT32',
        Size: 100663296,
        SizeRemaining: 70000000,
        Path: EFI_VOL,
      },
      {
        DriveLetter: 'E',
        FileSystemLabel: 'Data',
        FileSystem: 'NTFS',
        Size: 21339553792,
        SizeRemaining: 20 * GiB,
        Path: E_VOL,
      },
    ]),
    ldm: ps([
      { DiskIndex: 0, Type: 'GPT: System', BootPartition: true },
      { DiskIndex: 0, Type: 'GPT: Unknown', BootPartition: false },
      { DiskIndex: 0, Type: 'GPT: Basic Data', BootPartition: false },
      { DiskIndex: 1, Type: 'GPT: Basic Data', BootPartition: false },
    ]),
    storagesetting: ps({ NewDiskPolicy: 2 }),
    bitlocker: undefined,
    'reg-sanpolicy': '',
    'reg-tz': '',
    'reg-power': ps({ HiberbootEnabled: 0 }),
    'reg-hibernate': ps({ HibernateEnabled: 0 }),
    'reg-sessionmanager': ps({ PendingFileRenameOperations: null }),
    'reg-pspolicy': '',
    'reg-deviceinstall': '',
    'key-cbs': ps(false),
    'key-wu': ps(false),
    'key-ntds': ps(false),
    'key-hiberfil': ps(false),
  };
}

export const WIN2022_STDERR = notRecognized('Get-BitLockerVolume');

/** A one-NIC 2019 guest on DHCP: every list is a single object, written bare. */
export function win2019Dhcp(): Record<string, string | undefined> {
  const f = win2022Static01();
  return {
    ...f,
    psversion: ps({ Major: 5, Minor: 1, Build: 17763, Revision: 1, MajorRevision: 0, MinorRevision: 1 }),
    computer: ps({
      Name: 'WIN2019-APP01',
      Manufacturer: 'VMware, Inc.',
      Model: 'VMware Virtual Platform',
      DomainRole: 2,
      PartOfDomain: false,
      Domain: 'WORKGROUP',
    }),
    product: ps({ UUID: '564D0000-1111-2222-3333-444455556666' }),
    adapters: ps([
      {
        Name: 'Ethernet0',
        InterfaceDescription: 'vmxnet3 Ethernet Adapter',
        InterfaceGuid: '{0}',
        MacAddress: '00-50-56-AA-BB-01',
        ifIndex: 6,
        Status: 'Up',
        MtuSize: 1500,
        VlanID: 0,
      },
    ]),
    ghosts: ps([
      {
        FriendlyName: 'vmxnet3 Ethernet Adapter',
        InstanceId: 'PCI\\VEN_15AD&DEV_07B0\\1',
        Status: 'OK',
        Present: true,
      },
    ]),
    ipinterfaces: ps([
      { InterfaceIndex: 6, InterfaceAlias: 'Ethernet0', AddressFamily: 2, Dhcp: 1, NlMtu: 1500 },
    ]),
    ipaddresses: ps([
      {
        InterfaceIndex: 6,
        InterfaceAlias: 'Ethernet0',
        AddressFamily: 2,
        IPAddress: '10.10.0.23',
        PrefixLength: 24,
        PrefixOrigin: 3,
        SuffixOrigin: 3,
      },
    ]),
    routes: '',
    // A list property keeps its brackets even with one element.
    dnsservers: ps([
      { InterfaceIndex: 6, InterfaceAlias: 'Ethernet0', AddressFamily: 2, ServerAddresses: ['10.10.0.2'] },
    ]),
    dnsclients: ps([
      {
        InterfaceIndex: 6,
        InterfaceAlias: 'Ethernet0',
        ConnectionSpecificSuffix: 'lab.example',
        RegisterThisConnectionsAddress: true,
      },
    ]),
    profiles: ps([{ InterfaceIndex: 6, InterfaceAlias: 'Ethernet0', NetworkCategory: 0 }]),
    disks: ps([
      {
        Number: 0,
        IsOffline: false,
        OfflineReason: null,
        IsSystem: true,
        IsBoot: true,
        PartitionStyle: 1,
        Size: 40 * GiB,
      },
    ]),
    partitions: ps([
      { DiskNumber: 0, PartitionNumber: 1, DriveLetter: 'C', AccessPaths: ['C:\\', C_VOL], Size: 40 * GiB },
    ]),
    volumes: ps([
      {
        DriveLetter: 'C',
        FileSystemLabel: '',
        FileSystem: 'NTFS',
        Size: 40 * GiB,
        SizeRemaining: 3 * GiB,
        Path: C_VOL,
      },
    ]),
    ldm: ps([{ DiskIndex: 0, Type: 'Installable File System', BootPartition: true }]),
    storagesetting: ps({ NewDiskPolicy: 'OnlineAll' }),
    'reg-tz': ps({ RealTimeIsUniversal: 1 }),
    bitlocker: ps([{ MountPoint: 'C:', ProtectionStatus: 1, VolumeStatus: 1 }]),
  };
}

/** Server 2012 R2: PowerShell 4.0, no Get-PnpDevice nor Get-StorageSetting; SanPolicy unset in the registry. */
export function win2012r2(): Record<string, string | undefined> {
  const f = win2019Dhcp();
  return {
    ...f,
    psversion: ps({ Major: 4, Minor: 0, Build: -1, Revision: -1, MajorRevision: -1, MinorRevision: -1 }),
    computer: ps({
      Name: 'WIN2012R2-01',
      Manufacturer: 'VMware, Inc.',
      Model: 'VMware Virtual Platform',
      DomainRole: 2,
      PartOfDomain: false,
      Domain: 'WORKGROUP',
    }),
    ghosts: undefined,
    storagesetting: undefined,
    bitlocker: undefined,
    'reg-sanpolicy': '',
    'reg-tz': '',
  };
}

export const WIN2012R2_STDERR = [
  notRecognized('Get-PnpDevice'),
  notRecognized('Get-StorageSetting'),
  notRecognized('Get-BitLockerVolume'),
].join('\r\n');
