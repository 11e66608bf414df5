import type { ServiceClient } from '../../client/service-client.js';

export const serversUrl = (c: ServiceClient) => c.url('servers');
export const serversDetailUrl = (c: ServiceClient) => c.url('servers', 'detail');
export const serverUrl = (c: ServiceClient, id: string) => c.url('servers', id);
export const serverActionUrl = (c: ServiceClient, id: string) => c.url('servers', id, 'action');
