export interface ServerFault {
  code?: number;
  message: string;
  details?: string;
  created?: string;
}

export interface ServerAddress {
  addr: string;
  version: number;
  macAddr?: string;
  type?: string;
}

export interface Server {
  id: string;
  name: string;
  status: string;
  taskState?: string | null;
  vmState?: string;
  powerState?: number;
  projectId?: string;
  availabilityZone?: string;
  metadata: Record<string, string>;
  tags: string[];
  /** By network name. */
  addresses: Record<string, ServerAddress[]>;
  fault?: ServerFault;
  imageId?: string;
  flavor?: Record<string, unknown>;
  volumesAttached: string[];
  created?: string;
  updated?: string;
}

export function toServer(r: Record<string, unknown>): Server {
  const addresses: Record<string, ServerAddress[]> = {};
  for (const [net, list] of Object.entries(
    (r.addresses as Record<string, Record<string, unknown>[]>) ?? {},
  )) {
    addresses[net] = list.map((a) => ({
      addr: String(a.addr),
      version: Number(a.version),
      macAddr: a['OS-EXT-IPS-MAC:mac_addr'] as string | undefined,
      type: a['OS-EXT-IPS:type'] as string | undefined,
    }));
  }
  const f = r.fault as Record<string, unknown> | undefined;
  const image = r.image as { id?: string } | string | undefined;
  return {
    id: String(r.id),
    name: String(r.name ?? ''),
    status: String(r.status ?? ''),
    taskState: r['OS-EXT-STS:task_state'] as string | null | undefined,
    vmState: r['OS-EXT-STS:vm_state'] as string | undefined,
    powerState: r['OS-EXT-STS:power_state'] as number | undefined,
    projectId: (r.tenant_id ?? r.project_id) as string | undefined,
    availabilityZone: r['OS-EXT-AZ:availability_zone'] as string | undefined,
    metadata: (r.metadata as Record<string, string>) ?? {},
    tags: Array.isArray(r.tags) ? (r.tags as string[]) : [],
    addresses,
    fault: f
      ? {
          code: f.code as number | undefined,
          message: String(f.message ?? ''),
          details: f.details as string | undefined,
          created: f.created as string | undefined,
        }
      : undefined,
    imageId: typeof image === 'object' && image ? image.id : undefined,
    flavor: r.flavor as Record<string, unknown> | undefined,
    volumesAttached: ((r['os-extended-volumes:volumes_attached'] as { id: string }[]) ?? []).map((v) => v.id),
    created: r.created as string | undefined,
    updated: r.updated as string | undefined,
  };
}
