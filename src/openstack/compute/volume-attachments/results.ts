// Nova volume attachment shape (os-volume_attachments).

export interface VolumeAttachment {
  id: string;
  volumeId: string;
  serverId: string;
  device?: string;
  tag?: string;
  deleteOnTermination?: boolean;
}

export function toAttachment(r: Record<string, unknown>): VolumeAttachment {
  return {
    id: String(r.id ?? r.volumeId),
    volumeId: String(r.volumeId),
    serverId: String(r.serverId),
    device: (r.device as string | null) ?? undefined,
    tag: (r.tag as string | null) ?? undefined,
    deleteOnTermination: r.delete_on_termination as boolean | undefined,
  };
}
