// What a migration run stores as its params: the plan file's settings for the VM and the plan
// built from them at `migrate` time. The plan is stored, not rebuilt, so a resumed run uses the
// same names, flavor and ports even if the plan file or the inventory changed meanwhile.
// No secrets: credentials are read from the environment and clouds.yaml when services are built.
import type { VmPlan } from './build-plan.js';
import type { PlanFile, VmMigrationConfig } from './plan-file.js';

export interface MigrationParams {
  vm: string;
  planFile?: string;
  source: PlanFile['source'];
  target: PlanFile['target'];
  config: VmMigrationConfig;
  plan: VmPlan;
  options: {
    /** Power the VM off hard when the guest does not shut down in time. */
    forcePoweroff: boolean;
    shutdownTimeoutMs: number;
    disksInParallel: number;
    /** Disk copies at once, shared by every run in this process (src/transfer's TransferLimiter). */
    transferLimits?: { overall: number; perSource: number; perTarget: number };
  };
}

/** The tag every resource of a run carries (Glance, Neutron, Nova); Cinder gets metadata instead. */
export function runTag(runId: string): string {
  return `v2o-run-${runId}`;
}

export const V2O_TAG = 'v2o';

export function runTags(runId: string): string[] {
  return [V2O_TAG, runTag(runId)];
}

/** Cinder volumes have no tags: the run id goes into metadata, which list filters understand. */
export function runMetadata(runId: string): Record<string, string> {
  return { v2o: 'true', v2o_run: runId };
}
