import { describe, expect, it } from 'vitest';
import { planDrivers } from '../../../src/migration/drivers.js';
import {
  bootCriticalCommand,
  cdromDrives,
  installCommands,
  manualInstructions,
  parseDriverStore,
  parseStartValue,
  probeCommand,
  queryStartCommand,
} from '../../../src/migration/steps/guest-drivers.js';

const plan = planDrivers('scsi', '2k19', { vifModel: 'virtio', balloon: true });

describe('guest driver commands', () => {
  it('builds the exact pnputil and reg command lines', () => {
    expect(installCommands('E:', plan).map((c) => c.command)).toEqual([
      'C:\\Windows\\System32\\pnputil.exe /add-driver E:\\vioscsi\\2k19\\amd64\\vioscsi.inf /install',
      'C:\\Windows\\System32\\pnputil.exe /add-driver E:\\NetKVM\\2k19\\amd64\\netkvm.inf /install',
      'C:\\Windows\\System32\\pnputil.exe /add-driver E:\\Balloon\\2k19\\amd64\\balloon.inf /install',
    ]);
    expect(bootCriticalCommand(plan)).toBe(
      'C:\\Windows\\System32\\reg.exe add HKLM\\SYSTEM\\CurrentControlSet\\Services\\vioscsi /v Start /t REG_DWORD /d 0 /f',
    );
    expect(queryStartCommand(plan)).toBe(
      'C:\\Windows\\System32\\reg.exe query HKLM\\SYSTEM\\CurrentControlSet\\Services\\vioscsi /v Start',
    );
    expect(probeCommand('D:', plan)).toBe(
      'if exist D:\\vioscsi\\2k19\\amd64\\vioscsi.inf (exit 0) else (exit 1)',
    );
  });

  it('finds CD-ROM drives in wmic output, the virtio-win label first', () => {
    const out =
      'DeviceID  DriveType  VolumeName\r\nC:        3                    \r\nD:        5          SQL2019\r\nE:        5          virtio-win-0.1.262\r\n';
    expect(cdromDrives(out)).toEqual(['E:', 'D:']);
    expect(cdromDrives('')).toEqual([]);
  });

  it('parses reg query Start values', () => {
    const out =
      '\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\viostor\r\n    Start    REG_DWORD    0x0\r\n\r\n';
    expect(parseStartValue(out)).toBe(0);
    expect(parseStartValue(out.replace('0x0', '0x3'))).toBe(3);
    expect(
      parseStartValue('ERROR: The system was unable to find the specified registry key or value.'),
    ).toBeUndefined();
  });

  it('parses pnputil /enum-drivers', () => {
    const out = [
      'Microsoft PnP Utility',
      '',
      'Published Name:     oem3.inf',
      'Original Name:      viostor.inf',
      'Provider Name:      Red Hat, Inc.',
      'Class Name:         Storage controllers',
      'Driver Version:     08/30/2024 100.100.104.26200',
      '',
      'Published Name:     oem4.inf',
      'Original Name:      NetKVM.inf',
      'Provider Name:      Red Hat, Inc.',
      '',
    ].join('\r\n');
    expect(parseDriverStore(out)).toEqual([
      {
        publishedName: 'oem3.inf',
        originalName: 'viostor.inf',
        provider: 'Red Hat, Inc.',
        version: '08/30/2024 100.100.104.26200',
      },
      {
        publishedName: 'oem4.inf',
        originalName: 'netkvm.inf',
        provider: 'Red Hat, Inc.',
        version: undefined,
      },
    ]);
  });

  it('tells the operator exactly what to run in manual mode', () => {
    const text = manualInstructions(plan, 'db01', 'Windows Server 2019', '[ds1] v2o/virtio-win-x.iso');
    expect(text).toContain('pnputil /add-driver D:\\vioscsi\\2k19\\amd64\\vioscsi.inf /install');
    expect(text).toContain(
      'reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\vioscsi /v Start /t REG_DWORD /d 0 /f',
    );
    expect(text).toContain('[ds1] v2o/virtio-win-x.iso');
  });
});
