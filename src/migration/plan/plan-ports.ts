// The ports part: one Neutron port per NIC, on the network the plan maps its port group to, with
// the source MAC when the plan keeps it and the guest's own addresses as fixed IPs (issue 13): a
// NetKVM adapter is a new device to Windows, so the first-boot task replays the captured static
// configuration, and the port must carry the same addresses or Neutron drops the traffic.
import type { GuestAdapter, GuestAddress, GuestFacts } from '../guest/facts.js';
import type { Inventory, SourceNic, TargetNetwork } from '../inventory.js';
import { fixedIpsOf, type NetworkMapping, type VmMigrationConfig } from '../plan-file.js';
import { blocker, type Finding, warning } from '../rules/types.js';
import { resourceName } from './resource-names.js';
import type { Planned, PlannedAddress, PlannedPort } from './types.js';

function findNetwork(nets: TargetNetwork[], ref: string): TargetNetwork | undefined {
  return nets.find((n) => n.id === ref) ?? nets.find((n) => n.name === ref);
}

type Subnet = TargetNetwork['subnets'][number];

/** The subnets addresses may go on: the one the plan names, else all of the network's. */
function subnetsOf(
  mapping: NetworkMapping,
  net: TargetNetwork,
  findings: Finding[],
): { subnets: Subnet[]; named?: string } {
  if (!mapping.subnet) return { subnets: net.subnets };
  const s = net.subnets.find((x) => x.id === mapping.subnet || x.name === mapping.subnet);
  if (!s) {
    const message = `subnet "${mapping.subnet}" is not on network ${net.name}`;
    findings.push(blocker('subnet-not-found', message, 'fix the subnet name or id'));
    return { subnets: [] };
  }
  return { subnets: [s], named: s.id };
}

const prefixOf = (cidr: string) => Number(cidr.split('/')[1]);
const cidrs = (net: TargetNetwork) => net.subnets.map((s) => s.cidr).join(', ') || 'no subnets';

/** The guest adapter of a vSphere NIC: the same MAC (the facts write it lower case, colon separated). */
export function guestAdapterOf(facts: GuestFacts | undefined, nic: SourceNic): GuestAdapter | undefined {
  const mac = nic.macAddress.toLowerCase().replace(/-/g, ':');
  return facts?.adapters.find((a) => a.mac.toLowerCase().replace(/-/g, ':') === mac);
}

interface Addresses {
  fixedIps: PlannedAddress[];
  allowedAddressPairs: { ipAddress: string }[];
}

/**
 * What goes on the port: `none` nothing; `keep` the static addresses captured (IPv4, manual IPv6)
 * that lie in a subnet; a list replaces the captured addresses position by position (keeping each
 * one's prefix) and must lie in a subnet. Captured addresses outside every subnet warn, or become
 * allowed address pairs.
 */
function addressesFor(
  nic: SourceNic,
  mapping: NetworkMapping,
  net: TargetNetwork,
  adapter: GuestAdapter | undefined,
  findings: Finding[],
): Addresses {
  const out: Addresses = { fixedIps: [], allowedAddressPairs: [] };
  const { subnets } = subnetsOf(mapping, net, findings);
  const mode = fixedIpsOf(mapping);
  if (mode === 'none') return out;
  // A DHCP adapter's leased address is not configuration: Neutron's DHCP gives the new one.
  // APIPA (169.254/16) is what Windows picks when nothing is configured: not an address to keep.
  const captured: GuestAddress[] =
    adapter && !adapter.dhcp
      ? [...adapter.ipv4, ...adapter.ipv6].filter((a) => !a.address.startsWith('169.254.'))
      : [];
  const inSubnet = (ip: string) => subnets.find((s) => ipInCidr(ip, s.cidr));
  const who = adapter ? `${nic.label} ("${adapter.name}")` : nic.label;

  if (Array.isArray(mode)) {
    mode.forEach((ip, i) => {
      const s = inSubnet(ip);
      if (!s) {
        findings.push(
          blocker(
            'fixed-ip-outside',
            `fixed IP ${ip} (${who}) is in no subnet of network ${net.name} (${cidrs(net)})`,
            'choose an address inside one of the subnets',
          ),
        );
        return;
      }
      out.fixedIps.push({
        subnetId: s.id,
        ipAddress: ip,
        prefixLength: captured[i]?.prefixLength ?? prefixOf(s.cidr),
      });
    });
    return out;
  }

  for (const a of captured) {
    const s = inSubnet(a.address);
    if (s) {
      out.fixedIps.push({ subnetId: s.id, ipAddress: a.address, prefixLength: a.prefixLength });
      continue;
    }
    if (mapping.outsideAddresses === 'allowed-address-pairs') {
      out.allowedAddressPairs.push({ ipAddress: a.address });
      findings.push(
        warning(
          'address-allowed-pair',
          `${who} has ${a.address}/${a.prefixLength}, in no subnet of network ${net.name} (${cidrs(net)}): the port allows it (allowed_address_pairs) and the guest keeps it, but Neutron neither assigns nor routes it`,
          `route ${a.address} to the port yourself, or add a subnet holding it to ${net.name} and plan again`,
        ),
      );
    } else {
      findings.push(
        warning(
          'address-outside-network',
          `${who} has ${a.address}/${a.prefixLength}, in no subnet of network ${net.name} (${cidrs(net)}): the port does not get it, and Neutron's port security drops traffic to and from it`,
          `add a subnet holding ${a.address} to network ${net.name}, or set outsideAddresses: allowed-address-pairs for port group "${mapping.portGroup}"`,
        ),
      );
    }
  }
  return out;
}

