// Neutron subnet shape.

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
