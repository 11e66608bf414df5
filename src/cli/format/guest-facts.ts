// The guest's captured facts as text: a short section for `v2o plan` (adapters with their
// addresses, disks, SAN policy) and the whole network identity and disk layout for
// `v2o inventory --guest`. One renderer, so both say the same thing the same way.
import { formatBytes } from '../../format-bytes.js';
import type { GuestAdapter, GuestFacts } from '../../migration/guest/facts.js';

const cidrs = (a: GuestAdapter) => [...a.ipv4, ...a.ipv6].map((x) => `${x.address}/${x.prefixLength}`);

function adapterShort(a: GuestAdapter): string {
  const addr = a.dhcp
    ? `DHCP${a.ipv4.length ? ` (now ${cidrs(a).join(', ')})` : ''}`
    : cidrs(a).join(', ') || 'no address';
  const gw = a.gateways.length ? `, gateway ${a.gateways.map((g) => g.nextHop).join(', ')}` : '';
  return `"${a.name}" ${a.mac} ${addr}${gw}`;
}

function adapterFull(a: GuestAdapter, i: string): string[] {
  return [
    `${i}"${a.name}"  ${a.mac}  ${a.description}  ${a.status}  ifIndex ${a.ifIndex}`,
    `${i}  ${a.dhcp ? 'DHCP' : 'static'}  ${cidrs(a).join(', ') || 'no address'}`,
    `${i}  gateways   ${a.gateways.map((g) => `${g.nextHop} (metric ${g.metric})`).join(', ') || 'none'}`,
    `${i}  routes     ${a.routes.map((r) => `${r.destination} via ${r.nextHop} (metric ${r.metric})`).join(', ') || 'none'}`,
    `${i}  DNS        ${a.dnsServers.join(', ') || 'none'}; suffix ${a.dnsSuffix ?? '-'}; register ${a.registerInDns ? 'yes' : 'no'}`,
    `${i}  MTU ${a.mtu}  category ${a.category ?? '-'}${a.vlanId ? `  VLAN ${a.vlanId}` : ''}`,
  ];
}

function disks(g: GuestFacts, i: string, full: boolean): string[] {
  return g.disks.flatMap((d) => {
    const head = `${i}disk ${d.number}  ${d.online ? 'online' : 'OFFLINE'}  ${formatBytes(d.sizeBytes)} ${d.partitionStyle}${d.system ? '  system' : ''}${d.boot ? '  boot' : ''}${d.dynamic ? '  dynamic' : ''}`;
    const letters = d.volumes.map((v) => v.driveLetter).filter(Boolean);
    if (!full)
      return [`${head}  ${letters.length ? letters.map((l) => `${l}:`).join(' ') : 'no drive letter'}`];
    return [
      head,
      ...d.volumes.map(
        (v) =>
          `${i}  ${v.driveLetter ? `${v.driveLetter}:` : '--'}  ${v.guid}  ${v.fileSystem ?? '-'}${v.label ? ` "${v.label}"` : ''}  ${formatBytes(v.freeBytes)} free of ${formatBytes(v.sizeBytes)}`,
      ),
    ];
  });
}

/** `full`: everything `inventory --guest` shows; otherwise the plan's short section. */
export function renderGuestFacts(g: GuestFacts, indent: string, full = false): string[] {
  const i = indent;
  const head = `${i}${g.hostname || '(no name)'}: Windows PowerShell ${g.powershellVersion}, captured ${g.capturedAt}`;
  if (!full) {
    return [
      head,
      ...g.adapters.map((a) => `${i}  adapter ${adapterShort(a)}`),
      ...disks(g, `${i}  `, false),
      `${i}  SAN policy ${g.sanPolicy}${g.ghostAdapters.length ? `; ghost adapters: ${g.ghostAdapters.map((x) => x.name).join(', ')}` : ''}`,
    ];
  }
  const bl = g.bitlocker.map((v) => `${v.mountPoint} ${v.protection} (${v.volumeStatus})`).join(', ');
  return [
    head,
    `${i}  SMBIOS UUID ${g.sourceUuid || '-'}; ${g.domainController ? 'domain controller' : g.partOfDomain ? 'domain member' : 'workgroup'}; language mode ${g.languageMode}`,
    `${i}  adapters:`,
    ...g.adapters.flatMap((a) => adapterFull(a, `${i}    `)),
    ...(g.ghostAdapters.length
      ? [`${i}  ghost adapters:`, ...g.ghostAdapters.map((x) => `${i}    ${x.name}  ${x.instanceId}`)]
      : []),
    ...(g.teams.length
      ? [`${i}  NIC teams: ${g.teams.map((t) => `${t.name} (${t.members.join(', ')})`).join('; ')}`]
      : []),
    `${i}  disks:`,
    ...disks(g, `${i}    `, true),
    `${i}  SAN policy ${g.sanPolicy}`,
    `${i}  BitLocker ${bl || 'none'}; system volume ${formatBytes(g.systemFreeBytes)} free`,
    ...(g.gaps.length
      ? [`${i}  not reported: ${g.gaps.map((x) => `${x.part} (${x.reason})`).join('; ')}`]
      : []),
  ];
}
