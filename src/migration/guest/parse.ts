// The capture's files (capture.ts) → GuestFacts. Pure. Windows PowerShell's ConvertTo-Json has
// quirks this reads through (contract §A): one object comes out bare, not in an array; no object
// writes an empty file; arrays may come wrapped as {value:[…],Count:n}; enums are integers on 5.1
// (strings elsewhere); a [char] drive letter is "E", "\u0000" or null; Out-File -Encoding utf8
// writes a BOM; objects nested deeper than -Depth become their ToString() string. PowerShell 4.0
// (Server 2012 R2) has no Get-PnpDevice nor Get-StorageSetting: the SAN policy then comes from the
// registry, and the ghost adapters are a gap.
import { NonRetryableError } from '../../errors.js';
import type {
  GuestAdapter,
  GuestBitlockerVolume,
  GuestDisk,
  GuestFacts,
  GuestGhostAdapter,
  GuestVolume,
  NetworkCategory,
  SanPolicy,
} from './facts.js';

/** A capture file that is not what PowerShell writes: names the file. */
export class GuestParseError extends NonRetryableError {}

type Row = Record<string, unknown>;
type Files = Record<string, string | undefined>;

function parseError(file: string, what: string): GuestParseError {
  return new GuestParseError(`the guest capture's ${file}.json does not parse: ${what}`, {
    hint: "run the capture again (`v2o inventory --vm NAME --guest`); if it persists, the guest's Windows PowerShell writes something v2o does not know: report it with that file's content",
  });
}

/** The JSON value of a file: undefined when the file was not written, null when it is empty. */
function jsonOf(files: Files, name: string): unknown {
  const text = files[name];
  if (text === undefined) return undefined;
  const t = text
    .replace(/^\uFEFF/, '')
    .replaceAll(String.fromCharCode(0), '')
    .trim();
  if (!t) return null;
  try {
    return JSON.parse(t);
  } catch (err) {
    throw parseError(name, `${(err as Error).message} (starts with ${JSON.stringify(t.slice(0, 40))})`);
  }
}

/** PowerShell's ways of writing a list: a bare object, an array, {value:[…],Count:n}, nothing. */
function listOf(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && Array.isArray((v as Row).value) && 'Count' in (v as Row))
    return (v as Row).value as unknown[];
  return [v];
}

