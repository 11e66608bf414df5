// Nova volume attachments (os-volume_attachments).
import type { ServiceClient } from '../../client/service-client.js';
import { toAttachment, type VolumeAttachment } from './results.js';
import { volumeAttachmentsUrl, volumeAttachmentUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export async function listVolumeAttachments(
  compute: ServiceClient,
  serverId: string,
  o: Sig = {},
): Promise<VolumeAttachment[]> {
  const r = await compute.get<{ volumeAttachments: Record<string, unknown>[] }>(
    volumeAttachmentsUrl(compute, serverId),
    {
      signal: o.signal,
    },
  );
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
    volumeAttachmentsUrl(compute, serverId),
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
  await compute.request('DELETE', volumeAttachmentUrl(compute, serverId, volumeId), {
    okCodes: o.ignoreMissing ? [202, 404] : [202],
    signal: o.signal,
  });
}
