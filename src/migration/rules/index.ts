// The rule registry: every readiness rule over the source VM, the guest's captured facts and the
// plan's settings, in the order their findings are listed. `v2o inventory` evaluates the source
// side with the default settings (and the guest side with --guest), `v2o plan` and preflight
// (through buildPlan) all of them with the plan's settings.
import type { PlanIssue, SourceVm } from '../inventory.js';
import { attachmentSlotsRule } from './attachment-slots.js';
import { bitlockerRule } from './bitlocker.js';
import { bootUncheckedRule } from './boot-unchecked.js';
import { captureGapsRule } from './capture-gaps.js';
import { cbtUnsupportedRule } from './cbt-unsupported.js';
import { consolidationNeededRule } from './consolidation-needed.js';
import { constrainedLanguageRule } from './constrained-language.js';
import { conversionHostRule } from './conversion-host.js';
import { conversionHostZoneRule } from './conversion-host-zone.js';
import { datastoreNeedsConversionRule } from './datastore-needs-conversion.js';
import { deviceInstallBlockedRule } from './device-install-blocked.js';
import { domainControllerRule } from './domain-controller.js';
import { dynamicSystemDiskRule } from './dynamic-system-disk.js';
import { e1000FromVmxnet3Rule } from './e1000-from-vmxnet3.js';
import { encryptedRule } from './encrypted.js';
import { executionPolicyRule } from './execution-policy.js';
import { fastStartupRule } from './fast-startup.js';
import { guestNotInspectedRule } from './guest-not-inspected.js';
import { guestToolsRule } from './guest-tools.js';
import { guestVlanRule } from './guest-vlan.js';
import { independentDiskRule } from './independent-disk.js';
import { nicTeamingRule } from './nic-teaming.js';
import { noDisksRule } from './no-disks.js';
import { noNicsRule } from './no-nics.js';
import { notFlatExtentRule } from './not-flat-extent.js';
import { pendingRebootRule } from './pending-reboot.js';
import { rdmDiskRule } from './rdm-disk.js';
import { secureBootRule } from './secure-boot.js';
import { sharedDiskRule } from './shared-disk.js';
import { snapshotsRule } from './snapshots.js';
import { suspendedRule } from './suspended.js';
import { systemFreeSpaceRule } from './system-free-space.js';
import { templateRule } from './template.js';
import type { Finding, GuestInput, MigrationInput, Rule, RuleSettings } from './types.js';
import { uploadUnverifiedRule } from './upload-unverified.js';
import { utcClockRule } from './utc-clock.js';
import { virtioWinIsoRule } from './virtio-win-iso.js';
import { virtioWinSignedRule } from './virtio-win-signed.js';
import { vtpmBitlockerRule } from './vtpm-bitlocker.js';
import { warmSnapshotsRule } from './warm-snapshots.js';
import { windowsReleaseRule } from './windows-release.js';

export {
  defaultRuleSettings,
  type Finding,
  type GuestInput,
  type MigrationInput,
  type Rule,
  type RuleSettings,
  ruleSettingsOf,
} from './types.js';

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
  guestNotInspectedRule,
  bitlockerRule,
  domainControllerRule,
  pendingRebootRule,
  fastStartupRule,
  dynamicSystemDiskRule,
  systemFreeSpaceRule,
  executionPolicyRule,
  constrainedLanguageRule,
  deviceInstallBlockedRule,
  nicTeamingRule,
  guestVlanRule,
  utcClockRule,
  captureGapsRule,
  cbtUnsupportedRule,
  warmSnapshotsRule,
  consolidationNeededRule,
  notFlatExtentRule,
  conversionHostRule,
  attachmentSlotsRule,
  conversionHostZoneRule,
];

/** Findings of every rule on `sides` (all when omitted), in registry order. */
export function evaluateRules(
  vm: SourceVm,
  settings: RuleSettings,
  sides?: Rule['side'] | Rule['side'][],
  guest: GuestInput = {},
  migration: MigrationInput = { disks: [] },
): Finding[] {
  const want = sides === undefined ? undefined : ([] as Rule['side'][]).concat(sides);
  return RULES.filter((r) => !want || want.includes(r.side)).flatMap((r) =>
    r.evaluate(vm, settings, guest, migration),
  );
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
