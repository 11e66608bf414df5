// Glance v2 image data URL (relative to the image client's endpoint, which ends in /v2).
import type { ServiceClient } from '../../client/service-client.js';

export const imageFileUrl = (c: ServiceClient, id: string) => c.url('images', id, 'file');