function planPort(
  vmName: string,
  nic: SourceNic,
  i: number,
  cfg: VmMigrationConfig,
  inv: Inventory,
  findings: Finding[],
): PlannedPort | undefined {
  const mapping = cfg.networks.find((m) => m.portGroup === nic.network);
  if (!mapping) {
    findings.push(
      blocker(
        'unmapped-network',
        `${nic.label} is on port group "${nic.network}", which the plan does not map`,
        `add to networks: - portGroup: ${nic.network}\n      network: <target network>`,
      ),
    );
    return undefined;
  }
  const net = findNetwork(inv.networks, mapping.network);
  if (!net) {
    findings.push(
      blocker(
        'network-not-found',
        `network "${mapping.network}" (for port group "${nic.network}") does not exist in the target cloud`,
        `create it or fix the name (openstack network list); known: ${inv.networks.map((n) => n.name).join(', ') || 'none'}`,
      ),
    );
    return undefined;
  }
  const adapter = guestAdapterOf(inv.guest, nic);
  const named = mapping.subnet
    ? net.subnets.find((s) => s.id === mapping.subnet || s.name === mapping.subnet)?.id
    : undefined;
  const { fixedIps, allowedAddressPairs } = addressesFor(nic, mapping, net, adapter, findings);
  const mac = nic.macAddress.toLowerCase();
  const taken = mapping.keepMac ? inv.macsInUse?.[mac] : undefined;
  if (taken) {
    findings.push(
      blocker(
        'mac-in-use',
        `${nic.label}'s MAC ${mac} is already used by port ${taken} in the target cloud`,
        `delete that port if it is left over (openstack port delete ${taken}), or set keepMac: false for port group "${nic.network}"`,
      ),
    );
  }
  for (const f of fixedIps) {
    const holder = inv.addressesInUse?.[f.ipAddress];
    if (holder) {
      findings.push(
        blocker(
          'address-in-use',
          `${nic.label}'s address ${f.ipAddress} is already held by port ${holder} in the target cloud`,
          `delete that port if it is left over (openstack port delete ${holder}), or give port group "${nic.network}" other fixedIps (or fixedIps: none)`,
        ),
      );
    }
  }
  let mtu = adapter && !adapter.dhcp ? adapter.mtu : undefined;
  if (adapter && net.mtu !== undefined && adapter.mtu > net.mtu) {
    findings.push(
      warning(
        'mtu-above-network',
        `${nic.label} ("${adapter.name}") has MTU ${adapter.mtu} in the guest, network ${net.name} only ${net.mtu}: larger packets would be dropped`,
        `the first-boot task sets ${net.mtu} on the new adapter; map the port group to a network with MTU ${adapter.mtu} if the workload needs it (jumbo frames)`,
      ),
    );
    if (mtu !== undefined) mtu = net.mtu;
  }
  return {
    name: resourceName(vmName, 'nic', i),
    nicKey: nic.key,
    nicLabel: nic.label,
    sourceMac: nic.macAddress,
    portGroup: nic.network,
    networkId: net.id,
    networkName: net.name,
    macAddress: mapping.keepMac ? mac : undefined,
    ...(named && !fixedIps.length ? { subnetId: named } : {}),
    ...(fixedIps.length ? { fixedIps } : {}),
    ...(allowedAddressPairs.length ? { allowedAddressPairs } : {}),
    ...(adapter ? { guestAdapter: adapter.name } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
  };
}

export function planPorts(
  vm: { name: string; nics: SourceNic[] },
  cfg: VmMigrationConfig,
  inv: Inventory,
): Planned<{ ports: PlannedPort[] }> {
  const findings: Finding[] = [];
  const ports = vm.nics
    .map((nic, i) => planPort(vm.name, nic, i, cfg, inv, findings))
    .filter((p): p is PlannedPort => p !== undefined);
  // Allowed (Neutron has no objection), but rarely meant: say it in the plan.
  const byNet = new Map<string, PlannedPort[]>();
  for (const p of ports) byNet.set(p.networkId, [...(byNet.get(p.networkId) ?? []), p]);
  for (const [, same] of byNet) {
    if (same.length < 2) continue;
    findings.push(
      warning(
        'nics-share-network',
        `${same.map((p) => p.nicLabel).join(' and ')} go to the same network ${same[0]!.networkName}: each gets its own port there`,
        'nothing to do if that is how the VM was wired; otherwise map the port groups to different networks',
      ),
    );
  }
  if (inv.guest) {
    for (const nic of vm.nics) {
      if (!guestAdapterOf(inv.guest, nic))
        findings.push(
          warning(
            'nic-not-in-guest',
            `${nic.label} (MAC ${nic.macAddress.toLowerCase()}) has no adapter with that MAC in the guest: its port gets no captured addresses and the first-boot task matches it by order`,
            'check the adapter in the guest (Get-NetAdapter); a disabled adapter is not listed',
          ),
        );
    }
  }
  return { ports, findings };
}

function ipv4ToInt(a: string): number | undefined {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(Number.isInteger(x) && x >= 0 && x <= 255))) return undefined;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function ipv6ToBigInt(a: string): bigint | undefined {
  if (!a.includes(':')) return undefined;
  const [head, tail, extra] = a.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(net ?? '');
  if (a !== undefined && b !== undefined) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (a & mask) === (b & mask);
  }
  const a6 = ipv6ToBigInt(ip);
  const b6 = ipv6ToBigInt(net ?? '');
  if (a6 === undefined || b6 === undefined) return false;
  const shift = BigInt(128 - bits);
  return a6 >> shift === b6 >> shift;
}
