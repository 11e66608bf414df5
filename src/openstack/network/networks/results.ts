// Neutron network shape.

export interface Network {
  id: string;
  name: string;
  status?: string;
  shared: boolean;
  external: boolean;
  projectId?: string;
  subnetIds: string[];
  mtu?: number;
  tags: string[];
}

export function toNetwork(r: Record<string, unknown>): Network {
  return {
    id: String(r.id),
    name: String(r.name ?? ''),
    status: r.status as string | undefined,
    shared: r.shared === true,
    external: r['router:external'] === true,
    projectId: (r.project_id ?? r.tenant_id) as string | undefined,
    subnetIds: (r.subnets as string[]) ?? [],
    mtu: r.mtu as number | undefined,
    tags: (r.tags as string[]) ?? [],
  };
}
