// Glance v2 image task URLs (relative to the image client's endpoint, which ends in /v2).
import type { ServiceClient } from '../../client/service-client.js';

export const imageTasksUrl = (c: ServiceClient, id: string) => c.url('images', id, 'tasks');
