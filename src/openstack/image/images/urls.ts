// Glance v2 image URLs (relative to the image client's endpoint, which ends in /v2).
import type { ServiceClient } from '../../client/service-client.js';

export const imagesUrl = (c: ServiceClient) => c.url('images');
export const imageUrl = (c: ServiceClient, id: string) => c.url('images', id);
export const imageTagUrl = (c: ServiceClient, id: string, tag: string) => c.url('images', id, 'tags', tag);
