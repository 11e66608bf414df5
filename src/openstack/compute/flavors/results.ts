export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  /** MiB */
  ram: number;
  /** GiB of root disk; 0 = the root disk is a volume (boot from volume) or the image's size. */
  disk: number;
  ephemeral: number;
  swap: number;
  isPublic: boolean;
  disabled: boolean;
  description?: string;
  extraSpecs?: Record<string, string>;
}

export function toFlavor(r: Record<string, unknown>): Flavor {
  return {
    id: String(r.id),
    name: String(r.name ?? ''),
    vcpus: Number(r.vcpus ?? 0),
    ram: Number(r.ram ?? 0),
    disk: Number(r.disk ?? 0),
    ephemeral: Number(r['OS-FLV-EXT-DATA:ephemeral'] ?? 0),
    swap: typeof r.swap === 'number' ? r.swap : 0,
    isPublic: r['os-flavor-access:is_public'] !== false,
    disabled: r['OS-FLV-DISABLED:disabled'] === true,
    description: typeof r.description === 'string' ? r.description : undefined,
    extraSpecs: (r.extra_specs as Record<string, string> | undefined) ?? undefined,
  };
}