/** The file's objects; a string where an object belongs (depth-truncated) is an error naming the file. */
function rows(files: Files, name: string): Row[] | undefined {
  const v = jsonOf(files, name);
  if (v === undefined) return undefined;
  return listOf(v).map((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw parseError(
        name,
        `item ${i + 1} is ${JSON.stringify(r)?.slice(0, 60)}, where an object was expected (nested deeper than ConvertTo-Json -Depth?)`,
      );
    return r as Row;
  });
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const bool = (v: unknown): boolean | undefined =>
  typeof v === 'boolean'
    ? v
    : v === 1 || v === 0
      ? v === 1
      : typeof v === 'string' && /^(true|false)$/i.test(v)
        ? v.toLowerCase() === 'true'
        : undefined;
const strings = (v: unknown): string[] =>
  listOf(v)
    .map(str)
    .filter((s): s is string => !!s);

/** A list property; "System.String[]" is what a list deeper than -Depth becomes: an error naming the file. */
function listProp(file: string, row: Row, prop: string): string[] {
  const v = row[prop];
  if (typeof v === 'string' && /^System\.[\w.]+\[\]$/.test(v))
    throw parseError(
      file,
      `${prop} is ${JSON.stringify(v)}, where a list was expected (nested deeper than ConvertTo-Json -Depth?)`,
    );
  return strings(v);
}

/** An enum written as its integer (5.1) or its name; unknown values come back as they were written. */
function enumOf<T extends string>(v: unknown, names: Record<number, T>): T | string | undefined {
  const n = num(v);
  if (n !== undefined && names[n] !== undefined) return names[n];
  if (typeof v === 'string') {
    const hit = Object.values(names).find((x) => x.toLowerCase() === v.toLowerCase());
    return hit ?? v;
  }
  return n === undefined ? undefined : String(n);
}

const ADDRESS_FAMILY: Record<number, 'IPv4' | 'IPv6'> = { 2: 'IPv4', 23: 'IPv6' };
const PREFIX_ORIGIN: Record<number, string> = {
  0: 'Other',
  1: 'Manual',
  2: 'WellKnown',
  3: 'Dhcp',
  4: 'RouterAdvertisement',
};
const DHCP: Record<number, string> = { 0: 'Disabled', 1: 'Enabled' };
const CATEGORY: Record<number, NetworkCategory> = { 0: 'Public', 1: 'Private', 2: 'DomainAuthenticated' };
const NEW_DISK_POLICY: Record<number, SanPolicy> = {
  1: 'OnlineAll',
  2: 'OfflineShared',
  3: 'OfflineAll',
  4: 'OfflineInternal',
};
/** VDS_SAN_POLICY, the registry's SanPolicy value. */
const VDS_SAN_POLICY: Record<number, SanPolicy> = {
  1: 'OnlineAll',
  2: 'OfflineShared',
  3: 'OfflineAll',
  4: 'OfflineInternal',
};
const PARTITION_STYLE: Record<number, 'RAW' | 'MBR' | 'GPT'> = { 0: 'RAW', 1: 'MBR', 2: 'GPT' };
const PROTECTION: Record<number, 'Off' | 'On' | 'Unknown'> = { 0: 'Off', 1: 'On', 2: 'Unknown' };
const VOLUME_STATUS: Record<number, string> = {
  0: 'FullyDecrypted',
  1: 'FullyEncrypted',
  2: 'EncryptionInProgress',
  3: 'DecryptionInProgress',
  4: 'EncryptionPaused',
  5: 'DecryptionPaused',
};
const LANGUAGE_MODE: Record<number, GuestFacts['languageMode']> = {
  0: 'FullLanguage',
  1: 'RestrictedLanguage',
  2: 'NoLanguage',
  3: 'ConstrainedLanguage',
};

const family = (r: Row) => enumOf(r.AddressFamily, ADDRESS_FAMILY);
const ifIndexOf = (r: Row) => num(r.InterfaceIndex ?? r.ifIndex);

/** "00-50-56-A1-30-01" → "00:50:56:a1:30:01". */
export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** A [char] as ConvertTo-Json writes it: "E", "\u0000" (no letter), null, or (seldom) its code. */
function driveLetter(v: unknown): string | undefined {
  if (typeof v === 'number') return v > 32 && v < 127 ? String.fromCharCode(v).toUpperCase() : undefined;
  if (typeof v !== 'string') return undefined;
  const c = v.replaceAll(String.fromCharCode(0), '').trim();
  return /^[A-Za-z]$/.test(c) ? c.toUpperCase() : undefined;
}

/** Every part file but the registry reads and path tests, with the cmdlet that writes it (for gaps). */
const PART_CMDLETS: Record<string, string> = {
  psversion: '$PSVersionTable',
  languagemode: '$ExecutionContext',
  computer: 'Get-CimInstance',
  product: 'Get-CimInstance',
  adapters: 'Get-NetAdapter',
  ghosts: 'Get-PnpDevice',
  ipinterfaces: 'Get-NetIPInterface',
  ipaddresses: 'Get-NetIPAddress',
  routes: 'Get-NetRoute',
  dnsservers: 'Get-DnsClientServerAddress',
  dnsclients: 'Get-DnsClient',
  profiles: 'Get-NetConnectionProfile',
  teams: 'Get-NetLbfoTeam',
  disks: 'Get-Disk',
  partitions: 'Get-Partition',
  volumes: 'Get-Volume',
  ldm: 'Get-CimInstance',
  storagesetting: 'Get-StorageSetting',
  bitlocker: 'Get-BitLockerVolume',
};

/** Cmdlets Windows PowerShell gained in 5.0 (Server 2016): missing on 2012 R2's 4.0 and 2012's 3.0. */
const SINCE_PS5 = new Set(['ghosts', 'storagesetting']);

/**
 * Why a part wrote no file: Windows' words on stderr when the caller has them ("The term
 * 'Get-PnpDevice' is not recognized …"), what the release is known to lack, or just that.
 */
function reasonFor(part: string, output: string, psMajor: number | undefined): string {
  const cmdlet = PART_CMDLETS[part];
  const line = cmdlet
    ? output.split(/\r?\n/).find((l) => l.toLowerCase().includes(cmdlet.toLowerCase()))
    : undefined;
  if (line?.trim()) return line.trim();
  if (cmdlet && SINCE_PS5.has(part) && psMajor !== undefined && psMajor < 5)
    return `${cmdlet} does not exist in Windows PowerShell ${psMajor}.0`;
  return `no ${part}.json was written`;
}

function adaptersOf(files: Files): GuestAdapter[] {
  const ifaces = rows(files, 'ipinterfaces') ?? [];
  const addrs = rows(files, 'ipaddresses') ?? [];
  const routes = rows(files, 'routes') ?? [];
  const dns = rows(files, 'dnsservers') ?? [];
  const clients = rows(files, 'dnsclients') ?? [];
  const profiles = rows(files, 'profiles') ?? [];
  const on = (list: Row[], i: number) => list.filter((r) => ifIndexOf(r) === i);
  return (rows(files, 'adapters') ?? []).map((a): GuestAdapter => {
    const i = num(a.ifIndex ?? a.InterfaceIndex) ?? -1;
    const v4 = on(ifaces, i).find((r) => family(r) === 'IPv4');
    const addresses = on(addrs, i).map((r) => ({
      family: family(r),
      address: str(r.IPAddress) ?? '',
      prefixLength: num(r.PrefixLength) ?? 0,
      origin: enumOf(r.PrefixOrigin, PREFIX_ORIGIN),
    }));
    const persistent = on(routes, i).map((r) => ({
      destination: str(r.DestinationPrefix) ?? '',
      nextHop: str(r.NextHop) ?? '',
      metric: num(r.RouteMetric) ?? 0,
    }));
    const isDefault = (d: string) => d === '0.0.0.0/0' || d === '::/0';
    const servers = on(dns, i)
      .sort((x, y) => (family(x) === 'IPv4' ? -1 : 0) - (family(y) === 'IPv4' ? -1 : 0))
      .flatMap((r) => listProp('dnsservers', r, 'ServerAddresses'))
      // Windows' placeholder IPv6 resolvers on an adapter nobody configured for IPv6.
      .filter((s) => !/^fec0:0:0:ffff::[123]$/i.test(s));
    const client = on(clients, i)[0];
    const suffix = str(client?.ConnectionSpecificSuffix);
    const category = enumOf(on(profiles, i)[0]?.NetworkCategory, CATEGORY);
    const vlan = num(a.VlanID);
    return {
      name: str(a.Name) ?? '',
      description: str(a.InterfaceDescription) ?? '',
      mac: normalizeMac(str(a.MacAddress) ?? ''),
      ifIndex: i,
      status: str(a.Status) ?? 'Unknown',
      dhcp: enumOf(v4?.Dhcp, DHCP) === 'Enabled',
      ipv4: addresses
        .filter((x) => x.family === 'IPv4' && x.origin !== 'WellKnown' && x.address)
        .map(({ address, prefixLength }) => ({ address, prefixLength })),
      ipv6: addresses
        .filter((x) => x.family === 'IPv6' && x.origin === 'Manual' && x.address)
        .map(({ address, prefixLength }) => ({ address, prefixLength })),
      gateways: persistent
        .filter((r) => isDefault(r.destination))
        .map(({ nextHop, metric }) => ({ nextHop, metric })),
      routes: persistent.filter((r) => !isDefault(r.destination)),
      dnsServers: [...new Set(servers)],
      ...(suffix ? { dnsSuffix: suffix } : {}),
      registerInDns: bool(client?.RegisterThisConnectionsAddress) ?? true,
      mtu: num(v4?.NlMtu) ?? num(a.MtuSize) ?? 1500,
      ...(category === 'Public' || category === 'Private' || category === 'DomainAuthenticated'
        ? { category }
        : {}),
      ...(vlan ? { vlanId: vlan } : {}),
    };
  });
}

function ghostsOf(list: Row[]): GuestGhostAdapter[] {
  return list
    .filter((r) => bool(r.Present) === false)
    .map((r) => {
      const friendly = str(r.FriendlyName) ?? '';
      return {
        name: friendly,
        // "vmxnet3 Ethernet Adapter #2": Windows numbers a second device of one model.
        description: friendly.replace(/\s+#\d+$/, ''),
        instanceId: str(r.InstanceId) ?? '',
      };
    });
}

function disksOf(files: Files): GuestDisk[] {
  const parts = rows(files, 'partitions') ?? [];
  const vols = rows(files, 'volumes') ?? [];
  const ldm = rows(files, 'ldm') ?? [];
  return (rows(files, 'disks') ?? []).map((d): GuestDisk => {
    const n = num(d.Number) ?? -1;
    const volumes: GuestVolume[] = [];
    for (const p of parts.filter((x) => num(x.DiskNumber) === n)) {
      const paths = listProp('partitions', p, 'AccessPaths');
      const guid = paths.find((x) => /^\\\\\?\\Volume\{/i.test(x));
      const v = guid ? vols.find((x) => str(x.Path)?.toLowerCase() === guid.toLowerCase()) : undefined;
      if (!guid || !v) continue; // MSR and other partitions without a volume
      const letter = driveLetter(v.DriveLetter) ?? driveLetter(p.DriveLetter);
      const label = str(v.FileSystemLabel);
      const fs = str(v.FileSystem);
      volumes.push({
        guid,
        ...(letter ? { driveLetter: letter } : {}),
        ...(label ? { label } : {}),
        ...(fs ? { fileSystem: fs } : {}),
        sizeBytes: num(v.Size) ?? 0,
        freeBytes: num(v.SizeRemaining) ?? 0,
      });
    }
    const style = enumOf(d.PartitionStyle, PARTITION_STYLE);
    return {
      number: n,
      online: !(bool(d.IsOffline) ?? false),
      system: bool(d.IsSystem) ?? false,
      boot: bool(d.IsBoot) ?? false,
      partitionStyle: style === 'MBR' || style === 'GPT' ? style : 'RAW',
      sizeBytes: num(d.Size) ?? 0,
      dynamic: ldm.some((x) => num(x.DiskIndex) === n && /logical disk manager/i.test(str(x.Type) ?? '')),
      volumes,
    };
  });
}

function bitlockerOf(list: Row[]): GuestBitlockerVolume[] {
  return list.map((r) => {
    const p = enumOf(r.ProtectionStatus, PROTECTION);
    return {
      mountPoint: str(r.MountPoint) ?? '',
      protection: p === 'On' || p === 'Off' ? p : 'Unknown',
      volumeStatus: String(enumOf(r.VolumeStatus, VOLUME_STATUS) ?? 'Unknown'),
    };
  });
}

/** The first object of a registry read, {} when the key is missing (an empty file) or not read. */
const regOf = (files: Files, name: string): Row => rows(files, name)?.[0] ?? {};
const testOf = (files: Files, name: string): boolean => bool(jsonOf(files, name)) ?? false;

/** GPO's script execution setting: EnableScripts 0 is "Turn on Script Execution: Disabled" (Restricted). */
function gpoExecutionPolicy(r: Row): string | undefined {
  const enabled = num(r.EnableScripts);
  if (enabled === 0) return 'Restricted';
  const p = str(r.ExecutionPolicy);
  return p || undefined;
}

function sanPolicyOf(files: Files, domainRole: number | undefined): SanPolicy {
  const setting = rows(files, 'storagesetting')?.[0];
  if (setting) {
    const p = enumOf(setting.NewDiskPolicy, NEW_DISK_POLICY);
    return p && Object.values(NEW_DISK_POLICY).includes(p as SanPolicy) ? (p as SanPolicy) : 'Unknown';
  }
  const reg = num(regOf(files, 'reg-sanpolicy').SanPolicy);
  if (reg !== undefined) return VDS_SAN_POLICY[reg] ?? 'Unknown';
  // Unset: Windows Server brings shared-bus disks up offline, client Windows brings everything online.
  return domainRole !== undefined && domainRole <= 1 ? 'OnlineAll' : 'OfflineShared';
}

/** `output`: the run's stderr when the caller has it (for Windows' words in the gaps). */
export function parseGuestFacts(files: Files, o: { output?: string; capturedAt: string }): GuestFacts {
  const gaps: GuestFacts['gaps'] = [];
  const ps = rows(files, 'psversion')?.[0];
  const gap = (part: string) => gaps.push({ part, reason: reasonFor(part, o.output ?? '', num(ps?.Major)) });

  if (!ps) gap('psversion');
  const lm = jsonOf(files, 'languagemode');
  if (lm === undefined) gap('languagemode');
  const language = enumOf(lm, LANGUAGE_MODE);
  const computer = rows(files, 'computer')?.[0];
  if (!computer) gap('computer');
  const product = rows(files, 'product')?.[0];
  if (!product) gap('product');
  for (const part of ['adapters', 'ipinterfaces', 'ipaddresses', 'routes', 'dnsservers', 'dnsclients']) {
    if (files[part] === undefined) gap(part);
  }
  // Get-NetConnectionProfile and Get-NetLbfoTeam exist from Server 2012 on: a missing file is a gap.
  for (const part of ['profiles', 'teams', 'disks', 'partitions', 'volumes', 'ldm']) {
    if (files[part] === undefined) gap(part);
  }
  const ghostRows = rows(files, 'ghosts');
  if (!ghostRows) gap('ghosts');
  // No file: Get-BitLockerVolume does not exist, the BitLocker feature is not installed (Windows
  // Server's default), so there is no BitLocker.
  const blRows = rows(files, 'bitlocker');

  const domainRole = num(computer?.DomainRole);
  const disks = disksOf(files);
  const adapters = adaptersOf(files);
  const volumes = disks.flatMap((d) => d.volumes);
  const system = volumes.find((v) => v.driveLetter === 'C');
  if (!system && files.volumes !== undefined) gap('system volume');
  const session = regOf(files, 'reg-sessionmanager');
  const pendingRename =
    listProp('reg-sessionmanager', session, 'PendingFileRenameOperations').filter((s) => s.trim()).length > 0;
  const device = regOf(files, 'reg-deviceinstall');
  const major = num(ps?.Major);
  const minor = num(ps?.Minor);
  return {
    capturedAt: o.capturedAt,
    hostname: str(computer?.Name) ?? '',
    powershellVersion: major === undefined ? 'unknown' : `${major}.${minor ?? 0}`,
    languageMode:
      language === 'ConstrainedLanguage' || language === 'RestrictedLanguage' || language === 'NoLanguage'
        ? language
        : 'FullLanguage',
    ...(gpoExecutionPolicy(regOf(files, 'reg-pspolicy'))
      ? { executionPolicyByGpo: gpoExecutionPolicy(regOf(files, 'reg-pspolicy')) }
      : {}),
    deviceInstallBlocked: [device.DenyUnspecified, device.DenyDeviceClasses, device.DenyDeviceIDs].some(
      (v) => num(v) === 1,
    ),
    sourceUuid: (str(product?.UUID) ?? '').toLowerCase(),
    domainController: domainRole === 4 || domainRole === 5 || testOf(files, 'key-ntds'),
    partOfDomain: bool(computer?.PartOfDomain) ?? false,
    pendingReboot: [
      ...(testOf(files, 'key-cbs') ? ['CBS'] : []),
      ...(testOf(files, 'key-wu') ? ['WindowsUpdate'] : []),
      ...(pendingRename ? ['PendingFileRenameOperations'] : []),
    ],
    fastStartup: num(regOf(files, 'reg-power').HiberbootEnabled) === 1,
    hibernation: testOf(files, 'key-hiberfil') || num(regOf(files, 'reg-hibernate').HibernateEnabled) === 1,
    realTimeIsUniversal: num(regOf(files, 'reg-tz').RealTimeIsUniversal) === 1,
    bitlocker: bitlockerOf(blRows ?? []),
    adapters,
    ghostAdapters: ghostsOf(ghostRows ?? []),
    teams: (rows(files, 'teams') ?? []).map((t) => ({
      name: str(t.Name) ?? '',
      members: listProp('teams', t, 'Members'),
    })),
    disks,
    sanPolicy: sanPolicyOf(files, domainRole),
    systemFreeBytes: system?.freeBytes ?? 0,
    gaps,
  };
}
