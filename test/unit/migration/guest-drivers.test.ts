import { describe, expect, it } from 'vitest';
import {
  cmdCommand,
  driverRecipe,
  guestScript,
  isoFilesNeeded,
  parseCdromDrives,
} from '../../../src/migration/driver-recipe.js';
import { planDrivers } from '../../../src/migration/drivers.js';
import { virtioWinBuild, virtioWinSignedFolder } from '../../../src/migration/rules/virtio-win-signed.js';
import {
  parseRegQuery,
  parseStoreFolders,
  regQueryCommand,
  serviceProblems,
  storeFoldersCommand,
} from '../../../src/migration/steps/guest-drivers.js';
import { detectWindows } from '../../../src/migration/windows-version.js';

const scsi = planDrivers('scsi', '2k19', { vifModel: 'virtio', balloon: true, bootFallback: 'sata' });
const K = 'HKLM\\SYSTEM\\CurrentControlSet\\Services';

describe('the driver recipe', () => {
  it('stages every package, copies the .sys, writes the full service key, and readies storahci for the fallback', () => {
    expect(driverRecipe(scsi).map((a) => cmdCommand(a, 'E:'))).toEqual([
      '%SystemRoot%\\System32\\pnputil.exe /add-driver "E:\\vioscsi\\2k19\\amd64\\vioscsi.inf" /install',
      '%SystemRoot%\\System32\\pnputil.exe /add-driver "E:\\NetKVM\\2k19\\amd64\\netkvm.inf" /install',
      '%SystemRoot%\\System32\\pnputil.exe /add-driver "E:\\Balloon\\2k19\\amd64\\balloon.inf" /install',
      'copy /y "E:\\vioscsi\\2k19\\amd64\\vioscsi.sys" "%SystemRoot%\\System32\\drivers\\vioscsi.sys"',
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi" /v "Type" /t REG_DWORD /d "1" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi" /v "Start" /t REG_DWORD /d "0" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi" /v "ErrorControl" /t REG_DWORD /d "1" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi" /v "Group" /t REG_SZ /d "SCSI miniport" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi" /v "ImagePath" /t REG_EXPAND_SZ /d "system32\\drivers\\vioscsi.sys" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi\\Parameters" /v "BusType" /t REG_DWORD /d "10" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\vioscsi\\Parameters\\PnpInterface" /v "5" /t REG_DWORD /d "1" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\storahci" /v "Start" /t REG_DWORD /d "0" /f`,
      `%SystemRoot%\\System32\\reg.exe add "${K}\\storahci\\StartOverride" /v "0" /t REG_DWORD /d "0" /f`,
    ]);
  });

  it('writes no CriticalDeviceDatabase entry (Windows 8 / 2012 and later use the DriverDatabase)', () => {
    for (const bus of ['virtio', 'scsi', 'sata'] as const) {
      for (const folder of ['2k12', '2k25', 'w10'] as const) {
        const all = driverRecipe(
          planDrivers(bus, folder, { vifModel: 'virtio', balloon: true, bootFallback: 'sata' }),
        )
          .map((a) => cmdCommand(a, 'D:'))
          .join('\n');
        expect(all).not.toMatch(/CriticalDeviceDatabase/i);
      }
    }
  });

  it('uses pnputil -i -a on Server 2012 and 2012 R2, /add-driver from 2016 / Windows 10 on', () => {
    const legacy = planDrivers('virtio', '2k12', { vifModel: 'e1000', balloon: false, bootFallback: 'sata' });
    expect(cmdCommand(driverRecipe(legacy)[0]!, 'D:')).toBe(
      '%SystemRoot%\\System32\\pnputil.exe -i -a "D:\\viostor\\2k12\\amd64\\viostor.inf"',
    );
    expect(
      planDrivers('virtio', '2k12R2', { vifModel: 'e1000', balloon: false, bootFallback: 'sata' }).pnputil,
    ).toBe('legacy');
    for (const f of ['2k16', '2k19', '2k22', '2k25', 'w10', 'w11'] as const)
      expect(
        planDrivers('virtio', f, { vifModel: 'e1000', balloon: false, bootFallback: 'sata' }).pnputil,
      ).toBe('add-driver');
  });

  it('sata prepares storahci only; bootFallback none leaves storahci alone', () => {
    const sata = planDrivers('sata', 'w11', { vifModel: 'virtio', balloon: false, bootFallback: 'sata' });
    expect(sata.bootServices.map((s) => s.name)).toEqual(['storahci']);
    const none = planDrivers('virtio', 'w11', { vifModel: 'virtio', balloon: false, bootFallback: 'none' });
    expect(none.bootServices.map((s) => s.name)).toEqual(['viostor']);
    expect(isoFilesNeeded(none)).toEqual([
      'viostor\\w11\\amd64\\viostor.inf',
      'NetKVM\\w11\\amd64\\netkvm.inf',
      'viostor\\w11\\amd64\\viostor.sys',
    ]);
  });

  it('finds CD-ROM drives in the CIM probe output', () => {
    expect(parseCdromDrives('D:\r\nE:\r\n')).toEqual(['D:', 'E:']);
    expect(parseCdromDrives('')).toEqual([]);
  });

  it('manual mode: the same actions as one PowerShell script', () => {
    const s = guestScript(scsi, { vm: 'db01', windowsLabel: 'Windows Server 2019', next: 'v2o approve r1' });
    expect(s).toContain('(Get-CimInstance -ClassName Win32_CDROMDrive).Drive');
    expect(s).not.toMatch(/wmic/i);
    expect(s).toContain(
      `Invoke-V2oNative 'stage vioscsi (vioscsi\\2k19\\amd64\\vioscsi.inf)' @(0, 259, 3010) { & "$env:SystemRoot\\System32\\pnputil.exe" /add-driver "$iso\\vioscsi\\2k19\\amd64\\vioscsi.inf" /install }`,
    );
    expect(s).toContain(
      'Copy-Item -LiteralPath "$iso\\vioscsi\\2k19\\amd64\\vioscsi.sys" -Destination "$env:SystemRoot\\System32\\drivers\\vioscsi.sys" -Force',
    );
    expect(s).toContain(
      `& "$env:SystemRoot\\System32\\reg.exe" add '${K}\\vioscsi' /v 'Group' /t REG_SZ /d 'SCSI miniport' /f`,
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: PowerShell's ${What}, not JavaScript's
    expect(s).toContain('Write-Warning "${What}: done, a reboot is pending (3010)"');
    // One line per recipe action, in the recipe's order.
    const actions = driverRecipe(scsi).length;
    expect(s.split('\r\n').filter((l) => /^(Invoke-V2oNative '|Copy-Item)/.test(l))).toHaveLength(actions);
  });
});

describe('verification', () => {
  const viostor = planDrivers('virtio', '2k22', { vifModel: 'virtio', balloon: false, bootFallback: 'sata' });
  const [svc, ahci] = viostor.bootServices;
  const full = [
    '',
    'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor',
    '    Type    REG_DWORD    0x1',
    '    Start    REG_DWORD    0x0',
    '    ErrorControl    REG_DWORD    0x1',
    '    Group    REG_SZ    SCSI miniport',
    '    ImagePath    REG_EXPAND_SZ    system32\\drivers\\viostor.sys',
    '',
    'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor\\Parameters',
    '    BusType    REG_DWORD    0x1',
    '',
    'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor\\Parameters\\PnpInterface',
    '    5    REG_DWORD    0x1',
    '',
  ].join('\r\n');

  it('queries the whole service key, subkeys included', () => {
    expect(regQueryCommand(svc!.key)).toBe(`%SystemRoot%\\System32\\reg.exe query "${K}\\viostor" /s`);
    expect(
      parseRegQuery(full).get(`hkey_local_machine\\system\\currentcontrolset\\services\\viostor\\parameters`),
    ).toEqual(new Map([['bustype', { type: 'REG_DWORD', data: '0x1' }]]));
  });

  it('a complete key passes', () => {
    expect(serviceProblems(svc!, 0, full)).toEqual([]);
  });

  it('the old recipe (pnputil + Start=0 only) is caught, value by value', () => {
    const old = `\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor\r\n    Start    REG_DWORD    0x0\r\n`;
    expect(serviceProblems(svc!, 0, old)).toEqual([
      'viostor: Type is missing (want Type=1)',
      'viostor: ErrorControl is missing (want ErrorControl=1)',
      'viostor: Group is missing (want Group="SCSI miniport")',
      'viostor: ImagePath is missing (want ImagePath="system32\\\\drivers\\\\viostor.sys")',
      'viostor: BusType (Parameters) is missing (want BusType=1)',
      'viostor: 5 (Parameters\\PnpInterface) is missing (want 5=1)',
    ]);
    expect(serviceProblems(svc!, 1, '')).toEqual([`the service key ${K}\\viostor does not exist`]);
  });

  it('reads German reg output the same way (only messages are translated)', () => {
    const de = full.replace('Start    REG_DWORD    0x0', 'Start    REG_DWORD    0x3');
    expect(serviceProblems(svc!, 0, de)).toEqual(['viostor: Start is 0x3, not Start=0']);
  });

  it('storahci: Start=0 and every StartOverride value 0 (or no StartOverride)', () => {
    const base =
      'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\storahci\r\n    Start    REG_DWORD    0x0\r\n';
    expect(serviceProblems(ahci!, 0, base)).toEqual([]);
    const override = `${base}\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\storahci\\StartOverride\r\n    0    REG_DWORD    0x3\r\n`;
    expect(serviceProblems(ahci!, 0, override)).toEqual([
      'storahci: StartOverride\\0 is 0x3, not 0 (remove it or set it to 0)',
    ]);
  });

  it('finds the package in the driver store by folder name', () => {
    expect(storeFoldersCommand('viostor.inf')).toBe(
      'dir /b /ad "%SystemRoot%\\System32\\DriverStore\\FileRepository\\viostor.inf_amd64_*"',
    );
    expect(parseStoreFolders('viostor.inf', 'viostor.inf_amd64_4bd7d12a1b0e5f2c\r\n\r\n')).toEqual([
      'viostor.inf_amd64_4bd7d12a1b0e5f2c',
    ]);
    expect(parseStoreFolders('viostor.inf', 'Datei nicht gefunden\r\n')).toEqual([]);
  });
});

describe('the virtio-win ISO has signed drivers for the release', () => {
  const s2012 = detectWindows('windows8Server64Guest', 'Microsoft Windows Server 2012 Datacenter');
  const s2012r2 = detectWindows('windows8Server64Guest', 'Microsoft Windows Server 2012 R2 Standard');
  const s2019 = detectWindows('windows2019srv_64Guest');
  if (!s2012.ok || !s2012r2.ok || !s2019.ok) throw new Error('fixtures');

  it('reads the build from the name or URL', () => {
    expect(virtioWinBuild({ path: '/isos/virtio-win-0.1.262.iso' })).toBe(262);
    expect(
      virtioWinBuild({
        url: 'https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/archive-virtio/virtio-win-0.1.185-2/virtio-win.iso',
      }),
    ).toBe(185);
    expect(virtioWinBuild({ url: 'https://x/stable-virtio/virtio-win.iso' })).toBeUndefined();
  });

  it('blocks 2012 / 2012 R2 on a build after 0.1.215, with the fix', () => {
    for (const w of [s2012.version, s2012r2.version]) {
      const f = virtioWinSignedFolder(w, { path: 'virtio-win-0.1.262.iso' });
      expect(f).toMatchObject({ code: 'virtio-win-unsigned-for-release', severity: 'blocker' });
      expect(f!.fix).toMatch(/name an ISO that has signed 2k12(R2)? drivers/);
      expect(virtioWinSignedFolder(w, { path: 'virtio-win-0.1.185.iso' })).toBeUndefined();
    }
  });

  it('warns when the build is not in the name; other releases pass', () => {
    expect(virtioWinSignedFolder(s2012.version, { url: 'https://x/virtio-win.iso' })).toMatchObject({
      severity: 'warning',
    });
    expect(virtioWinSignedFolder(s2019.version, { path: 'virtio-win-0.1.262.iso' })).toBeUndefined();
  });
});
