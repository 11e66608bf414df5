// Neutron subnet URLs (relative to the network client's endpoint, which ends in /v2.0).
import type { ServiceClient } from '../../client/service-client.js';

export const subnetsUrl = (c: ServiceClient) => c.url('subnets');
export const subnetUrl = (c: ServiceClient, id: string) => c.url('subnets', id);
