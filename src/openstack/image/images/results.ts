// Glance v2 image shapes. Glance puts custom properties at the top level of the image:
// they are gathered into `properties` here.

export type ImageStatus =
  | 'queued'
  | 'saving'
  | 'uploading'
  | 'importing'
  | 'active'
  | 'killed'
  | 'deleted'
  | 'pending_delete'
  | 'deactivated';

export interface Image {
  id: string;
  name?: string;
  status: ImageStatus;
  diskFormat?: string;
  containerFormat?: string;
  size?: number;
  virtualSize?: number;
  /** md5 of the data. */
  checksum?: string;
  osHashAlgo?: string;
  osHashValue?: string;
  tags: string[];
  visibility?: string;
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  createdAt?: string;
  updatedAt?: string;
  /** Every non-core attribute (os_type, hw_disk_bus, v2o_run_id ...). */
  properties: Record<string, string>;
}

const CORE = new Set([
  'id',
  'name',
  'status',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'tags',
  'visibility',
  'min_disk',
  'min_ram',
  'protected',
  'created_at',
  'updated_at',
  'owner',
  'file',
  'schema',
  'self',
  'locations',
  'direct_url',
  'stores',
  'os_hidden',
]);

export function toImage(raw: Record<string, unknown>): Image {
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!CORE.has(k) && v !== null && v !== undefined) properties[k] = String(v);
  }
  const n = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: String(raw.id),
    name: s(raw.name),
    status: raw.status as ImageStatus,
    diskFormat: s(raw.disk_format),
    containerFormat: s(raw.container_format),
    size: n(raw.size),
    virtualSize: n(raw.virtual_size),
    checksum: s(raw.checksum),
    osHashAlgo: s(raw.os_hash_algo),
    osHashValue: s(raw.os_hash_value),
    tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
    visibility: s(raw.visibility),
    minDisk: n(raw.min_disk),
    minRam: n(raw.min_ram),
    protected: typeof raw.protected === 'boolean' ? raw.protected : undefined,
    createdAt: s(raw.created_at),
    updatedAt: s(raw.updated_at),
    properties,
  };
}
