export interface Volume {
  id: string;
  name?: string;
  status: string;
  /** GiB */
  size: number;
  bootable: boolean;
  /** Cinder's `encrypted`: the volume type has an encryption spec (unwritten blocks read back as noise). */
  encrypted: boolean;
  volumeType?: string;
  availabilityZone?: string;
  metadata: Record<string, string>;
  /** Image properties carried by the volume (copied to images made from it, read by Nova at boot). */
  imageMetadata: Record<string, string>;
  attachments: { serverId: string; attachmentId?: string; device?: string }[];
  createdAt?: string;
}

export function toVolume(r: Record<string, unknown>): Volume {
  return {
    id: String(r.id),
    name: (r.name as string | null) ?? undefined,
    status: String(r.status ?? ''),
    size: Number(r.size ?? 0),
    // Cinder sends bootable as the string "true"/"false" (volume views), encrypted as a boolean.
    bootable: r.bootable === true || r.bootable === 'true',
    encrypted: r.encrypted === true || r.encrypted === 'true',
    volumeType: (r.volume_type as string | null) ?? undefined,
    availabilityZone: (r.availability_zone as string | null) ?? undefined,
    metadata: (r.metadata as Record<string, string>) ?? {},
    imageMetadata: (r.volume_image_metadata as Record<string, string>) ?? {},
    attachments: ((r.attachments as Record<string, unknown>[]) ?? []).map((a) => ({
      serverId: String(a.server_id),
      attachmentId: a.attachment_id as string | undefined,
      device: a.device as string | undefined,
    })),
    createdAt: r.created_at as string | undefined,
  };
}
