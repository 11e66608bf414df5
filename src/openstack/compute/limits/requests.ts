// Nova GET /limits: the project's absolute limits and usage, for preflight checks.
import type { ServiceClient } from '../../client/service-client.js';
import { quotaShortfalls, type Usage } from '../../util/quota.js';

export type { Usage } from '../../util/quota.js';

export interface ComputeLimits {
  instances: Usage;
  cores: Usage;
  ramMiB: Usage;
  serverGroups?: Usage;
  /** Everything Nova returned under limits.absolute. */
  raw: Record<string, number>;
}

export async function getComputeLimits(
  compute: ServiceClient,
  o: { signal?: AbortSignal } = {},
): Promise<ComputeLimits> {
  const r = await compute.get<{ limits: { absolute: Record<string, number> } }>(compute.url('limits'), {
    signal: o.signal,
  });
  const a = r.limits.absolute;
  return {
    instances: { max: a.maxTotalInstances ?? -1, used: a.totalInstancesUsed ?? 0 },
    cores: { max: a.maxTotalCores ?? -1, used: a.totalCoresUsed ?? 0 },
    ramMiB: { max: a.maxTotalRAMSize ?? -1, used: a.totalRAMUsed ?? 0 },
    serverGroups:
      a.maxServerGroups !== undefined
        ? { max: a.maxServerGroups, used: a.totalServerGroupsUsed ?? 0 }
        : undefined,
    raw: a,
  };
}

/** What would exceed the quota if this much more were created (pure; [] = fits). */
export function computeQuotaShortfalls(
  l: ComputeLimits,
  need: { instances?: number; cores?: number; ramMiB?: number },
): string[] {
  return quotaShortfalls([
    ['instances', l.instances, need.instances],
    ['cores', l.cores, need.cores],
    ['ram', l.ramMiB, need.ramMiB],
  ]);
}
