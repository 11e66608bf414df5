import { describe, expect, it } from 'vitest';
import { GuestParseError, parseGuestFacts } from '../../../../src/migration/guest/parse.js';
import {
  ps,
  WIN2012R2_STDERR,
  WIN2022_STDERR,
  win2012r2,
  win2019Dhcp,
  win2022Static01,
} from './capture-fixtures.js';

const at = '2026-12-02T01:00:00.000Z';
const GiB = 1024 ** 3;

describe('parseGuestFacts', () => {
  it('reads the issue §3 machine (5.1, two static adapters, E: offline, a ghost)', () => {
    const f = parseGuestFacts(win2022Static01(), { output: WIN2022_STDERR, capturedAt: at });
    expect(f).toMatchObject({
      capturedAt: at,
      hostname: 'WIN2022-STATIC01',
      powershellVersion: '5.1',
      languageMode: 'FullLanguage',
      deviceInstallBlocked: false,
      sourceUuid: '4223a1b2-c3d4-e5f6-0718-293a4b5c6d7e',
      domainController: false,
      partOfDomain: true,
      pendingReboot: [],
      fastStartup: false,
      hibernation: false,
      realTimeIsUniversal: false,
      bitlocker: [],
      teams: [],
      sanPolicy: 'OfflineShared',
      systemFreeBytes: 41 * GiB,
      gaps: [],
    });
    expect(f.executionPolicyByGpo).toBeUndefined();
    expect(f.adapters).toEqual([
      {
        name: 'Prod LAN',
        description: 'vmxnet3 Ethernet Adapter',
        mac: '00:50:56:a1:30:01',
        ifIndex: 4,
        status: 'Up',
        dhcp: false,
        ipv4: [
          { address: '192.0.2.41', prefixLength: 24 },
          { address: '192.0.2.42', prefixLength: 24 },
        ],
        ipv6: [],
        gateways: [{ nextHop: '192.0.2.1', metric: 256 }],
        routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254', metric: 256 }],
        dnsServers: ['192.0.2.53', '192.0.2.54'],
        dnsSuffix: 'corp.example',
        registerInDns: true,
        mtu: 1500,
        category: 'DomainAuthenticated',
      },
      {
        name: 'Backup',
        description: 'Intel(R) 82574L Gigabit Network Connection',
        mac: '00:50:56:a1:30:02',
        ifIndex: 7,
        status: 'Up',
        dhcp: false,
        ipv4: [{ address: '198.51.100.41', prefixLength: 24 }],
        ipv6: [],
        gateways: [],
        routes: [],
        dnsServers: [],
        registerInDns: false,
        mtu: 1500,
        category: 'Private',
      },
    ]);
    expect(f.ghostAdapters).toEqual([
      {
        name: 'vmxnet3 Ethernet Adapter #2',
        description: 'vmxnet3 Ethernet Adapter',
        instanceId: 'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A12F0000',
      },
    ]);
    expect(
      f.disks.map((d) => ({ n: d.number, online: d.online, letters: d.volumes.map((v) => v.driveLetter) })),
    ).toEqual([
      { n: 0, online: true, letters: [undefined, 'C'] },
      { n: 1, online: false, letters: ['E'] },
    ]);
    // The EFI partition's volume has no letter ("\u0000" / null); the MSR partition has no volume.
    expect(f.disks[0]!.volumes).toHaveLength(2);
    expect(f.disks[1]).toMatchObject({ system: false, boot: false, partitionStyle: 'GPT', dynamic: false });
    expect(f.disks[1]!.volumes[0]).toEqual({
      guid: '\\\\?\\Volume{9b2d0e11-0000-0000-0000-300000000000}\\',
      driveLetter: 'E',
      label: 'Data',
      fileSystem: 'NTFS',
      sizeBytes: 21339553792,
      freeBytes: 20 * GiB,
    });
  });

  it('reads a single-adapter 5.1 guest whose lists are bare objects; enums as names too', () => {
    const f = parseGuestFacts(win2019Dhcp(), { output: '', capturedAt: at });
    expect(f.adapters).toHaveLength(1);
    expect(f.adapters[0]).toMatchObject({
      name: 'Ethernet0',
      mac: '00:50:56:aa:bb:01',
      dhcp: true,
      ipv4: [{ address: '10.10.0.23', prefixLength: 24 }],
      gateways: [],
      dnsServers: ['10.10.0.2'],
      dnsSuffix: 'lab.example',
      category: 'Public',
    });
    expect(f.ghostAdapters).toEqual([]);
    expect(f.disks).toEqual([
      expect.objectContaining({
        number: 0,
        partitionStyle: 'MBR',
        volumes: [expect.objectContaining({ driveLetter: 'C' })],
      }),
    ]);
    expect(f.sanPolicy).toBe('OnlineAll');
    expect(f.realTimeIsUniversal).toBe(true);
    expect(f.bitlocker).toEqual([{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }]);
    expect(f.systemFreeBytes).toBe(3 * GiB);
    expect(f.gaps).toEqual([]);
  });

  it('reads a 4.0 guest (2012 R2): SAN policy from the registry (unset: OfflineShared), ghosts a gap', () => {
    const f = parseGuestFacts(win2012r2(), { output: WIN2012R2_STDERR, capturedAt: at });
    expect(f.powershellVersion).toBe('4.0');
    expect(f.sanPolicy).toBe('OfflineShared');
    expect(f.bitlocker).toEqual([]);
    expect(f.gaps).toEqual([
      { part: 'ghosts', reason: expect.stringContaining("The term 'Get-PnpDevice' is not recognized") },
    ]);
    // Without the run's stderr (v2o starts PowerShell itself, so none comes back): what 4.0 lacks.
    expect(parseGuestFacts(win2012r2(), { capturedAt: at }).gaps).toEqual([
      { part: 'ghosts', reason: 'Get-PnpDevice does not exist in Windows PowerShell 4.0' },
    ]);
    const set = parseGuestFacts(
      { ...win2012r2(), 'reg-sanpolicy': ps({ SanPolicy: 1 }) },
      { output: WIN2012R2_STDERR, capturedAt: at },
    );
    expect(set.sanPolicy).toBe('OnlineAll');
  });

  it('unwraps {value:[…],Count:n} arrays, at the top and in a property', () => {
    const files = win2022Static01();
    files.dnsservers = `\uFEFF${JSON.stringify({
      value: [{ InterfaceIndex: 4, AddressFamily: 2, ServerAddresses: { value: ['192.0.2.53'], Count: 1 } }],
      Count: 1,
    })}`;
    const f = parseGuestFacts(files, { output: WIN2022_STDERR, capturedAt: at });
    expect(f.adapters[0]!.dnsServers).toEqual(['192.0.2.53']);
  });

  it('reads the readiness signals: DC, pending reboot, fast startup, hiberfil, GPO policies, teams, VLAN, LDM', () => {
    const files: Record<string, string | undefined> = {
      ...win2022Static01(),
      computer: ps({ Name: 'DC01', DomainRole: 5, PartOfDomain: true, Domain: 'corp.example' }),
      languagemode: ps('ConstrainedLanguage'),
      'key-cbs': ps(true),
      'key-wu': ps(true),
      'reg-sessionmanager': ps({ PendingFileRenameOperations: ['\\??\\C:\\x.tmp', ''] }),
      'reg-power': ps({ HiberbootEnabled: 1 }),
      'key-hiberfil': ps(true),
      'reg-pspolicy': ps({ EnableScripts: 1, ExecutionPolicy: 'AllSigned' }),
      'reg-deviceinstall': ps({ DenyUnspecified: 1 }),
      teams: ps({ Name: 'Team1', Members: ['Ethernet0', 'Ethernet1'], TeamingMode: 0 }),
      ldm: ps([{ DiskIndex: 0, Type: 'Logical Disk Manager', BootPartition: true }]),
    };
    const adapters = JSON.parse(files.adapters!.slice(1));
    adapters[0].VlanID = 20;
    files.adapters = ps(adapters);
    const f = parseGuestFacts(files, { output: WIN2022_STDERR, capturedAt: at });
    expect(f).toMatchObject({
      domainController: true,
      languageMode: 'ConstrainedLanguage',
      pendingReboot: ['CBS', 'WindowsUpdate', 'PendingFileRenameOperations'],
      fastStartup: true,
      hibernation: true,
      executionPolicyByGpo: 'AllSigned',
      deviceInstallBlocked: true,
      teams: [{ name: 'Team1', members: ['Ethernet0', 'Ethernet1'] }],
    });
    expect(f.adapters[0]!.vlanId).toBe(20);
    expect(f.disks[0]!.dynamic).toBe(true);
    expect(
      parseGuestFacts({ ...files, 'reg-pspolicy': ps({ EnableScripts: 0 }) }, { output: '', capturedAt: at })
        .executionPolicyByGpo,
    ).toBe('Restricted');
  });

  it('a depth-truncated string where an object belongs, or JSON that is not, names the file', () => {
    const files = win2022Static01();
    files.disks = ps([
      'MSFT_Disk (ObjectId = "{1}\\\\WIN2022\\root/Microsoft/Windows/Storage/Providers_v2\\SPACES_Disk.ObjectId=...")',
    ]);
    expect(() => parseGuestFacts(files, { output: '', capturedAt: at })).toThrow(GuestParseError);
    expect(() => parseGuestFacts(files, { output: '', capturedAt: at })).toThrow(
      /disks\.json .*where an object was expected/,
    );
    const dns = win2022Static01();
    dns.dnsservers = ps([{ InterfaceIndex: 4, AddressFamily: 2, ServerAddresses: 'System.String[]' }]);
    expect(() => parseGuestFacts(dns, { capturedAt: at })).toThrow(
      /dnsservers\.json .*ServerAddresses is "System.String\[\]"/,
    );
    files.disks = '\uFEFF{ "Number": 0, ';
    expect(() => parseGuestFacts(files, { output: '', capturedAt: at })).toThrow(
      /disks\.json does not parse/,
    );
  });

  it('a part that wrote nothing at all is a gap with Windows’ words', () => {
    const files = { ...win2022Static01(), teams: undefined };
    const f = parseGuestFacts(files, {
      output: `Get-NetLbfoTeam : Access denied\r\n${WIN2022_STDERR}`,
      capturedAt: at,
    });
    expect(f.gaps).toEqual([{ part: 'teams', reason: 'Get-NetLbfoTeam : Access denied' }]);
  });
});
