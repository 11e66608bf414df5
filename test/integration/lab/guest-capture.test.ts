// The simulated Windows guest answers issue 13's capture (contract §A) as Windows PowerShell
// does: the statements run through the guest operations API on win2022-static01 (and the 2012 R2
// guest for PowerShell 4.0), the JSON files are read back and checked byte for byte where the
// quirks live (BOM, bare single objects, enums as integers, 5.1's layout), then the knobs
// (BitLocker, language mode, GPO execution policy, network, disks) and the pre-shutdown commands.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachIso } from '../../../src/vsphere/objects/cdrom.js';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { downloadFromGuest, makeGuestDirectory, runInGuest } from '../../../src/vsphere/objects/guest.js';
import { findVmByName, powerOff } from '../../../src/vsphere/objects/vm.js';
import type { MoRef } from '../../../src/vsphere/types.js';
import { env, guestCreds, hook, labClient, manifest, resetVm } from '../vsphere/lab.js';

const STATIC = env.V2O_LAB_VSPHERE_VM_STATIC ?? 'win2022-static01';
const LEGACY = env.V2O_LAB_VSPHERE_VM_2012R2 ?? 'win2012r2-legacy01';
const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const CMD = 'C:\\Windows\\System32\\cmd.exe';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// Contract §A: name, SOURCE, properties.
const PARTS: [string, string, string?][] = [
  ['psversion', '$PSVersionTable.PSVersion'],
  ['languagemode', '$ExecutionContext.SessionState.LanguageMode'],
  [
    'computer',
    'Get-CimInstance -ClassName Win32_ComputerSystem',
    'Name,Manufacturer,Model,DomainRole,PartOfDomain,Domain',
  ],
  ['product', 'Get-CimInstance -ClassName Win32_ComputerSystemProduct', 'UUID'],
  [
    'adapters',
    'Get-NetAdapter',
    'Name,InterfaceDescription,InterfaceGuid,MacAddress,ifIndex,Status,MtuSize,VlanID',
  ],
  ['ghosts', 'Get-PnpDevice -Class Net', 'FriendlyName,InstanceId,Status,Present'],
  ['ipinterfaces', 'Get-NetIPInterface', 'InterfaceIndex,InterfaceAlias,AddressFamily,Dhcp,NlMtu'],
  [
    'ipaddresses',
    'Get-NetIPAddress',
    'InterfaceIndex,InterfaceAlias,AddressFamily,IPAddress,PrefixLength,PrefixOrigin,SuffixOrigin',
  ],
  [
    'routes',
    'Get-NetRoute -PolicyStore PersistentStore',
    'InterfaceIndex,InterfaceAlias,AddressFamily,DestinationPrefix,NextHop,RouteMetric',
  ],
  ['dnsservers', 'Get-DnsClientServerAddress', 'InterfaceIndex,InterfaceAlias,AddressFamily,ServerAddresses'],
  [
    'dnsclients',
    'Get-DnsClient',
    'InterfaceIndex,InterfaceAlias,ConnectionSpecificSuffix,RegisterThisConnectionsAddress',
  ],
  ['profiles', 'Get-NetConnectionProfile', 'InterfaceIndex,InterfaceAlias,NetworkCategory'],
  ['teams', 'Get-NetLbfoTeam', 'Name,Members,TeamingMode'],
  ['disks', 'Get-Disk', 'Number,IsOffline,OfflineReason,IsSystem,IsBoot,PartitionStyle,Size'],
  ['partitions', 'Get-Partition', 'DiskNumber,PartitionNumber,DriveLetter,AccessPaths,Size'],
  ['volumes', 'Get-Volume', 'DriveLetter,FileSystemLabel,FileSystem,Size,SizeRemaining,Path'],
  ['ldm', 'Get-CimInstance -ClassName Win32_DiskPartition', 'DiskIndex,Type,BootPartition'],
  ['storagesetting', 'Get-StorageSetting', 'NewDiskPolicy'],
  ['bitlocker', 'Get-BitLockerVolume', 'MountPoint,ProtectionStatus,VolumeStatus'],
  [
    'reg-sanpolicy',
    "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\partmgr\\Parameters'",
    'SanPolicy',
  ],
  [
    'reg-pspolicy',
    "Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell'",
    'EnableScripts,ExecutionPolicy',
  ],
  [
    'reg-tz',
    "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation'",
    'RealTimeIsUniversal',
  ],
  [
    'reg-power',
    "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Power'",
    'HiberbootEnabled',
  ],
  [
    'reg-hibernate',
    "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Power'",
    'HibernateEnabled',
  ],
  [
    'reg-sessionmanager',
    "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager'",
    'PendingFileRenameOperations',
  ],
  [
    'reg-deviceinstall',
    "Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions'",
    'DenyUnspecified,DenyDeviceClasses,DenyDeviceIDs',
  ],
  [
    'key-cbs',
    "Test-Path -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending'",
  ],
  [
    'key-wu',
    "Test-Path -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired'",
  ],
  ['key-ntds', "Test-Path -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters'"],
  ['key-hiberfil', "Test-Path -Path 'C:\\hiberfil.sys'"],
];

