// Nova volume attachments (os-volume_attachments).
import type { ServiceClient } from '../../client/service-client.js';

type Sig = { signal?: AbortSignal };

export interface VolumeAttachment {
  id: string;
  volumeId: string;
  serverId: string;
  device?: string;
  tag?: string;
  deleteOnTermination?: boolean;
}

const url = (c: ServiceClient, serverId: string, volumeId?: string) =>
  volumeId
    ? c.url('servers', serverId, 'os-volume_attachments', volumeId)
    : c.url('servers', serverId, 'os-volume_attachments');

function toAttachment(r: Record<string, unknown>): VolumeAttachment {
  return {
    id: String(r.id ?? r.volumeId),
    volumeId: String(r.volumeId),
    serverId: String(r.serverId),
    device: (r.device as string | null) ?? undefined,
    tag: (r.tag as string | null) ?? undefined,
    deleteOnTermination: r.delete_on_termination as boolean | undefined,
  };
}

export async function listVolumeAttachments(
  compute: ServiceClient,
  serverId: string,
  o: Sig = {},
): Promise<VolumeAttachment[]> {
  const r = await compute.get<{ volumeAttachments: Record<string, unknown>[] }>(url(compute, serverId), {
    signal: o.signal,
  });
  return r.volumeAttachments.map(toAttachment);
}

export async function attachVolume(
  compute: ServiceClient,
  serverId: string,
  volumeId: string,
  opts: { device?: string; tag?: string; deleteOnTermination?: boolean } & Sig = {},
): Promise<VolumeAttachment> {
  const body: Record<string, unknown> = { volumeId };
  if (opts.device) body.device = opts.device;
  if (opts.tag) body.tag = opts.tag;
  if (opts.deleteOnTermination !== undefined) body.delete_on_termination = opts.deleteOnTermination;
  const r = await compute.post<{ volumeAttachment: Record<string, unknown> }>(
    url(compute, serverId),
    { volumeAttachment: body },
    { okCodes: [200], signal: opts.signal },
  );
  return toAttachment(r.volumeAttachment);
}

export async function detachVolume(
  compute: ServiceClient,
  serverId: string,
  volumeId: string,
  o: Sig & { ignoreMissing?: boolean } = {},
): Promise<void> {
  await compute.request('DELETE', url(compute, serverId, volumeId), {
    okCodes: o.ignoreMissing ? [202, 404] : [202],
    signal: o.signal,
  });
}
