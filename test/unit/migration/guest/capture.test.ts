import { describe, expect, it } from 'vitest';
import {
  CAPTURE_STATEMENTS,
  captureGuest,
  captureLine,
  captureScript,
  encodedPowerShell,
  GuestCaptureError,
} from '../../../../src/migration/guest/capture.js';
import { GuestParseError } from '../../../../src/migration/guest/parse.js';
import { fakeSource } from '../fakes.js';
import { win2022Static01 } from './capture-fixtures.js';

const creds = { username: 'Administrator', password: 'secret' };
const DIR = 'C:\\Windows\\Temp\\v2o-capture-0badf00d';

/** A guest that writes `files` into the capture folder when the encoded script runs. */
function guest(files: Record<string, string | undefined>, exitCode = 0) {
  let ran = false;
  const src = fakeSource({
    runProgramInGuest: async (_vm, _c, program, args) => {
      src.calls.push(`${program} ${args.split(' ').slice(0, 3).join(' ')}`);
      ran = true;
      return { exitCode };
    },
    runInGuest: async (_vm, _c, command) => {
      src.calls.push(command);
      return { exitCode: 0, output: '' };
    },
    readGuestFile: async (_vm, _c, path) => {
      src.calls.push(`read ${path.slice(DIR.length + 1)}`);
      const name = path.slice(DIR.length + 1).replace(/\.json$/, '');
      return ran && files[name] !== undefined ? Buffer.from(files[name]!, 'utf8') : undefined;
    },
  });
  return src;
}

describe('the capture script', () => {
  it('is contract §A: one statement a line, -Depth 4, Out-File utf8 into $d', () => {
    const lines = captureScript(DIR).split('\n');
    expect(lines[0]).toBe(`$d = '${DIR}'`);
    expect(lines).toHaveLength(CAPTURE_STATEMENTS.length + 1);
    expect(lines).toContain(
      'Get-NetAdapter | Select-Object Name,InterfaceDescription,InterfaceGuid,MacAddress,ifIndex,Status,MtuSize,VlanID | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\adapters.json"',
    );
    expect(lines).toContain(
      '$PSVersionTable.PSVersion | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\psversion.json"',
    );
    expect(lines).toContain(
      'Get-ItemProperty -Path \'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\partmgr\\Parameters\' | Select-Object SanPolicy | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\reg-sanpolicy.json"',
    );
    expect(lines).toContain(
      'Test-Path -Path \'C:\\hiberfil.sys\' | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\key-hiberfil.json"',
    );
    expect(captureLine({ name: 'x', source: 'Get-X' })).not.toContain('-Compress');
    expect(CAPTURE_STATEMENTS.map((s) => s.name)).toEqual([
      'psversion',
      'languagemode',
      'computer',
      'product',
      'adapters',
      'ghosts',
      'ipinterfaces',
      'ipaddresses',
      'routes',
      'dnsservers',
      'dnsclients',
      'profiles',
      'teams',
      'disks',
      'partitions',
      'volumes',
      'ldm',
      'storagesetting',
      'bitlocker',
      'reg-sanpolicy',
      'reg-tz',
      'reg-power',
      'reg-hibernate',
      'reg-sessionmanager',
      'reg-pspolicy',
      'reg-deviceinstall',
      'key-cbs',
      'key-wu',
      'key-ntds',
      'key-hiberfil',
    ]);
  });

  it('goes as -EncodedCommand, base64 of UTF-16LE', () => {
    const cmd = encodedPowerShell("$d = 'C:\\x'");
    expect(cmd).toMatch(/^powershell\.exe -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$/);
    expect(Buffer.from(cmd.split(' ').pop()!, 'base64').toString('utf16le')).toBe("$d = 'C:\\x'");
  });
});

describe('captureGuest', () => {
  it('makes the folder, runs PowerShell once, reads each file back, removes the folder', async () => {
    const src = guest(win2022Static01());
    const f = await captureGuest(src, 'vm-1', creds, { dir: DIR, now: () => new Date(0) });
    expect(f.hostname).toBe('WIN2022-STATIC01');
    expect(f.capturedAt).toBe('1970-01-01T00:00:00.000Z');
    expect(src.calls[0]).toBe(`mkdir ${DIR}`);
    // PowerShell itself, not through cmd.exe: the encoded script is longer than cmd.exe's 8191 characters.
    expect(src.calls[1]).toBe(
      'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -NonInteractive -EncodedCommand',
    );
    expect(encodedPowerShell(captureScript(DIR)).length).toBeGreaterThan(8191);
    expect(src.calls.filter((c) => c.startsWith('read '))).toHaveLength(CAPTURE_STATEMENTS.length);
    expect(src.calls.at(-1)).toBe(`rmdir /S /Q ${DIR}`);
  });

  it('PowerShell blocked (it writes nothing) or missing (it does not start): a clear error with the fix, the folder still removed', async () => {
    const src = guest(win2022Static01(), 1);
    src.readGuestFile = async () => undefined;
    const err = await captureGuest(src, 'vm-1', creds, { dir: DIR }).catch((e) => e);
    expect(err).toBeInstanceOf(GuestCaptureError);
    expect(err.message).toContain('it wrote no capture file (exit 1)');
    expect(err.hint).toContain('AppLocker');
    expect(src.calls.at(-1)).toBe(`rmdir /S /Q ${DIR}`);
    const missing = guest(win2022Static01());
    missing.runProgramInGuest = async () => {
      throw new Error('FileNotFound: C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    };
    const e2 = await captureGuest(missing, 'vm-1', creds, { dir: DIR }).catch((e) => e);
    expect(e2).toBeInstanceOf(GuestCaptureError);
    expect(e2.message).toContain('could not start Windows PowerShell');
    expect(e2.message).toContain('FileNotFound');
    expect(missing.calls.at(-1)).toBe(`rmdir /S /Q ${DIR}`);
  });

  it('output that does not parse: the error names the file; the folder is removed all the same', async () => {
    const src = guest({ ...win2022Static01(), volumes: '\uFEFF[{"DriveLetter":' });
    await expect(captureGuest(src, 'vm-1', creds, { dir: DIR })).rejects.toThrow(GuestParseError);
    await expect(captureGuest(src, 'vm-1', creds, { dir: DIR })).rejects.toThrow(/volumes\.json/);
    expect(src.calls.at(-1)).toBe(`rmdir /S /Q ${DIR}`);
  });
});