function script(dir: string): string {
  const lines = [`$d = '${dir}'`];
  for (const [name, src, props] of PARTS) {
    const sel = props ? ` | Select-Object ${props}` : '';
    lines.push(
      `${src}${sel} | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\${name}.json"`,
    );
  }
  return lines.join('\r\n');
}

const encode = (s: string) => Buffer.from(s, 'utf16le').toString('base64');

function getState(vm: string): Promise<Record<string, unknown>> {
  const url = new URL(`${env.V2O_LAB_VSPHERE_EXT_URL}/guest/state?vm=${encodeURIComponent(vm)}`);
  return new Promise((resolve, reject) => {
    request(url, { ca: readFileSync(env.GOVC_TLS_CA_CERTS!) }, (res) => {
      let t = '';
      res.on('data', (c) => (t += c));
      res.on('end', () => resolve(JSON.parse(t)));
    })
      .on('error', reject)
      .end();
  });
}

let client: VSphereClient;
const refs: Record<string, MoRef> = {};
let n = 0;

/** Runs the capture; returns the files (undefined = not written), exit code and the run's stderr. */
async function capture(vm: string) {
  const dir = `C:\\Windows\\Temp\\v2o-capture-${(0x1a2b3c00 + n++).toString(16)}`;
  await makeGuestDirectory(client, refs[vm]!, guestCreds(), dir);
  const r = await runInGuest(client, refs[vm]!, guestCreds(), {
    program: PS,
    args: `-NoProfile -NonInteractive -EncodedCommand ${encode(script(dir))}`,
    pollIntervalMs: 50,
  });
  const files: Record<string, Buffer | undefined> = {};
  for (const [name] of PARTS) {
    files[name] = await downloadFromGuest(client, refs[vm]!, guestCreds(), `${dir}\\${name}.json`).catch(
      () => undefined,
    );
  }
  const history = (await getState(vm)).history as { stderr: string; program: string }[];
  const stderr = history.at(-1)!.stderr;
  const kept = await runInGuest(client, refs[vm]!, guestCreds(), {
    program: CMD,
    args: `/c rmdir ${dir}`,
    pollIntervalMs: 50,
  });
  expect(kept.exitCode).toBe(145); // not empty: rd needs /S
  const rm = await runInGuest(client, refs[vm]!, guestCreds(), {
    program: CMD,
    args: `/c rmdir /S /Q ${dir}`,
    pollIntervalMs: 50,
  });
  expect(rm.exitCode).toBe(0);
  const gone = await downloadFromGuest(client, refs[vm]!, guestCreds(), `${dir}\\psversion.json`).then(
    () => false,
    () => true,
  );
  expect(gone).toBe(true);
  return { files, exitCode: r.exitCode, stderr };
}

const text = (b: Buffer | undefined) => {
  expect(b, 'file written').toBeDefined();
  expect(b!.subarray(0, 3).equals(BOM), 'UTF-8 BOM (Out-File -Encoding utf8, PowerShell 5.1)').toBe(true);
  return b!.subarray(3).toString('utf8');
};
const json = (b: Buffer | undefined) => JSON.parse(text(b));

async function ps(vm: string, body: string) {
  return runInGuest(client, refs[vm]!, guestCreds(), {
    program: PS,
    args: `-NoProfile -NonInteractive -EncodedCommand ${encode(body)}`,
    pollIntervalMs: 50,
  });
}

beforeAll(async () => {
  client = await labClient();
  for (const vm of [STATIC, LEGACY]) {
    await resetVm(vm);
    refs[vm] = await findVmByName(client, vm);
  }
});
afterAll(async () => {
  for (const vm of [STATIC, LEGACY]) await resetVm(vm).catch(() => undefined);
  await client?.close();
});

