// Neutron ports: create with a fixed MAC, fixed IPs and allowed address pairs, found again
// by tag, name or description; list; delete. Setting mac_address or a fixed ip_address is allowed by
// Neutron's default policy only to the network's owner or an admin.
import { ConfigError } from '../../../errors.js';
import type { ServiceClient } from '../../client/service-client.js';
import { type Port, toPort } from './results.js';
import { portsUrl, portTagsUrl, portUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export interface CreatePortOptions {
  networkId: string;
  name?: string;
  /** Free text; handy to find the port again (e.g. the run id and NIC key). */
  description?: string;
  /** e.g. '00:50:56:ab:cd:ef'. Keeping the source MAC keeps only the MAC: Windows ties its IP settings to the adapter, not to it. */
  macAddress?: string;
  fixedIps?: { subnetId?: string; ipAddress?: string }[];
  /** Addresses (and MACs) port security lets through besides the fixed IPs; Neutron does not assign them. */
  allowedAddressPairs?: { ipAddress: string; macAddress?: string }[];
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  /** Admin only: create the port in another project. */
  projectId?: string;
  /** Set after creation through the tags API. */
  tags?: string[];
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/** POST /ports body (pure). */
export function toPortCreateBody(o: CreatePortOptions): Record<string, unknown> {
  const p: Record<string, unknown> = { network_id: o.networkId, admin_state_up: true };
  if (o.name !== undefined) p.name = o.name;
  if (o.description !== undefined) p.description = o.description;
  if (o.macAddress !== undefined) {
    const mac = o.macAddress.toLowerCase().replace(/-/g, ':');
    if (!MAC.test(mac) || (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1) {
      throw new ConfigError(`'${o.macAddress}' is not a unicast MAC address`, {
        hint: 'give six hex pairs, e.g. 00:50:56:ab:cd:ef',
      });
    }
    p.mac_address = mac;
  }
  if (o.fixedIps?.length) {
    p.fixed_ips = o.fixedIps.map((f) => {
      const x: Record<string, string> = {};
      if (f.subnetId) x.subnet_id = f.subnetId;
      if (f.ipAddress) x.ip_address = f.ipAddress;
      return x;
    });
  }
  if (o.allowedAddressPairs?.length) {
    p.allowed_address_pairs = o.allowedAddressPairs.map((a) =>
      a.macAddress ? { ip_address: a.ipAddress, mac_address: a.macAddress } : { ip_address: a.ipAddress },
    );
  }
  if (o.securityGroups) p.security_groups = o.securityGroups;
  if (o.portSecurityEnabled !== undefined) p.port_security_enabled = o.portSecurityEnabled;
  if (o.projectId) p.project_id = o.projectId;
  return { port: p };
}

/** Create (201), then add tags. POST is not retried: find the port by tag/description before creating again. */
export async function createPort(
  network: ServiceClient,
  opts: CreatePortOptions,
  o: Sig = {},
): Promise<Port> {
  const r = await network.post<{ port: Record<string, unknown> }>(portsUrl(network), toPortCreateBody(opts), {
    okCodes: [201],
    signal: o.signal,
  });
  let port = toPort(r.port);
  if (opts.tags?.length) port = { ...port, tags: await setPortTags(network, port.id, opts.tags, o) };
  return port;
}

/** Replace the port's tags (PUT /ports/{id}/tags). */
export async function setPortTags(
  network: ServiceClient,
  id: string,
  tags: string[],
  o: Sig = {},
): Promise<string[]> {
  const r = await network.put<{ tags: string[] }>(
    portTagsUrl(network, id),
    { tags },
    {
      okCodes: [200],
      signal: o.signal,
    },
  );
  return r.tags;
}

export async function getPort(network: ServiceClient, id: string, o: Sig = {}): Promise<Port> {
  return toPort(await network.getOne(portUrl(network, id), 'port', o));
}

export interface ListPortsOptions {
  networkId?: string;
  name?: string;
  description?: string;
  macAddress?: string;
  deviceId?: string;
  /** Ports carrying all of these tags. */
  tags?: string[];
  /** Only these attributes in the answer (`fields=`), to keep a listing of every port small. */
  fields?: string[];
}

export async function listPorts(
  network: ServiceClient,
  opts: ListPortsOptions = {},
  o: Sig = {},
): Promise<Port[]> {
  const r = await network.get<{ ports: Record<string, unknown>[] }>(portsUrl(network), {
    signal: o.signal,
    query: {
      network_id: opts.networkId,
      name: opts.name,
      description: opts.description,
      mac_address: opts.macAddress?.toLowerCase(),
      device_id: opts.deviceId,
      tags: opts.tags?.length ? opts.tags.join(',') : undefined,
      fields: opts.fields?.length ? opts.fields : undefined,
    },
  });
  return r.ports.map(toPort);
}

export async function deletePort(
  network: ServiceClient,
  id: string,
  o: Sig & { ignoreMissing?: boolean } = {},
): Promise<void> {
  await network.request('DELETE', portUrl(network, id), {
    okCodes: o.ignoreMissing ? [204, 404] : [204],
    signal: o.signal,
  });
}
