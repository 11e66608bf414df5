// What the first-boot task applied (its `result`, read back from Windows) against what the plan
// meant it to (firstboot.json v2 from the same plan): each adapter by name with its MAC, DHCP,
// addresses with prefix, gateways, routes, DNS servers, suffix and (where settable) category;
// the ghosts removed; disks online with their letters; the guest agent and VMware Tools. Pure:
// verify-boot turns the mismatches into its error.
import type { GuestFacts } from '../guest/facts.js';
import type { AdapterReplay, FirstbootConfigV2, FirstbootResult } from './actions.js';

export interface ReplayMismatch {
  /** The adapter's name, "disk E:", "ghost <name>", "guest agent" … */
  target: string;
  what: string;
  expected: string;
  got: string;
}

export interface ReplayComparison {
  mismatches: ReplayMismatch[];
  /** Said, not failed: what Windows decides itself (DomainAuthenticated comes from NLA). */
  notes: string[];
}

const addr = (a: { address: string; prefixLength: number }) => `${a.address}/${a.prefixLength}`;
const set = (xs: string[]) => [...new Set(xs.map((x) => x.toLowerCase()))].sort().join(', ') || 'none';
const list = (xs: string[]) => xs.join(', ') || 'none';

function compareAdapter(
  want: AdapterReplay,
  got: FirstbootResult['adapters'][number] | undefined,
  all: FirstbootResult['adapters'],
  out: ReplayComparison,
): void {
  const m = (what: string, expected: string, actual: string) =>
    out.mismatches.push({ target: want.name, what, expected, got: actual });
  if (!got) {
    m(
      'adapter',
      `an adapter named "${want.name}"`,
      `adapters ${all.map((a) => `"${a.name}"`).join(', ') || 'none'}`,
    );
    return;
  }
  if (want.match.mac && got.mac.toLowerCase() !== want.match.mac.toLowerCase())
    m('MAC', want.match.mac, got.mac);
  if (got.dhcp !== want.dhcp) m('DHCP', want.dhcp ? 'on' : 'off (static)', got.dhcp ? 'on' : 'off (static)');
  if (!want.dhcp) {
    const v4 = set(want.ipv4.map(addr));
    if (set(got.ipv4.map(addr)) !== v4) m('IPv4 addresses', v4, set(got.ipv4.map(addr)));
    const v6 = set(want.ipv6.map(addr));
    if (set(got.ipv6.map(addr)) !== v6) m('IPv6 addresses', v6, set(got.ipv6.map(addr)));
    const gw = (g: { nextHop: string; metric: number }) => `${g.nextHop} metric ${g.metric}`;
    if (set(got.gateways.map(gw)) !== set(want.gateways.map(gw)))
      m('gateways', set(want.gateways.map(gw)), set(got.gateways.map(gw)));
    const rt = (r: { destination: string; nextHop: string }) => `${r.destination} via ${r.nextHop}`;
    if (set(got.routes.map(rt)) !== set(want.routes.map(rt)))
      m('persistent routes', set(want.routes.map(rt)), set(got.routes.map(rt)));
  }
  // The order of DNS servers is the order Windows asks them in.
  if (want.dnsServers.length && list(got.dnsServers).toLowerCase() !== list(want.dnsServers).toLowerCase())
    m('DNS servers', list(want.dnsServers), list(got.dnsServers));
  if ((got.dnsSuffix ?? '').toLowerCase() !== (want.dnsSuffix ?? '').toLowerCase())
    m('DNS suffix', want.dnsSuffix || 'none', got.dnsSuffix || 'none');
  if (want.category === 'Private' || want.category === 'Public') {
    if (got.category !== want.category) m('network category', want.category, got.category ?? 'none');
  } else if (want.category === 'DomainAuthenticated' && got.category !== 'DomainAuthenticated') {
    out.notes.push(
      `"${want.name}" is ${got.category ?? 'without a network profile'}, not DomainAuthenticated yet: Windows sets that itself once it reaches a domain controller through the adapter; until then the ${got.category ?? 'Public'} firewall profile applies`,
    );
  }
}

export function compareReplay(
  config: FirstbootConfigV2,
  result: FirstbootResult,
  facts?: Pick<GuestFacts, 'ghostAdapters'>,
): ReplayComparison {
  const out: ReplayComparison = { mismatches: [], notes: [] };
  for (const want of config.network?.adapters ?? []) {
    const got = result.adapters.find((a) => a.name.toLowerCase() === want.name.toLowerCase());
    compareAdapter(want, got, result.adapters, out);
  }
  if (config.network) {
    const removed = new Set(result.ghostsRemoved.map((g) => g.toLowerCase()));
    const patterns = config.network.removeGhosts.descriptions.map((d) => d.toLowerCase());
    for (const g of facts?.ghostAdapters ?? []) {
      if (!patterns.some((p) => g.description.toLowerCase().startsWith(p))) continue;
      if (!removed.has(g.instanceId.toLowerCase()) && !removed.has(g.name.toLowerCase()))
        out.mismatches.push({
          target: `ghost "${g.name}"`,
          what: `removed (${config.network.removeGhosts.mechanism})`,
          expected: g.instanceId,
          got: `removed: ${list(result.ghostsRemoved)}`,
        });
    }
  }
  if (config.disks) {
    if (result.sanPolicy !== undefined && result.sanPolicy !== config.disks.sanPolicy)
      out.mismatches.push({
        target: 'disks',
        what: 'SAN policy',
        expected: config.disks.sanPolicy,
        got: result.sanPolicy,
      });
    if (config.disks.online) {
      for (const d of result.disks.filter((x) => !x.online))
        out.mismatches.push({
          target: `disk ${d.number}`,
          what: 'online',
          expected: 'online',
          got: 'offline',
        });
    }
    for (const l of config.disks.letters) {
      const letter = l.driveLetter.toUpperCase();
      if (!result.disks.some((d) => d.letters.includes(letter)))
        out.mismatches.push({
          target: `disk ${letter}:`,
          what: 'drive letter',
          expected: `${letter}: on ${l.volumeGuid}`,
          got: `letters ${list(result.disks.flatMap((d) => d.letters.map((x) => `${x}:`)))}`,
        });
    }
  }
  if (config.guestAgent && result.guestAgent !== 'installed')
    out.mismatches.push({
      target: 'guest agent',
      what: 'installed',
      expected: `installed from ${config.guestAgent.msi}`,
      got: result.guestAgent ?? 'not reported',
    });
  if (config.removeVmwareTools && result.vmwareTools !== 'removed')
    out.mismatches.push({
      target: 'VMware Tools',
      what: 'uninstalled',
      expected: 'removed',
      got: result.vmwareTools ?? 'not reported',
    });
  return out;
}

/** One line per mismatch and per failed action, for the error's message. */
export function describeReplayProblems(c: ReplayComparison, failed: FirstbootResult['failed']): string[] {
  return [
    ...failed.map((f) => `${f.action}${f.target ? ` ${f.target}` : ''} failed: ${f.message}`),
    ...c.mismatches.map((m) => `${m.target}: ${m.what} is ${m.got}, expected ${m.expected}`),
  ];
}
