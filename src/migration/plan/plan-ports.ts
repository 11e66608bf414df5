// The ports part: one Neutron port per NIC, on the network the plan maps its port group to,
// with the source MAC when the plan keeps it and a fixed IP when it names one.
import type { Inventory, SourceNic, TargetNetwork } from '../inventory.js';
import type { NetworkMapping, VmMigrationConfig } from '../plan-file.js';
import { blocker, type Finding } from '../rules/types.js';
import { resourceName } from './resource-names.js';
import type { Planned, PlannedPort } from './types.js';

function findNetwork(nets: TargetNetwork[], ref: string): TargetNetwork | undefined {
  return nets.find((n) => n.id === ref) ?? nets.find((n) => n.name === ref);
}

/** The subnet the port goes on: the one the plan names, or the one its fixed IP falls in. */
function subnetOf(mapping: NetworkMapping, net: TargetNetwork, findings: Finding[]): string | undefined {
  let subnetId: string | undefined;
  if (mapping.subnet) {
    subnetId = net.subnets.find((s) => s.id === mapping.subnet || s.name === mapping.subnet)?.id;
    if (!subnetId) {
      const message = `subnet "${mapping.subnet}" is not on network ${net.name}`;
      findings.push(blocker('subnet-not-found', message, 'fix the subnet name or id'));
    }
  }
  if (!mapping.fixedIp) return subnetId;
  const ip = mapping.fixedIp;
  const inSubnet = net.subnets.find((s) => (subnetId ? s.id === subnetId : true) && ipInCidr(ip, s.cidr));
  if (inSubnet) return subnetId ?? inSubnet.id;
  findings.push(
    blocker(
      'fixed-ip-outside',
      `fixed IP ${ip} is in no subnet of network ${net.name} (${net.subnets.map((s) => s.cidr).join(', ')})`,
      'choose an address inside one of the subnets',
    ),
  );
  return subnetId;
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
  const subnetId = subnetOf(mapping, net, findings);
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
  return {
    name: resourceName(vmName, 'nic', i),
    nicKey: nic.key,
    nicLabel: nic.label,
    sourceMac: nic.macAddress,
    portGroup: nic.network,
    networkId: net.id,
    networkName: net.name,
    macAddress: mapping.keepMac ? mac : undefined,
    fixedIp: mapping.fixedIp,
    subnetId,
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
  return { ports, findings };
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  const toInt = (a: string) => {
    const p = a.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return undefined;
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  };
  const a = toInt(ip);
  const b = toInt(net ?? '');
  if (a === undefined || b === undefined) return ip.includes(':') && (net ?? '').includes(':'); // IPv6: trust Neutron
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}
