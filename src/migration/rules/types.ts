// What a rule is: the codes it may report, which side of the migration it judges, and a pure
// evaluate over the source VM's facts and the plan settings it depends on.
import type { GuestFacts } from '../guest/facts.js';
import type { GuestMissing, PlanIssue, SourceVm } from '../inventory.js';
import {
  type ConversionHostSettings,
  type ImageFormat,
  type MigrationKind,
  resolvePlan,
  type UploadHash,
  type VmMigrationConfig,
} from '../plan-file.js';
import type { ChangeTrackingState, ConversionHostInfo, DiskLayout } from '../services.js';

export type Severity = 'blocker' | 'warning';

export interface Finding extends PlanIssue {
  severity: Severity;
}

/** The plan settings rules read. */
export interface RuleSettings {
  driverMode: VmMigrationConfig['drivers']['mode'];
  exportMethod: VmMigrationConfig['exportMethod'];
  migrationKind: MigrationKind;
  conversionHost?: ConversionHostSettings;
  imageFormat: ImageFormat;
  uploadHashes: UploadHash[];
  vifModel: VmMigrationConfig['vifModel'];
  virtioWin?: VmMigrationConfig['drivers']['virtioWin'];
  bootCheck: VmMigrationConfig['bootCheck'];
  bitlocker: VmMigrationConfig['bitlocker'];
  domainController: VmMigrationConfig['domainController'];
  clock: VmMigrationConfig['clock'];
  sourceAfter: VmMigrationConfig['sourceAfter'];
}

/** What the guest rules judge: the facts captured inside the guest, or why there are none. */
export interface GuestInput {
  facts?: GuestFacts;
  /** Set when no facts were captured: why (Tools not running, credentials not set, the capture failed). */
  missing?: GuestMissing;
}

/** What the copy-route rules judge: the plan's disks with their routes, and what the clouds said. */
export interface MigrationInput {
  /** Empty when the plan has no disks yet (inventory, a VM not found). */
  disks: { key: number; label: string; fileName: string; route: 'volume' | 'image'; layout?: DiskLayout }[];
  changeTracking?: ChangeTrackingState;
  conversionHost?: ConversionHostInfo;
  conversionHostProblem?: { message: string; fix: string };
}

export interface Rule {
  /** Every code the rule may report (a tight family shares one file). */
  codes: readonly string[];
  /**
   * `source`: judges the VM as vSphere describes it; `inventory` runs these with the default
   * settings. `target`: judges the plan's own settings; only `plan` (and preflight) run these.
   * `guest`: judges what the capture found inside the running guest (GuestInput); nothing
   * without facts, except the rule that says they are missing.
   */
  side: 'source' | 'target' | 'guest';
  evaluate(vm: SourceVm, settings: RuleSettings, guest: GuestInput, migration: MigrationInput): Finding[];
}

export function ruleSettingsOf(cfg: VmMigrationConfig): RuleSettings {
  return {
    driverMode: cfg.drivers.mode,
    exportMethod: cfg.exportMethod,
    migrationKind: cfg.migration,
    ...(cfg.conversionHost ? { conversionHost: cfg.conversionHost } : {}),
    imageFormat: cfg.imageFormat,
    uploadHashes: cfg.uploadHashes,
    vifModel: cfg.vifModel,
    virtioWin: cfg.drivers.virtioWin,
    bootCheck: cfg.bootCheck,
    bitlocker: cfg.bitlocker,
    domainController: cfg.domainController,
    clock: cfg.clock,
    sourceAfter: cfg.sourceAfter,
  };
}

/** The settings of a plan that sets nothing: plan-file.ts's defaults, not a copy of them. */
export const defaultRuleSettings: RuleSettings = ruleSettingsOf(
  resolvePlan({ version: 1, source: {}, target: {}, vms: [{ name: 'defaults' }] }).vms[0]!,
);

export const blocker = (code: string, message: string, fix: string): Finding => ({
  code,
  severity: 'blocker',
  message,
  fix,
});
export const warning = (code: string, message: string, fix: string): Finding => ({
  code,
  severity: 'warning',
  message,
  fix,
});

/** A guest rule over the facts only: nothing when the guest was not inspected. */
export function guestRule(
  codes: readonly string[],
  evaluate: (facts: GuestFacts, settings: RuleSettings, vm: SourceVm) => Finding[],
): Rule {
  return { codes, side: 'guest', evaluate: (vm, s, g) => (g.facts ? evaluate(g.facts, s, vm) : []) };
}

/** A disk's name in messages: its label and file, so the operator finds it in vSphere. */
export const diskName = (d: SourceVm['disks'][number]) => `${d.label || `disk ${d.key}`} (${d.fileName})`;
