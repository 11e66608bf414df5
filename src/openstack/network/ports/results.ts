// Neutron port shape (the {"port": ...} envelope is unwrapped by the requests).

export interface Port {
  id: string;
  name: string;
  description: string;
  networkId: string;
  macAddress: string;
  fixedIps: { subnetId: string; ipAddress: string }[];
  status: string;
  deviceId: string;
  deviceOwner: string;
  projectId?: string;
  tags: string[];
  securityGroups: string[];
  allowedAddressPairs: { ipAddress: string; macAddress?: string }[];
}

export function toPort(r: Record<string, unknown>): Port {
  return {
    id: String(r.id),
    name: String(r.name ?? ''),
    description: String(r.description ?? ''),
    networkId: String(r.network_id ?? ''),
    macAddress: String(r.mac_address ?? ''),
    fixedIps: ((r.fixed_ips as { subnet_id: string; ip_address: string }[]) ?? []).map((f) => ({
      subnetId: f.subnet_id,
      ipAddress: f.ip_address,
    })),
    status: String(r.status ?? ''),
    deviceId: String(r.device_id ?? ''),
    deviceOwner: String(r.device_owner ?? ''),
    projectId: (r.project_id ?? r.tenant_id) as string | undefined,
    tags: (r.tags as string[]) ?? [],
    securityGroups: (r.security_groups as string[]) ?? [],
    allowedAddressPairs: (
      (r.allowed_address_pairs as { ip_address: string; mac_address?: string }[]) ?? []
    ).map((a) => ({ ipAddress: a.ip_address, ...(a.mac_address ? { macAddress: a.mac_address } : {}) })),
  };
}
