// The instance metadata document Nova's metadata service serves to a server about itself
// (/openstack/latest/meta_data.json: Nova docs, "Metadata service", OpenStack format).

export interface InstanceMetadata {
  /** The server's id. */
  uuid: string;
  name: string;
  availabilityZone?: string;
  projectId?: string;
  hostname?: string;
}

export function toInstanceMetadata(r: Record<string, unknown>): InstanceMetadata {
  return {
    uuid: String(r.uuid ?? ''),
    name: String(r.name ?? ''),
    availabilityZone: (r.availability_zone as string | null) ?? undefined,
    projectId: (r.project_id as string | null) ?? undefined,
    hostname: (r.hostname as string | null) ?? undefined,
  };
}
