// Cinder GET /limits: volume count and gigabytes, for preflight checks.
import type { ServiceClient } from '../../client/service-client.js';
import { quotaShortfalls, type Usage } from '../../util/quota.js';

export interface VolumeLimits {
  volumes: Usage;
  gigabytes: Usage;
  snapshots: Usage;
  raw: Record<string, number>;
}

export async function getVolumeLimits(
  volume: ServiceClient,
  o: { signal?: AbortSignal } = {},
): Promise<VolumeLimits> {
  const r = await volume.get<{ limits: { absolute: Record<string, number> } }>(volume.url('limits'), {
    signal: o.signal,
  });
  const a = r.limits.absolute;
  return {
    volumes: { max: a.maxTotalVolumes ?? -1, used: a.totalVolumesUsed ?? 0 },
    gigabytes: { max: a.maxTotalVolumeGigabytes ?? -1, used: a.totalGigabytesUsed ?? 0 },
    snapshots: { max: a.maxTotalSnapshots ?? -1, used: a.totalSnapshotsUsed ?? 0 },
    raw: a,
  };
}

/** What would exceed the quota (pure; [] = fits). */
export function volumeQuotaShortfalls(
  l: VolumeLimits,
  need: { volumes?: number; gigabytes?: number },
): string[] {
  return quotaShortfalls([
    ['volumes', l.volumes, need.volumes],
    ['gigabytes', l.gigabytes, need.gigabytes],
  ]);
}
