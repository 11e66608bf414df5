// Neutron subnets, by name or id, or those of a network.
import { ConfigError } from '../../../errors.js';
import type { ServiceClient } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';
import { type Subnet, toSubnet } from './results.js';
import { subnetsUrl, subnetUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export async function listSubnets(
  network: ServiceClient,
  opts: { name?: string; networkId?: string; ipVersion?: 4 | 6 } = {},
  o: Sig = {},
): Promise<Subnet[]> {
  const r = await network.get<{ subnets: Record<string, unknown>[] }>(subnetsUrl(network), {
    signal: o.signal,
    query: { name: opts.name, network_id: opts.networkId, ip_version: opts.ipVersion },
  });
  return r.subnets.map(toSubnet);
}

export async function getSubnet(network: ServiceClient, id: string, o: Sig = {}): Promise<Subnet> {
  return toSubnet(await network.getOne(subnetUrl(network, id), 'subnet', o));
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
