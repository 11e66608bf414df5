// buildPlan(inventory, config) → VmPlan: every concrete value a migration of one VM will use,
// plus blockers and warnings, each with a fix. Pure: no I/O, so `v2o plan` and `v2o migrate`
// agree by construction. It only chains the planners in plan/ (each returns its part and what it
// found) and then evaluates the rule registry (rules/) with the plan's settings, as changesets'
// assembleReleasePlan chains its steps.
import type { Inventory } from './inventory.js';
import { planBootVolume } from './plan/plan-boot-volume.js';
import { planDisks } from './plan/plan-disks.js';
import { planDriverInstall } from './plan/plan-drivers.js';
import { pickFlavor } from './plan/plan-flavor.js';
import { planImages } from './plan/plan-images.js';
import { planLocalSpace } from './plan/plan-local-space.js';
import { planPorts } from './plan/plan-ports.js';
import { planQuota } from './plan/plan-quota.js';
import { planRoutes } from './plan/plan-routes.js';
import { planSource } from './plan/plan-source.js';
import type { VmPlan } from './plan/types.js';
import type { VmMigrationConfig } from './plan-file.js';
import { evaluateRules, type Finding, ruleSettingsOf, toReadiness } from './rules/index.js';

export type { PlannedDisk, VmPlan } from './plan/types.js';

function withFindings(plan: Omit<VmPlan, 'ready' | 'blockers' | 'warnings'>, findings: Finding[]): VmPlan {
  const { blockers, warnings } = toReadiness(findings);
  // The verdict first: what `plan --json` readers look at.
  const { vm, ...rest } = plan;
  return { vm, ready: blockers.length === 0, blockers, warnings, ...rest };
}

export function buildPlan(inv: Inventory, cfg: VmMigrationConfig): VmPlan {
  const src = planSource(inv, cfg);
  const vm = src.vm;
  if (!vm) {
    const server = { name: cfg.name, metadata: {} };
    const empty = { vm: cfg.name, disks: [], bootFromVolume: false, ports: [], server, localSpaceBytes: 0 };
    return withFindings({ ...empty, sourceAfter: cfg.sourceAfter }, src.findings);
  }
  const order = planDisks(vm);
  const flavor = pickFlavor(inv.flavors, vm, cfg, order.bootGiB);
  const boot = planBootVolume(cfg, flavor.flavor, order.boot ? order.bootGiB : undefined);
  const images = planImages({
    vm,
    cfg,
    windows: src.windows,
    ordered: order.ordered,
    bootFromVolume: boot.bootFromVolume,
    existingImageNames: inv.existingImageNames,
  });
  const ports = planPorts(vm, cfg, inv);
  const disks = planRoutes(images.disks, cfg, inv);
  const migration = {
    disks: disks.map((d) => ({
      key: d.key,
      label: d.label,
      fileName: d.sourceFile,
      route: d.route,
      layout: d.layout,
    })),
    changeTracking: inv.changeTracking,
    conversionHost: inv.conversionHost,
    conversionHostProblem: inv.conversionHostProblem,
  };
  const guest = { facts: inv.guest, missing: inv.guestMissing };
  const findings = [
    ...evaluateRules(vm, ruleSettingsOf(cfg), undefined, guest, migration),
    ...flavor.findings,
    ...boot.findings,
    ...images.findings,
    ...ports.findings,
    ...planQuota(inv.quota, flavor.flavor, disks),
  ];
  return withFindings(
    {
      vm: vm.name,
      source: src.source,
      windows: src.windows,
      drivers: planDriverInstall(cfg, src.windows, order.boot),
      disks,
      flavor: flavor.flavor,
      bootFromVolume: boot.bootFromVolume,
      ports: ports.ports,
      server: {
        name: vm.name,
        metadata: {
          v2o_source_vm: vm.name,
          ...(vm.instanceUuid ? { v2o_source_uuid: vm.instanceUuid } : {}),
        },
      },
      localSpaceBytes: planLocalSpace(disks.filter((d) => d.route === 'image')),
      sourceAfter: cfg.sourceAfter,
      ...(inv.guest ? { guest: inv.guest } : {}),
      ...(inv.conversionHost
        ? {
            conversionHost: {
              id: inv.conversionHost.id,
              name: inv.conversionHost.name,
              ...(inv.conversionHost.availabilityZone
                ? { availabilityZone: inv.conversionHost.availabilityZone }
                : {}),
            },
          }
        : {}),
    },
    findings,
  );
}
