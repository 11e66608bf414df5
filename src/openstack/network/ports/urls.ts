// Neutron port URLs (relative to the network client's endpoint, which ends in /v2.0).
import type { ServiceClient } from '../../client/service-client.js';

export const portsUrl = (c: ServiceClient) => c.url('ports');
export const portUrl = (c: ServiceClient, id: string) => c.url('ports', id);
export const portTagsUrl = (c: ServiceClient, id: string) => c.url('ports', id, 'tags');
