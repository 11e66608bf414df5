// Nova volume attachment URLs (relative to the compute client's endpoint).
import type { ServiceClient } from '../../client/service-client.js';

export const volumeAttachmentsUrl = (c: ServiceClient, serverId: string) =>
  c.url('servers', serverId, 'os-volume_attachments');
export const volumeAttachmentUrl = (c: ServiceClient, serverId: string, volumeId: string) =>
  c.url('servers', serverId, 'os-volume_attachments', volumeId);
