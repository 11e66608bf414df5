// What a migration run stores as its params: the plan built at `migrate` time with the settings
// the steps act on, the plan file's inputs it was built from, and the run's options. The plan is
// stored, not rebuilt, so a resumed run uses the same names, flavor, ports and settings even if
// the plan file or the inventory changed meanwhile. params-schema.ts checks this shape on resume;
// a change to it bumps the workflow's version.
// No secrets: credentials are read from the environment and clouds.yaml when services are built.
import type { VmPlan } from './build-plan.js';
import type { PlanFile, VmMigrationConfig } from './plan-file.js';
import type { PlanSettings } from './plan-settings.js';

/** The plan as a run stores it: what buildPlan decided, and the settings the steps act on. */
export type StoredPlan = VmPlan & { settings: PlanSettings };

export interface MigrationParams {
  vm: string;
  planFile?: string;
  source: PlanFile['source'];
  target: PlanFile['target'];
  /** The truth the steps act on. */
  plan: StoredPlan;
  /**
   * The plan file's settings for this VM as they were at `migrate` time. Only preflight reads
   * them, to re-plan against a fresh inventory and compare that plan with the stored one.
   */
  inputs: VmMigrationConfig;
  options: {
    /** Power the VM off hard when the guest does not shut down in time. */
    forcePoweroff: boolean;
    shutdownTimeoutMs: number;
    disksInParallel: number;
    /** Disk copies at once, shared by every run in this process (src/transfer's TransferLimiter). */
    transferLimits: { overall: number; perSource: number; perTarget: number };
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
