// The rule registry: every readiness rule over the source VM and the plan's settings, in the
// order their findings are listed. `v2o inventory` evaluates the source side with the default
// settings, `v2o plan` and preflight (through buildPlan) all of them with the plan's settings.
import type { PlanIssue, SourceVm } from '../inventory.js';
import { bootUncheckedRule } from './boot-unchecked.js';
import { datastoreNeedsConversionRule } from './datastore-needs-conversion.js';
import { e1000FromVmxnet3Rule } from './e1000-from-vmxnet3.js';
import { encryptedRule } from './encrypted.js';
import { guestToolsRule } from './guest-tools.js';
import { independentDiskRule } from './independent-disk.js';
import { noDisksRule } from './no-disks.js';
import { noNicsRule } from './no-nics.js';
import { rdmDiskRule } from './rdm-disk.js';
import { secureBootRule } from './secure-boot.js';
import { sharedDiskRule } from './shared-disk.js';
import { snapshotsRule } from './snapshots.js';
import { suspendedRule } from './suspended.js';
import { templateRule } from './template.js';
import type { Finding, Rule, RuleSettings } from './types.js';
import { uploadUnverifiedRule } from './upload-unverified.js';
import { virtioWinIsoRule } from './virtio-win-iso.js';
import { virtioWinSignedRule } from './virtio-win-signed.js';
import { vtpmBitlockerRule } from './vtpm-bitlocker.js';
import { windowsReleaseRule } from './windows-release.js';

export { defaultRuleSettings, type Finding, type Rule, type RuleSettings, ruleSettingsOf } from './types.js';

export const RULES: readonly Rule[] = [
  templateRule,
  windowsReleaseRule,
  encryptedRule,
  suspendedRule,
  snapshotsRule,
  noDisksRule,
  rdmDiskRule,
  sharedDiskRule,
  independentDiskRule,
  vtpmBitlockerRule,
  secureBootRule,
  guestToolsRule,
  virtioWinIsoRule,
  virtioWinSignedRule,
  e1000FromVmxnet3Rule,
  noNicsRule,
  datastoreNeedsConversionRule,
  uploadUnverifiedRule,
  bootUncheckedRule,
];

/** Findings of every rule on `side` (both when omitted), in registry order. */
export function evaluateRules(vm: SourceVm, settings: RuleSettings, side?: Rule['side']): Finding[] {
  return RULES.filter((r) => !side || r.side === side).flatMap((r) => r.evaluate(vm, settings));
}

export interface Readiness {
  blockers: PlanIssue[];
  warnings: PlanIssue[];
}

/** Findings as the JSON output lists them: blockers and warnings, each {code, message, fix}. */
export function toReadiness(findings: Finding[]): Readiness {
  const issue = ({ code, message, fix }: Finding): PlanIssue => ({ code, message, fix });
  return {
    blockers: findings.filter((f) => f.severity === 'blocker').map(issue),
    warnings: findings.filter((f) => f.severity === 'warning').map(issue),
  };
}