describe('guest capture on win2022-static01 (Windows PowerShell 5.1)', () => {
  it('writes every part as Windows would, quirks included', async () => {
    const { files, exitCode, stderr } = await capture(STATIC);
    expect(exitCode).toBe(0); // the last statement (Test-Path) succeeded

    // System.Version: all six properties, one object → bare.
    expect(text(files.psversion)).toBe(
      '{\r\n    "Major":  5,\r\n    "Minor":  1,\r\n    "Build":  20348,\r\n    "Revision":  2849,\r\n' +
        '    "MajorRevision":  0,\r\n    "MinorRevision":  2849\r\n}\r\n',
    );
    expect(text(files.languagemode)).toBe('0\r\n'); // FullLanguage as its integer

    const computer = json(files.computer);
    expect(computer).toEqual({
      Name: 'STATIC01',
      Manufacturer: 'VMware, Inc.',
      Model: 'VMware7,1',
      DomainRole: 3,
      PartOfDomain: true,
      Domain: 'corp.example',
    });
    expect(json(files.product).UUID).toMatch(
      /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
    );

    // Get-NetAdapter: present adapters only; MAC upper case with dashes; 5.1 layout.
    const adapters = text(files.adapters);
    expect(adapters).toMatch(/^\[\r\n {4}\{\r\n {8}"Name": {2}"Prod LAN",\r\n/);
    const ad = JSON.parse(adapters);
    expect(ad.map((a: { Name: string }) => a.Name)).toEqual(['Prod LAN', 'Backup']);
    expect(ad[0]).toMatchObject({
      InterfaceDescription: 'vmxnet3 Ethernet Adapter #2',
      MacAddress: '00-50-56-A1-30-01',
      Status: 'Up',
      MtuSize: 1500,
      VlanID: 0,
    });
    expect(ad[1]).toMatchObject({
      InterfaceDescription: 'Intel(R) 82574L Gigabit Network Connection',
      MacAddress: '00-50-56-A1-30-02',
    });
    expect(ad[0].InterfaceGuid).toMatch(/^\{[0-9A-F-]{36}\}$/);

    // The ghost: Get-PnpDevice lists it with Present false, Status Unknown, by device name.
    const ghosts = json(files.ghosts) as {
      FriendlyName: string;
      InstanceId: string;
      Present: boolean;
      Status: string;
    }[];
    expect(ghosts.find((g) => !g.Present)).toEqual({
      FriendlyName: 'vmxnet3 Ethernet Adapter',
      InstanceId: 'PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1300000',
      Status: 'Unknown',
      Present: false,
    });
    expect(ghosts.some((g) => g.FriendlyName.startsWith('WAN Miniport'))).toBe(true);

    // Addresses: both statics Manual (1/1), the e1000e's, plus link-local and loopback.
    const ips = json(files.ipaddresses) as Record<string, unknown>[];
    const v4 = ips
      .filter((i) => i.AddressFamily === 2)
      .map((i) => `${i.InterfaceAlias} ${i.IPAddress}/${i.PrefixLength} ${i.PrefixOrigin}`);
    expect(v4).toEqual([
      'Prod LAN 192.0.2.41/24 1',
      'Prod LAN 192.0.2.42/24 1',
      'Backup 198.51.100.41/24 1',
      'Loopback Pseudo-Interface 1 127.0.0.1/8 2',
    ]);
    expect(ips.some((i) => i.AddressFamily === 23 && String(i.IPAddress).startsWith('fe80::'))).toBe(true);

    const ifs = json(files.ipinterfaces) as Record<string, unknown>[];
    expect(ifs.find((i) => i.InterfaceAlias === 'Prod LAN' && i.AddressFamily === 2)).toMatchObject({
      Dhcp: 0,
      NlMtu: 1500,
    });
    expect(ifs.find((i) => i.InterfaceAlias === 'Prod LAN' && i.AddressFamily === 23)).toMatchObject({
      Dhcp: 1,
    });

    const routes = json(files.routes) as Record<string, unknown>[];
    expect(
      routes.map((r) => `${r.InterfaceAlias} ${r.DestinationPrefix} ${r.NextHop} ${r.RouteMetric}`),
    ).toEqual(['Prod LAN 0.0.0.0/0 192.0.2.1 256', 'Prod LAN 203.0.113.0/24 192.0.2.254 256']);

    // ServerAddresses: an array even when empty, printed as 5.1 does ("[", empty line, "]").
    const dnsText = text(files.dnsservers);
    expect(dnsText).toContain(
      '"ServerAddresses":  [\r\n                                "192.0.2.53",\r\n                                "192.0.2.54"\r\n                            ]',
    );
    expect(dnsText).toContain('"ServerAddresses":  [\r\n\r\n                            ]');
    const dns = JSON.parse(dnsText) as Record<string, unknown>[];
    expect(dns.find((d) => d.InterfaceAlias === 'Backup' && d.AddressFamily === 23)!.ServerAddresses).toEqual(
      ['fec0:0:0:ffff::1', 'fec0:0:0:ffff::2', 'fec0:0:0:ffff::3'],
    );
    const clients = json(files.dnsclients) as Record<string, unknown>[];
    expect(clients[0]).toEqual({
      InterfaceIndex: ad[0].ifIndex,
      InterfaceAlias: 'Prod LAN',
      ConnectionSpecificSuffix: 'corp.example',
      RegisterThisConnectionsAddress: true,
    });
    const profiles = json(files.profiles) as Record<string, unknown>[];
    expect(profiles.map((p) => `${p.InterfaceAlias} ${p.NetworkCategory}`)).toEqual([
      'Prod LAN 2',
      'Backup 1',
    ]);

    // No team: ConvertTo-Json writes nothing, Out-File still creates the file (the BOM alone).
    expect(files.teams).toEqual(BOM);

    const disks = json(files.disks) as Record<string, unknown>[];
    expect(disks.map((d) => [d.Number, d.IsOffline, d.OfflineReason, d.IsSystem, d.PartitionStyle])).toEqual([
      [0, false, null, true, 1],
      [1, false, null, false, 2],
    ]);
    const parts = json(files.partitions) as Record<string, unknown>[];
    const e = parts.find((p) => p.DriveLetter === 'E')!;
    expect(e).toMatchObject({ DiskNumber: 1, PartitionNumber: 2 }); // the MSR partition is 1
    expect((e.AccessPaths as string[])[0]).toBe('E:\\');
    expect((e.AccessPaths as string[])[1]).toMatch(/^\\\\\?\\Volume\{[0-9a-f-]{36}\}\\$/);
    expect(parts.find((p) => p.DiskNumber === 1 && p.PartitionNumber === 1)).toMatchObject({
      DriveLetter: '\u0000',
      AccessPaths: null,
    });
    expect(text(files.partitions)).toContain('"DriveLetter":  "\\u0000"');
    const vols = json(files.volumes) as Record<string, unknown>[];
    expect(vols.find((v) => v.DriveLetter === 'E')).toMatchObject({
      FileSystem: 'NTFS',
      Path: (e.AccessPaths as string[])[1],
    });
    expect(vols.find((v) => v.FileSystemLabel === 'System Reserved')!.DriveLetter).toBeNull();
    expect(json(files.ldm)).toContainEqual({
      DiskIndex: 0,
      Type: 'Installable File System',
      BootPartition: true,
    });

    expect(json(files.storagesetting)).toEqual({ NewDiskPolicy: 2 });
    expect(json(files['reg-sanpolicy'])).toEqual({ SanPolicy: 2 });
    // A missing key: an error on stderr, no object, an empty (BOM-only) file.
    expect(files['reg-pspolicy']).toEqual(BOM);
    expect(stderr).toContain(
      "Get-ItemProperty : Cannot find path 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell'",
    );
    // No BitLocker feature on a Server: the cmdlet does not exist, the pipeline never ran.
    expect(files.bitlocker).toBeUndefined();
    expect(stderr).toContain("The term 'Get-BitLockerVolume' is not recognized");
    expect(text(files['key-ntds'])).toBe('false\r\n');
    expect(json(files['reg-tz'])).toEqual({ RealTimeIsUniversal: null });
    expect(json(files['reg-power'])).toEqual({ HiberbootEnabled: 0 }); // no Fast Startup on a Server
    expect(json(files['reg-hibernate'])).toEqual({ HibernateEnabled: 0 });
    expect(json(files['reg-sessionmanager'])).toEqual({ PendingFileRenameOperations: null });
    expect(files['reg-deviceinstall']).toEqual(BOM);
    expect(text(files['key-cbs'])).toBe('false\r\n');
    expect(text(files['key-wu'])).toBe('false\r\n');
    expect(text(files['key-hiberfil'])).toBe('false\r\n');

    // For the lead's report: the exact files.
    console.log(`adapters.json:\n${adapters}\nipaddresses.json:\n${text(files.ipaddresses)}`);
  });

  it('answers the knobs: BitLocker, constrained language, GPO policy, a team, an offline disk', async () => {
    const ctl = await hook('guest/state', {
      vm: STATIC,
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
      languageMode: 'ConstrainedLanguage',
      domainRole: 5,
      network: {
        adapters: [
          { name: 'Prod LAN', mac: '00:50:56:a1:30:01', ipv4: [{ address: '192.0.2.41', prefixLength: 24 }] },
        ],
        teams: [{ name: 'Team1', members: ['Prod LAN'], teamingMode: 1 }],
      },
      disks: [
        {
          number: 0,
          system: true,
          boot: true,
          partitionStyle: 'MBR',
          sizeBytes: 67108864,
          volumes: [{ driveLetter: 'C', sizeBytes: 6e7, freeBytes: 1e7 }],
        },
        {
          number: 1,
          online: false,
          sizeBytes: 33554432,
          volumes: [{ driveLetter: 'E', sizeBytes: 3e7, freeBytes: 2e7 }],
        },
      ],
      registry: {
        'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\EnableScripts': 1,
        'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ExecutionPolicy': 'AllSigned',
      },
    });
    expect(ctl).toMatchObject({ languageMode: 'ConstrainedLanguage', domainRole: 5 });
    const { files } = await capture(STATIC);
    expect(json(files.bitlocker)).toEqual({ MountPoint: 'C:', ProtectionStatus: 1, VolumeStatus: 1 }); // one → bare
    expect(text(files.languagemode)).toBe('3\r\n');
    expect(json(files.computer).DomainRole).toBe(5);
    expect(json(files.teams)).toEqual({ Name: 'Team1', Members: ['Prod LAN'], TeamingMode: 1 }); // 1 member, still an array
    expect(json(files.adapters)).toMatchObject({ Name: 'Prod LAN', MacAddress: '00-50-56-A1-30-01' });
    expect(json(files.ghosts).length).toBeGreaterThan(1);
    expect(json(files.disks)[1]).toMatchObject({ IsOffline: true, OfflineReason: 1 });
    // An offline disk's volume is not mounted: no E: anywhere.
    expect((json(files.volumes) as { DriveLetter: string }[]).some((v) => v.DriveLetter === 'E')).toBe(false);
    expect(json(files['reg-pspolicy'])).toEqual({ EnableScripts: 1, ExecutionPolicy: 'AllSigned' });

    // Constrained Language: Add-Type fails.
    expect((await ps(STATIC, 'Add-Type -TypeDefinition "public class X {}"')).exitCode).toBe(1);
    let h = ((await getState(STATIC)).history as { stderr: string }[]).at(-1)!;
    expect(h.stderr).toContain(
      'Cannot add type. Definition of new types is not supported in this language mode.',
    );

    // GPO AllSigned beats -ExecutionPolicy Bypass for a script file; -EncodedCommand still runs.
    await hook('guest/state', { vm: STATIC, files: { 'C:\\ProgramData\\v2o\\x.ps1': 'exit 0\r\n' } });
    const file = await runInGuest(client, refs[STATIC]!, guestCreds(), {
      program: PS,
      args: '-NoProfile -ExecutionPolicy Bypass -File C:\\ProgramData\\v2o\\x.ps1',
      pollIntervalMs: 50,
    });
    expect(file.exitCode).toBe(1);
    h = ((await getState(STATIC)).history as { stderr: string }[]).at(-1)!;
    expect(h.stderr).toContain('is not digitally signed. You cannot run this script on the current system.');
    expect((await ps(STATIC, 'exit 0')).exitCode).toBe(0);

    // Pre-shutdown: Suspend-BitLocker -RebootCount 0 → protection Off; Resume → On; unknown mount point fails.
    expect((await ps(STATIC, "Suspend-BitLocker -MountPoint 'C:' -RebootCount 0")).exitCode).toBe(0);
    expect(((await getState(STATIC)).bitlocker as unknown[])[0]).toMatchObject({
      protection: 'Off',
      volumeStatus: 'FullyEncrypted',
    });
    expect((await ps(STATIC, "Resume-BitLocker -MountPoint 'C:'")).exitCode).toBe(0);
    expect(((await getState(STATIC)).bitlocker as unknown[])[0]).toMatchObject({ protection: 'On' });
    expect((await ps(STATIC, "Suspend-BitLocker -MountPoint 'F:' -RebootCount 0")).exitCode).toBe(1);
    // $ErrorActionPreference = 'Stop': the first error ends the script.
    await ps(
      STATIC,
      "$ErrorActionPreference = 'Stop'\r\nGet-ItemProperty -Path 'HKLM:\\SOFTWARE\\Nope' | ConvertTo-Json\r\nSuspend-BitLocker -MountPoint 'C:' -RebootCount 0",
    );
    expect(((await getState(STATIC)).bitlocker as unknown[])[0]).toMatchObject({ protection: 'On' });

    // A reset restores the seeded model.
    await resetVm(STATIC);
    const g = await getState(STATIC);
    expect(g).toMatchObject({ languageMode: 'FullLanguage', domainRole: 3, bitlocker: [] });
    expect((g.network as { adapters: unknown[] }).adapters).toHaveLength(3);
  });

  it('reports the registry findings set through the knobs', async () => {
    await hook('guest/state', {
      vm: STATIC,
      registry: {
        'HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation\\RealTimeIsUniversal': 1,
        'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\PendingFileRenameOperations': {
          type: 'REG_MULTI_SZ',
          data: ['\\??\\C:\\Windows\\Temp\\old.dll', ''],
        },
        'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions\\DenyUnspecified': 1,
        'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending\\': 0,
      },
      files: { 'C:\\hiberfil.sys': 'x' },
    });
    const { files } = await capture(STATIC);
    expect(json(files['reg-tz'])).toEqual({ RealTimeIsUniversal: 1 });
    expect(json(files['reg-sessionmanager'])).toEqual({
      PendingFileRenameOperations: ['\\??\\C:\\Windows\\Temp\\old.dll', ''],
    });
    expect(json(files['reg-deviceinstall'])).toEqual({
      DenyUnspecified: 1,
      DenyDeviceClasses: null,
      DenyDeviceIDs: null,
    });
    expect(text(files['key-cbs'])).toBe('true\r\n');
    expect(text(files['key-hiberfil'])).toBe('true\r\n');
    // reg add (contract §C) clears the UTC clock.
    const r = await runInGuest(client, refs[STATIC]!, guestCreds(), {
      program: CMD,
      args: '/c reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation" /v RealTimeIsUniversal /t REG_DWORD /d 0 /f',
      pollIntervalMs: 50,
    });
    expect(r.exitCode).toBe(0);
    expect(json((await capture(STATIC)).files['reg-tz'])).toEqual({ RealTimeIsUniversal: 0 });
    await resetVm(STATIC);
  });

  it('writes stderr as CLIXML when a caller redirects it (-EncodedCommand)', async () => {
    const dir = 'C:\\Windows\\Temp\\v2o-clixml';
    await makeGuestDirectory(client, refs[STATIC]!, guestCreds(), dir);
    const r = await runInGuest(client, refs[STATIC]!, guestCreds(), {
      program: CMD,
      args: `/c powershell.exe -NoProfile -NonInteractive -EncodedCommand ${encode('Get-BitLockerVolume | ConvertTo-Json')} > ${dir}\\out.txt 2>&1`,
      pollIntervalMs: 50,
    });
    expect(r.exitCode).toBe(1);
    const out = (await downloadFromGuest(client, refs[STATIC]!, guestCreds(), `${dir}\\out.txt`)).toString(
      'utf8',
    );
    expect(out).toMatch(/^#< CLIXML\r\n<Objs Version="1\.1\.0\.1"/);
    expect(out).toContain(
      `<S S="Error">Get-BitLockerVolume : The term 'Get-BitLockerVolume' is not recognized`,
    );
    // -NonInteractive or not: a command run is never a prompt loop. stdout stays plain text.
    const r2 = await runInGuest(client, refs[STATIC]!, guestCreds(), {
      program: CMD,
      args: `/c powershell.exe -NoProfile -EncodedCommand ${encode('Write-Output ok; Get-NetAdapter | ConvertTo-Json | Out-Null; Get-BitLockerVolume')} > ${dir}\\o.txt 2> ${dir}\\e.txt`,
      pollIntervalMs: 50,
    });
    expect(r2.exitCode).toBe(1);
    expect((await downloadFromGuest(client, refs[STATIC]!, guestCreds(), `${dir}\\o.txt`)).toString()).toBe(
      'ok\r\n',
    );
    const err = (await downloadFromGuest(client, refs[STATIC]!, guestCreds(), `${dir}\\e.txt`)).toString();
    expect(err).toMatch(/^#< CLIXML\r\n<Objs [^>]*><Obj S="progress"/);
    expect(err).toContain('Preparing modules for first use.');
  });

  it('stages vioserial like the other drivers, and the ISO has the guest agent', async () => {
    const g = (await hook('guest/state', { vm: STATIC, addDrivers: ['vioser'] })) as {
      drivers: { originalName: string; className: string }[];
    };
    expect(g.drivers.find((d) => d.originalName === 'vioser.inf')).toMatchObject({
      className: 'System devices',
    });
    const iso = readFileSync(`${env.V2O_LAB_DIR ?? '.lab'}/vsphere/iso/virtio-win-files.txt`, 'utf8').split(
      '\n',
    );
    expect(iso).toContain('guest-agent/qemu-ga-x86_64.msi');
    for (const os of ['2k12', '2k12R2', '2k16', '2k19', '2k22', '2k25', 'w10', 'w11'])
      for (const ext of ['inf', 'sys', 'cat']) expect(iso).toContain(`vioserial/${os}/amd64/vioser.${ext}`);
  });
});

describe('pre-shutdown copies from the virtio-win ISO', () => {
  it('copies the guest agent MSI only into an existing folder, and stages vioser.inf with pnputil', async () => {
    await resetVm(STATIC);
    const ds = env.V2O_LAB_VSPHERE_DATASTORE_DIR!;
    mkdirSync(`${ds}/iso`, { recursive: true });
    if (!existsSync(`${ds}/iso/virtio-win.iso`))
      copyFileSync(`${env.V2O_LAB_DIR ?? '.lab'}/vsphere/iso/virtio-win.iso`, `${ds}/iso/virtio-win.iso`);
    await attachIso(client, refs[STATIC]!, '[LocalDS_0] iso/virtio-win.iso');
    const copy = 'copy /Y "D:\\guest-agent\\qemu-ga-x86_64.msi" "C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi"';
    const run = (args: string) =>
      runInGuest(client, refs[STATIC]!, guestCreds(), { program: CMD, args, pollIntervalMs: 50 });
    expect((await run(`/c ${copy}`)).exitCode).toBe(1); // C:\ProgramData\v2o does not exist yet
    const h = ((await getState(STATIC)).history as { stderr: string }[]).at(-1)!;
    expect(h.stderr).toContain('The system cannot find the path specified.');
    expect((await run(`/c mkdir C:\\ProgramData\\v2o && ${copy}`)).exitCode).toBe(0);
    const msi = await downloadFromGuest(
      client,
      refs[STATIC]!,
      guestCreds(),
      'C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi',
    );
    expect(msi.toString()).toContain('guest-agent\\qemu-ga-x86_64.msi');
    expect(
      (await run('/c pnputil /add-driver D:\\vioserial\\2k22\\amd64\\vioser.inf /install')).exitCode,
    ).toBe(259);
    const g = (await getState(STATIC)) as { drivers: { originalName: string; className: string }[] };
    expect(g.drivers.find((d) => d.originalName === 'vioser.inf')).toMatchObject({
      className: 'System devices',
    });
    await resetVm(STATIC);
  });
});

describe('the guest model in the boot disk', () => {
  it('is written at power-off with the suspended BitLocker, the network and the disks', async () => {
    await resetVm(STATIC);
    await hook('guest/state', {
      vm: STATIC,
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
    });
    expect((await ps(STATIC, "Suspend-BitLocker -MountPoint 'C:' -RebootCount 0")).exitCode).toBe(0);
    await powerOff(client, refs[STATIC]!);
    const d = manifest().vms.find((v) => v.name === STATIC)!.disks[0]! as unknown as {
      export: { localPath: string };
      stateRegion: { offset: number; length: number };
    };
    const dir = mkdtempSync(join(tmpdir(), 'v2o-static-'));
    try {
      writeFileSync(join(dir, 'd.vmdk'), readFileSync(d.export.localPath));
      execFileSync('qemu-img', [
        'convert',
        '-f',
        'vmdk',
        '-O',
        'raw',
        join(dir, 'd.vmdk'),
        join(dir, 'd.raw'),
      ]);
      const raw = readFileSync(join(dir, 'd.raw'));
      const r = raw.subarray(d.stateRegion.offset, d.stateRegion.offset + d.stateRegion.length);
      const state = JSON.parse(r.subarray(64, 64 + Number(r.readBigUInt64LE(16))).toString('utf8'));
      expect(state.bitlocker).toEqual([
        { mountPoint: 'C:', protection: 'Off', volumeStatus: 'FullyEncrypted' },
      ]);
      expect(
        state.network.adapters.map((a: { name: string; present: boolean }) => `${a.name} ${a.present}`),
      ).toEqual(['Ethernet0 false', 'Prod LAN true', 'Backup true']);
      expect(state.network.adapters[1]).toMatchObject({
        mac: '00:50:56:a1:30:01',
        dhcp: false,
        ipv4: [
          { address: '192.0.2.41', prefixLength: 24 },
          { address: '192.0.2.42', prefixLength: 24 },
        ],
        gateways: [{ nextHop: '192.0.2.1', metric: 256 }],
        routes: [{ destination: '203.0.113.0/24', nextHop: '192.0.2.254', metric: 256 }],
        dnsServers: ['192.0.2.53', '192.0.2.54'],
        dnsSuffix: 'corp.example',
        category: 'DomainAuthenticated',
      });
      expect(state.disks[1].volumes[0]).toMatchObject({ driveLetter: 'E', fileSystem: 'NTFS' });
      expect(state).toMatchObject({
        domainRole: 3,
        partOfDomain: true,
        manufacturer: 'VMware, Inc.',
        vmwareTools: true,
      });
      expect(state.smbiosUuid).toMatch(/^[0-9A-F-]{36}$/);
      expect(
        state.registry[
          'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\partmgr\\Parameters\\SanPolicy'
        ],
      ).toEqual({
        type: 'REG_DWORD',
        data: 2,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await resetVm(STATIC);
    }
  });
});

describe('guest capture on Windows 11', () => {
  it('has BitLocker (decrypted), Fast Startup on, and no LBFO', async () => {
    const vm = env.V2O_LAB_VSPHERE_VM_WIN11 ?? 'win11-desk01';
    await resetVm(vm);
    refs[vm] = await findVmByName(client, vm);
    const { files, stderr } = await capture(vm);
    expect(json(files.bitlocker)).toEqual({ MountPoint: 'C:', ProtectionStatus: 0, VolumeStatus: 0 });
    expect(json(files['reg-power'])).toEqual({ HiberbootEnabled: 1 });
    expect(text(files['key-hiberfil'])).toBe('true\r\n');
    expect(json(files.storagesetting)).toEqual({ NewDiskPolicy: 1 });
    expect(files.teams).toEqual(BOM);
    expect(stderr).toContain(
      'The LBFO feature is not currently enabled, or LBFO is not supported on this SKU.',
    );
    expect(json(files.computer)).toMatchObject({ DomainRole: 0, PartOfDomain: false, Domain: 'WORKGROUP' });
    await resetVm(vm);
  });
});

describe('guest capture on the German guest', () => {
  it('words its errors in German, the files are the same', async () => {
    const vm = env.V2O_LAB_VSPHERE_VM_UNICODE ?? 'Finanz Server 01 – Müller & Söhne';
    await resetVm(vm);
    refs[vm] = await findVmByName(client, vm);
    const { files, stderr } = await capture(vm);
    expect(files.bitlocker).toBeUndefined();
    expect(stderr).toContain('Die Benennung "Get-BitLockerVolume" wurde nicht als Name eines Cmdlet');
    expect(stderr).not.toContain('is not recognized');
    expect(files['reg-pspolicy']).toEqual(BOM);
    expect(json(files.adapters)).toMatchObject({ Name: 'Ethernet0', MacAddress: '00-50-56-A1-19-03' });
    await resetVm(vm);
  });
});

describe('guest capture on Server 2012 R2 (PowerShell 4.0)', () => {
  it('has no Get-PnpDevice and no Get-StorageSetting, and a 4.0 version', async () => {
    const { files, stderr } = await capture(LEGACY);
    expect(json(files.psversion)).toEqual({
      Major: 4,
      Minor: 0,
      Build: -1,
      Revision: -1,
      MajorRevision: -1,
      MinorRevision: -1,
    });
    expect(files.ghosts).toBeUndefined();
    expect(files.storagesetting).toBeUndefined();
    expect(stderr).toContain("The term 'Get-PnpDevice' is not recognized");
    expect(stderr).toContain("The term 'Get-StorageSetting' is not recognized");
    // One DHCP adapter → a bare object, not an array.
    expect(json(files.adapters)).toMatchObject({ Name: 'Ethernet0', MacAddress: '00-50-56-A1-12-01' });
    expect(json(files['reg-sanpolicy'])).toEqual({ SanPolicy: null }); // the key exists, the value unset
    // Server 2012: PowerShell 3.0.
    const v2012 = env.V2O_LAB_VSPHERE_VM_2012 ?? 'win2012-legacy02';
    await resetVm(v2012);
    refs[v2012] = await findVmByName(client, v2012);
    expect(json((await capture(v2012)).files.psversion)).toMatchObject({ Major: 3, Minor: 0 });
    await resetVm(v2012);
  });
});
