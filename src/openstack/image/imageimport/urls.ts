// Glance v2 interoperable import URLs (relative to the image client's endpoint, which ends in /v2).
import type { ServiceClient } from '../../client/service-client.js';

export const imageStageUrl = (c: ServiceClient, id: string) => c.url('images', id, 'stage');
export const imageImportUrl = (c: ServiceClient, id: string) => c.url('images', id, 'import');
export const importInfoUrl = (c: ServiceClient) => c.url('info', 'import');
