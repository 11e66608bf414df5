// Glance v2 image URLs. The image client's endpoint ends in /v2.
import type { ServiceClient } from '../../client/service-client.js';

export const imagesUrl = (c: ServiceClient) => c.url('images');
export const imageUrl = (c: ServiceClient, id: string) => c.url('images', id);
export const imageFileUrl = (c: ServiceClient, id: string) => c.url('images', id, 'file');
export const imageStageUrl = (c: ServiceClient, id: string) => c.url('images', id, 'stage');
export const imageImportUrl = (c: ServiceClient, id: string) => c.url('images', id, 'import');
export const imageTasksUrl = (c: ServiceClient, id: string) => c.url('images', id, 'tasks');
export const imageTagUrl = (c: ServiceClient, id: string, tag: string) => c.url('images', id, 'tags', tag);
export const importInfoUrl = (c: ServiceClient) => c.url('info', 'import');
