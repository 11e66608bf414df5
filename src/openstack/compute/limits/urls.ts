import type { ServiceClient } from '../../client/service-client.js';

export const limitsUrl = (c: ServiceClient) => c.url('limits');
