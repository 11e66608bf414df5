import type { ServiceClient } from '../../client/service-client.js';

export const flavorsDetailUrl = (c: ServiceClient) => c.url('flavors', 'detail');
export const flavorUrl = (c: ServiceClient, id: string) => c.url('flavors', id);
