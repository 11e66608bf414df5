// Neutron networks, found by name or id.
import { ConfigError } from '../../../errors.js';
import type { ServiceClient } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';
import { type Network, toNetwork } from './results.js';
import { networksUrl, networkUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export async function listNetworks(
  network: ServiceClient,
  opts: { name?: string; id?: string; tags?: string[]; shared?: boolean } = {},
  o: Sig = {},
): Promise<Network[]> {
  const r = await network.get<{ networks: Record<string, unknown>[] }>(networksUrl(network), {
    signal: o.signal,
    query: { name: opts.name, id: opts.id, tags: opts.tags?.join(','), shared: opts.shared },
  });
  return r.networks.map(toNetwork);
}

export async function getNetwork(network: ServiceClient, id: string, o: Sig = {}): Promise<Network> {
  return toNetwork(await network.getOne(networkUrl(network, id), 'network', o));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A network by id or unique name; ConfigError (with what exists) when absent or ambiguous. */
export async function findNetwork(network: ServiceClient, nameOrId: string, o: Sig = {}): Promise<Network> {
  if (UUID.test(nameOrId)) {
    try {
      return await getNetwork(network, nameOrId, o);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
  const found = await listNetworks(network, { name: nameOrId }, o);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new ConfigError(
      `${found.length} networks are named '${nameOrId}': ${found.map((n) => n.id).join(', ')}`,
      {
        hint: 'give the network by id instead of name',
      },
    );
  }
  const all = await listNetworks(network, {}, o);
  throw new ConfigError(
    `network '${nameOrId}' does not exist or is not visible to this project (visible: ${all.map((n) => n.name || n.id).join(', ') || 'none'})`,
    {
      hint: 'fix the network name in the plan, or ask the cloud admin to share the network with the project',
    },
  );
}
