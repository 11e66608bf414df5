// The read-only capture inside the running guest (issue 13, contract §A): one Windows PowerShell
// run writes one JSON file per statement into a temporary folder, v2o reads each file back with
// the file transfer API and removes the folder (cmd.exe /c rmdir /S /Q). The statements are data (CAPTURE_STATEMENTS), so
// the lab's simulated Windows and this side agree on one table; parse.ts reads the files.
import { randomBytes } from 'node:crypto';
import { NonRetryableError } from '../../errors.js';
import type { SourceOps } from '../services.js';
import type { GuestFacts } from './facts.js';
import { parseGuestFacts } from './parse.js';

/** One line of the capture script: `<source> | Select-Object … | ConvertTo-Json -Depth 4 | Out-File …`. */
export interface CaptureStatement {
  /** The file it writes: `<name>.json`. */
  name: string;
  source: string;
  /** Properties kept by Select-Object; none: the object as it is. */
  select?: readonly string[];
}

const HKLM = 'HKLM:\\SYSTEM\\CurrentControlSet';

/** Registry values read with Get-ItemProperty (a missing key writes nothing: an empty file). */
const REGISTRY_READS: readonly { name: string; key: string; values: readonly string[] }[] = [
  { name: 'reg-sanpolicy', key: `${HKLM}\\Services\\partmgr\\Parameters`, values: ['SanPolicy'] },
  {
    name: 'reg-tz',
    key: `${HKLM}\\Control\\TimeZoneInformation`,
    values: ['RealTimeIsUniversal'],
  },
  { name: 'reg-power', key: `${HKLM}\\Control\\Session Manager\\Power`, values: ['HiberbootEnabled'] },
  { name: 'reg-hibernate', key: `${HKLM}\\Control\\Power`, values: ['HibernateEnabled'] },
  {
    name: 'reg-sessionmanager',
    key: `${HKLM}\\Control\\Session Manager`,
    values: ['PendingFileRenameOperations'],
  },
  {
    name: 'reg-pspolicy',
    key: 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell',
    values: ['EnableScripts', 'ExecutionPolicy'],
  },
  {
    name: 'reg-deviceinstall',
    key: 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions',
    values: ['DenyUnspecified', 'DenyDeviceClasses', 'DenyDeviceIDs'],
  },
];

/** Keys and files tested with Test-Path (the file holds true or false). */
const PATH_TESTS: readonly { name: string; path: string }[] = [
  {
    name: 'key-cbs',
    path: 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending',
  },
  {
    name: 'key-wu',
    path: 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired',
  },
  { name: 'key-ntds', path: `${HKLM}\\Services\\NTDS\\Parameters` },
  { name: 'key-hiberfil', path: 'C:\\hiberfil.sys' },
];

const cim = (cls: string) => `Get-CimInstance -ClassName ${cls}`;

/** Contract §A's table, in order. */
export const CAPTURE_STATEMENTS: readonly CaptureStatement[] = [
  { name: 'psversion', source: '$PSVersionTable.PSVersion' },
  { name: 'languagemode', source: '$ExecutionContext.SessionState.LanguageMode' },
  {
    name: 'computer',
    source: cim('Win32_ComputerSystem'),
    select: ['Name', 'Manufacturer', 'Model', 'DomainRole', 'PartOfDomain', 'Domain'],
  },
  { name: 'product', source: cim('Win32_ComputerSystemProduct'), select: ['UUID'] },
  {
    name: 'adapters',
    source: 'Get-NetAdapter',
    select: [
      'Name',
      'InterfaceDescription',
      'InterfaceGuid',
      'MacAddress',
      'ifIndex',
      'Status',
      'MtuSize',
      'VlanID',
    ],
  },
  {
    name: 'ghosts',
    source: 'Get-PnpDevice -Class Net',
    select: ['FriendlyName', 'InstanceId', 'Status', 'Present'],
  },
  {
    name: 'ipinterfaces',
    source: 'Get-NetIPInterface',
    select: ['InterfaceIndex', 'InterfaceAlias', 'AddressFamily', 'Dhcp', 'NlMtu'],
  },
  {
    name: 'ipaddresses',
    source: 'Get-NetIPAddress',
    select: [
      'InterfaceIndex',
      'InterfaceAlias',
      'AddressFamily',
      'IPAddress',
      'PrefixLength',
      'PrefixOrigin',
      'SuffixOrigin',
    ],
  },
  {
    name: 'routes',
    source: 'Get-NetRoute -PolicyStore PersistentStore',
    select: [
      'InterfaceIndex',
      'InterfaceAlias',
      'AddressFamily',
      'DestinationPrefix',
      'NextHop',
      'RouteMetric',
    ],
  },
  {
    name: 'dnsservers',
    source: 'Get-DnsClientServerAddress',
    select: ['InterfaceIndex', 'InterfaceAlias', 'AddressFamily', 'ServerAddresses'],
  },
  {
    name: 'dnsclients',
    source: 'Get-DnsClient',
    select: [
      'InterfaceIndex',
      'InterfaceAlias',
      'ConnectionSpecificSuffix',
      'RegisterThisConnectionsAddress',
    ],
  },
  {
    name: 'profiles',
    source: 'Get-NetConnectionProfile',
    select: ['InterfaceIndex', 'InterfaceAlias', 'NetworkCategory'],
  },
  { name: 'teams', source: 'Get-NetLbfoTeam', select: ['Name', 'Members', 'TeamingMode'] },
  {
    name: 'disks',
    source: 'Get-Disk',
    select: ['Number', 'IsOffline', 'OfflineReason', 'IsSystem', 'IsBoot', 'PartitionStyle', 'Size'],
  },
  {
    name: 'partitions',
    source: 'Get-Partition',
    select: ['DiskNumber', 'PartitionNumber', 'DriveLetter', 'AccessPaths', 'Size'],
  },
  {
    name: 'volumes',
    source: 'Get-Volume',
    select: ['DriveLetter', 'FileSystemLabel', 'FileSystem', 'Size', 'SizeRemaining', 'Path'],
  },
  { name: 'ldm', source: cim('Win32_DiskPartition'), select: ['DiskIndex', 'Type', 'BootPartition'] },
  { name: 'storagesetting', source: 'Get-StorageSetting', select: ['NewDiskPolicy'] },
  {
    name: 'bitlocker',
    source: 'Get-BitLockerVolume',
    select: ['MountPoint', 'ProtectionStatus', 'VolumeStatus'],
  },
  ...REGISTRY_READS.map((r) => ({
    name: r.name,
    source: `Get-ItemProperty -Path '${r.key}'`,
    select: r.values,
  })),
  ...PATH_TESTS.map((t) => ({ name: t.name, source: `Test-Path -Path '${t.path}'` })),
];

