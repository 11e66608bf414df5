// From a plan file to runs: read the inventory (read-only), build each VM's plan, and the params
// a run of the workflow stores. Shared by `v2o plan` and `v2o migrate`, so both see the same plan.
import { ConfigError } from '../errors.js';
import { buildPlan, type VmPlan } from './build-plan.js';
import { inspectGuest } from './guest/inspect.js';
import type { MigrationParams } from './params.js';
import type { ResolvedPlan, VmMigrationConfig } from './plan-file.js';
import { planSettings } from './plan-settings.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_S } from './run-defaults.js';
import { gatherInventory, type SourceOps, type TargetOps } from './services.js';

export interface PreparedVm {
  config: VmMigrationConfig;
  plan: VmPlan;
  params: MigrationParams;
}

export interface RunOptions {
  forcePoweroff?: boolean;
  shutdownTimeoutMs?: number;
}

/** The plan's VMs, or the one named by --vm (which must be in the plan). */
export function selectVms(plan: ResolvedPlan, vm?: string): VmMigrationConfig[] {
  if (!vm) return plan.vms;
  const hit = plan.vms.filter((v) => v.name === vm);
  if (hit.length === 0) {
    throw new ConfigError(`VM "${vm}" is not in the plan ${plan.file ?? ''}`.trim(), {
      hint: `the plan lists: ${plan.vms.map((v) => v.name).join(', ')}`,
    });
  }
  return hit;
}

export function toParams(
  plan: ResolvedPlan,
  config: VmMigrationConfig,
  vmPlan: VmPlan,
  o: RunOptions = {},
): MigrationParams {
  return {
    vm: config.name,
    planFile: plan.file,
    source: plan.source,
    target: plan.target,
    plan: { ...vmPlan, settings: planSettings(config) },
    inputs: config,
    options: {
      forcePoweroff: o.forcePoweroff ?? false,
      shutdownTimeoutMs: o.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_S * 1000,
      disksInParallel: plan.concurrency.disksPerVm,
      transferLimits: {
        overall: plan.concurrency.disks,
        perSource: plan.concurrency.perSourceHost,
        perTarget: plan.concurrency.perTarget,
      },
    },
  };
}

export async function prepareVms(
  plan: ResolvedPlan,
  services: { source: SourceOps; target: TargetOps },
  /** `env`: where the guest credentials are read; without it the guest is not inspected. */
  o: RunOptions & { vm?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
): Promise<PreparedVm[]> {
  const out: PreparedVm[] = [];
  for (const config of selectVms(plan, o.vm)) {
    const inv = await gatherInventory(services, config.name, { signal: o.signal }, config);
    if (o.env) {
      const g = await inspectGuest(services.source, inv.vm, config.guestCredentials, o.env, {
        signal: o.signal,
      });
      Object.assign(inv, g);
    }
    const vmPlan = buildPlan(inv, config);
    out.push({ config, plan: vmPlan, params: toParams(plan, config, vmPlan, o) });
  }
  return out;
}
