import type { ServiceClient } from '../../client/service-client.js';

export const volumesUrl = (c: ServiceClient) => c.url('volumes');
export const volumesDetailUrl = (c: ServiceClient) => c.url('volumes', 'detail');
export const volumeUrl = (c: ServiceClient, id: string) => c.url('volumes', id);
export const volumeActionUrl = (c: ServiceClient, id: string) => c.url('volumes', id, 'action');
export const messagesUrl = (c: ServiceClient) => c.url('messages');