/** The folder the capture writes into: C:\Windows\Temp\v2o-capture-<8 hex>. */
export function captureDir(hex = randomBytes(4).toString('hex')): string {
  return `C:\\Windows\\Temp\\v2o-capture-${hex}`;
}

export function captureLine(s: CaptureStatement): string {
  const select = s.select?.length ? ` | Select-Object ${s.select.join(',')}` : '';
  return `${s.source}${select} | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -FilePath "$d\\${s.name}.json"`;
}

/** The whole script: `$d` first, then one statement a line. */
export function captureScript(dir: string, statements = CAPTURE_STATEMENTS): string {
  return [`$d = '${dir}'`, ...statements.map(captureLine)].join('\n');
}

/** Windows PowerShell, the same path from Server 2012 to 2025 (Windows PowerShell 3.0 to 5.1). */
export const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';

/**
 * `-NoProfile -NonInteractive -EncodedCommand <base64 UTF-16LE>`: the execution policy applies to
 * script files only, never to -EncodedCommand, and no quoting survives cmd.exe better than base64.
 */
export function encodedPowerShellArgs(script: string): string {
  return `-NoProfile -NonInteractive -EncodedCommand ${Buffer.from(script, 'utf16le').toString('base64')}`;
}

/** The same as a command line for cmd.exe /c (short scripts only: cmd.exe stops at 8191 characters). */
export function encodedPowerShell(script: string): string {
  return `powershell.exe ${encodedPowerShellArgs(script)}`;
}

/** The guest could not be inspected: PowerShell missing or blocked, or output that does not parse. */
export class GuestCaptureError extends NonRetryableError {}

type Creds = { username: string; password: string };

/** What came back from the guest, before parsing: each file's text (undefined: not written). */
export interface CaptureOutput {
  files: Record<string, string | undefined>;
  exitCode: number;
}

/** Runs the capture in the guest and reads its files back; the folder is removed in any case. */
export async function runCapture(
  source: SourceOps,
  moref: string,
  creds: Creds,
  o: { signal?: AbortSignal; dir?: string; timeoutMs?: number } = {},
): Promise<CaptureOutput> {
  const dir = o.dir ?? captureDir();
  const sig = { signal: o.signal };
  await source.makeGuestDirectory(moref, creds, dir, sig);
  try {
    // PowerShell itself, not through cmd.exe: the encoded script is ~14,000 characters, past
    // cmd.exe's 8191 (CreateProcess allows 32,767). Its output stays in the guest; the files say it all.
    let exitCode: number;
    try {
      ({ exitCode } = await source.runProgramInGuest(
        moref,
        creds,
        POWERSHELL,
        encodedPowerShellArgs(captureScript(dir)),
        { ...sig, timeoutMs: o.timeoutMs ?? 5 * 60_000 },
      ));
    } catch (err) {
      if (o.signal?.aborted) throw err;
      throw new GuestCaptureError(
        `the guest inspection could not start Windows PowerShell (${POWERSHELL}): ${(err as Error).message}`,
        { cause: err, hint: POWERSHELL_FIX },
      );
    }
    const files: Record<string, string | undefined> = {};
    for (const s of CAPTURE_STATEMENTS) {
      const b = await source.readGuestFile(moref, creds, `${dir}\\${s.name}.json`, sig);
      files[s.name] = b === undefined ? undefined : b.toString('utf8');
    }
    return { files, exitCode };
  } finally {
    // Best effort: a folder left in C:\Windows\Temp is harmless, and an error here must not hide the capture's.
    await source
      .runInGuest(moref, creds, `rmdir /S /Q ${dir}`, { ...sig, timeoutMs: 60_000 })
      .catch(() => undefined);
  }
}

const POWERSHELL_FIX =
  'Windows PowerShell 3.0 or later must be installed and allowed to run for the guest administrator (no AppLocker or Software Restriction Policy blocking powershell.exe); fix that, or set drivers.mode: manual and run without guest credentials (the guest checks are then skipped)';

/** Capture and parse: the guest's facts, or a GuestCaptureError naming the part and the fix. */
export async function captureGuest(
  source: SourceOps,
  moref: string,
  creds: Creds,
  o: { signal?: AbortSignal; dir?: string; now?: () => Date } = {},
): Promise<GuestFacts> {
  const out = await runCapture(source, moref, creds, o);
  const written = Object.values(out.files).filter((f) => f !== undefined).length;
  if (written === 0) {
    throw new GuestCaptureError(
      `the guest inspection ran Windows PowerShell, but it wrote no capture file (exit ${out.exitCode}): blocked or not working for this user`,
      { hint: POWERSHELL_FIX },
    );
  }
  return parseGuestFacts(out.files, { capturedAt: (o.now?.() ?? new Date()).toISOString() });
}
