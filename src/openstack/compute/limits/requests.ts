// Nova GET /limits: the project's absolute limits and usage, unchanged.
import type { ServiceClient } from '../../client/service-client.js';
import type { ComputeAbsoluteLimits } from './results.js';
import { limitsUrl } from './urls.js';

export async function getComputeLimits(
  compute: ServiceClient,
  o: { signal?: AbortSignal } = {},
): Promise<ComputeAbsoluteLimits> {
  const r = await compute.get<{ limits: { absolute: ComputeAbsoluteLimits } }>(limitsUrl(compute), {
    signal: o.signal,
  });
  return r.limits.absolute;
}
