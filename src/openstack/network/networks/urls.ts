// Neutron network URLs (relative to the network client's endpoint, which ends in /v2.0).
import type { ServiceClient } from '../../client/service-client.js';

export const networksUrl = (c: ServiceClient) => c.url('networks');
export const networkUrl = (c: ServiceClient, id: string) => c.url('networks', id);
