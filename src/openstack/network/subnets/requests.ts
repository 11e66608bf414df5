// Neutron subnets, by name or id, or those of a network.
import { ConfigError } from '../../../errors.js';
import type { ServiceClient } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';

type Sig = { signal?: AbortSignal };

export interface Subnet {
  id: string;
  name: string;
  networkId: string;
  cidr: string;
  ipVersion: number;
  gatewayIp?: string | null;
  enableDhcp: boolean;
  allocationPools: { start: string; end: string }[];
  dnsNameservers: string[];
}

export function toSubnet(r: Record<string, unknown>): Subnet {
  return {
    id: String(r.id),
    name: String(r.name ?? ''),
    networkId: String(r.network_id),
    cidr: String(r.cidr),
    ipVersion: Number(r.ip_version),
    gatewayIp: r.gateway_ip as string | null | undefined,
    enableDhcp: r.enable_dhcp === true,
    allocationPools: (r.allocation_pools as { start: string; end: string }[]) ?? [],
    dnsNameservers: (r.dns_nameservers as string[]) ?? [],
  };
}

export async function listSubnets(
  network: ServiceClient,
  opts: { name?: string; networkId?: string; ipVersion?: 4 | 6 } = {},
  o: Sig = {},
): Promise<Subnet[]> {
  const r = await network.get<{ subnets: Record<string, unknown>[] }>(network.url('subnets'), {
    signal: o.signal,
    query: { name: opts.name, network_id: opts.networkId, ip_version: opts.ipVersion },
  });
  return r.subnets.map(toSubnet);
}

export async function getSubnet(network: ServiceClient, id: string, o: Sig = {}): Promise<Subnet> {
  const r = await network.get<{ subnet: Record<string, unknown> }>(network.url('subnets', id), {
    signal: o.signal,
  });
  return toSubnet(r.subnet);
}

/** A subnet by id or unique name (optionally within a network). */
export async function findSubnet(
  network: ServiceClient,
  nameOrId: string,
  opts: { networkId?: string } & Sig = {},
): Promise<Subnet> {
  if (/^[0-9a-f-]{36}$/i.test(nameOrId)) {
    try {
      return await getSubnet(network, nameOrId, opts);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
  const found = await listSubnets(network, { name: nameOrId, networkId: opts.networkId }, opts);
  if (found.length === 1) return found[0]!;
  throw new ConfigError(
    found.length
      ? `${found.length} subnets are named '${nameOrId}'`
      : `subnet '${nameOrId}' does not exist${opts.networkId ? ` in network ${opts.networkId}` : ''}`,
    { hint: 'give the subnet by id, or fix its name in the plan' },
  );
}
