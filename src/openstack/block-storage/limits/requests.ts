// Cinder GET /limits: the project's absolute limits and usage, unchanged.
import type { ServiceClient } from '../../client/service-client.js';
import type { VolumeAbsoluteLimits } from './results.js';
import { limitsUrl } from './urls.js';

export async function getVolumeLimits(
  volume: ServiceClient,
  o: { signal?: AbortSignal } = {},
): Promise<VolumeAbsoluteLimits> {
  const r = await volume.get<{ limits: { absolute: VolumeAbsoluteLimits } }>(limitsUrl(volume), {
    signal: o.signal,
  });
  return r.limits.absolute;
}
