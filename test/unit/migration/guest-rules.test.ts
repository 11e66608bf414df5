// Each guest finding: raised by its fact, blocked or allowed by its plan setting.
import { describe, expect, it } from 'vitest';
import type { GuestFacts } from '../../../src/migration/guest/facts.js';
import { parseGuestFacts } from '../../../src/migration/guest/parse.js';
import {
  defaultRuleSettings,
  evaluateRules,
  type GuestInput,
  RULES,
  type RuleSettings,
} from '../../../src/migration/rules/index.js';
import { MIN_SYSTEM_FREE_BYTES } from '../../../src/migration/rules/system-free-space.js';
import { efi2022 } from './fixtures.js';
import { WIN2022_STDERR, win2022Static01 } from './guest/capture-fixtures.js';

const clean = (): GuestFacts =>
  parseGuestFacts(win2022Static01(), { output: WIN2022_STDERR, capturedAt: '2026-12-02T00:00:00Z' });

const run = (over: Partial<GuestFacts>, s: Partial<RuleSettings> = {}, vm = efi2022()) =>
  evaluateRules(vm, { ...defaultRuleSettings, ...s }, 'guest', { facts: { ...clean(), ...over } });
const codes = (over: Partial<GuestFacts>, s: Partial<RuleSettings> = {}) =>
  run(over, s).map((f) => `${f.severity}:${f.code}`);

describe('guest rules', () => {
  it('the issue §3 machine is clean; no facts, no findings (but the one saying so)', () => {
    expect(codes({})).toEqual([]);
    expect(evaluateRules(efi2022(), defaultRuleSettings, 'guest', {})).toEqual([]);
    const missing: GuestInput = {
      missing: { reason: 'VMware Tools is not running', failed: false, fix: 'start VMware Tools' },
    };
    expect(evaluateRules(efi2022(), defaultRuleSettings, 'guest', missing)).toEqual([
      expect.objectContaining({
        code: 'guest-not-inspected',
        severity: 'warning',
        fix: 'start VMware Tools',
      }),
    ]);
    const failed: GuestInput = {
      missing: { reason: 'PowerShell is blocked', failed: true, fix: 'allow it' },
    };
    expect(evaluateRules(efi2022(), defaultRuleSettings, 'guest', failed)[0]).toMatchObject({
      code: 'guest-capture-failed',
      severity: 'blocker',
      message: 'PowerShell is blocked',
    });
  });

  it('every guest finding carries a code its rule declares and a fix', () => {
    const worst: Partial<GuestFacts> = {
      bitlocker: [{ mountPoint: 'C:', protection: 'On', volumeStatus: 'FullyEncrypted' }],
      domainController: true,
      pendingReboot: ['CBS'],
      fastStartup: true,
      systemFreeBytes: 1,
      executionPolicyByGpo: 'AllSigned',
      languageMode: 'ConstrainedLanguage',
      deviceInstallBlocked: true,
      teams: [{ name: 'T', members: ['a'] }],
      realTimeIsUniversal: true,
      gaps: [{ part: 'ghosts', reason: 'x' }],
    };
    for (const rule of RULES.filter((r) => r.side === 'guest')) {
      for (const f of rule.evaluate(
        efi2022(),
        defaultRuleSettings,
        { facts: { ...clean(), ...worst } },
        { disks: [] },
      )) {
        expect(rule.codes).toContain(f.code);
        expect(f.fix.length).toBeGreaterThan(10);
      }
    }
  });

  it('BitLocker: a blocker, or with bitlocker: suspend a warning saying what v2o does and how to protect again', () => {
    const on = {
      bitlocker: [{ mountPoint: 'C:', protection: 'On' as const, volumeStatus: 'FullyEncrypted' }],
    };
    expect(codes(on)).toEqual(['blocker:bitlocker']);
    const [w] = run(on, { bitlocker: 'suspend' });
    expect(w).toMatchObject({ code: 'bitlocker-suspend', severity: 'warning' });
    expect(w!.message).toContain('-RebootCount 0');
    expect(w!.message).toContain('leaves it suspended');
    expect(w!.fix).toMatch(/vTPM-capable flavor and image/);
    expect(w!.fix).toMatch(/another protector/);
    expect(
      codes({ bitlocker: [{ mountPoint: 'C:', protection: 'Off', volumeStatus: 'FullyDecrypted' }] }),
    ).toEqual([]);
  });

  it('a domain controller: blocked; allowed with a warning; allowed + sourceAfter: power-on blocked', () => {
    expect(codes({ domainController: true })).toEqual(['blocker:domain-controller']);
    expect(codes({ domainController: true }, { domainController: 'allow' })).toEqual([
      'warning:domain-controller-allowed',
    ]);
    expect(run({ domainController: true }, { domainController: 'allow' })[0]!.message).toContain(
      '--rollback --force',
    );
    expect(codes({ domainController: true }, { domainController: 'allow', sourceAfter: 'power-on' })).toEqual(
      ['blocker:domain-controller-power-on'],
    );
  });

  it('pending reboot, fast startup, hibernation, dynamic system disk', () => {
    expect(codes({ pendingReboot: ['CBS', 'PendingFileRenameOperations'] })).toEqual([
      'blocker:pending-reboot',
    ]);
    expect(run({ pendingReboot: ['CBS'] })[0]!.message).toContain('CBS');
    expect(codes({ fastStartup: true, hibernation: true })).toEqual(['warning:fast-startup']);
    expect(codes({ hibernation: true })).toEqual(['warning:hibernation']);
    const disks = clean().disks.map((d) => ({ ...d, dynamic: d.number === 0 }));
    expect(codes({ disks })).toEqual(['blocker:dynamic-system-disk']);
    const dataOnly = clean().disks.map((d) => ({ ...d, dynamic: d.number === 1 }));
    expect(codes({ disks: dataOnly })).toEqual([]);
  });

  it('free space on C: below what v2o needs, with the number', () => {
    const f = run({ systemFreeBytes: 10 * 1024 ** 2 });
    expect(f.map((x) => x.code)).toEqual(['system-free-space']);
    expect(f[0]!.message).toContain('10.0 MiB free');
    expect(f[0]!.message).toContain('19.0 MiB');
    expect(codes({ systemFreeBytes: MIN_SYSTEM_FREE_BYTES })).toEqual([]);
  });

  it('GPO execution policy (AllSigned/Restricted only), constrained language, device install, LBFO, VLAN', () => {
    expect(codes({ executionPolicyByGpo: 'AllSigned' })).toEqual(['blocker:execution-policy-gpo']);
    expect(codes({ executionPolicyByGpo: 'Restricted' })).toEqual(['blocker:execution-policy-gpo']);
    expect(run({ executionPolicyByGpo: 'AllSigned' })[0]!.message).toContain('-ExecutionPolicy Bypass');
    expect(codes({ executionPolicyByGpo: 'RemoteSigned' })).toEqual([]);
    expect(codes({ languageMode: 'ConstrainedLanguage' })).toEqual(['blocker:constrained-language']);
    expect(codes({ deviceInstallBlocked: true })).toEqual(['blocker:device-install-blocked']);
    expect(codes({ teams: [{ name: 'Team1', members: ['Ethernet0', 'Ethernet1'] }] })).toEqual([
      'blocker:nic-teaming',
    ]);
    const adapters = clean().adapters.map((a, i) => (i === 0 ? { ...a, vlanId: 20 } : a));
    const v = run({ adapters });
    expect(v.map((x) => x.code)).toEqual(['guest-vlan']);
    expect(v[0]!.message).toContain('"Prod LAN" sets VLAN id 20');
  });

  it('UTC clock: cleared by default (said), kept with clock: utc (warned)', () => {
    expect(codes({ realTimeIsUniversal: true })).toEqual(['warning:utc-clock-cleared']);
    expect(run({ realTimeIsUniversal: true })[0]!.message).toContain('clears RealTimeIsUniversal');
    expect(codes({ realTimeIsUniversal: true }, { clock: 'utc' })).toEqual(['warning:utc-clock-kept']);
    expect(run({ realTimeIsUniversal: true }, { clock: 'utc' })[0]!.message).toContain('local-time clock');
    expect(codes({}, { clock: 'utc' })).toEqual([]);
  });

  it('capture gaps are a warning naming the part and Windows’ words', () => {
    const f = run({
      gaps: [{ part: 'ghosts', reason: "The term 'Get-PnpDevice' is not recognized" }],
      powershellVersion: '4.0',
    });
    expect(f.map((x) => x.code)).toEqual(['guest-capture-gap']);
    expect(f[0]!.message).toContain("ghosts (The term 'Get-PnpDevice' is not recognized)");
  });

  it('vtpm-bitlocker does not guess about BitLocker once the guest was inspected', () => {
    const vm = { ...efi2022(), vtpm: true };
    const guessed = evaluateRules(vm, defaultRuleSettings, 'source');
    expect(guessed.map((f) => f.code)).toContain('vtpm-bitlocker');
    expect(guessed.find((f) => f.code === 'vtpm-bitlocker')!.fix).toContain('BitLocker');
    const inspected = evaluateRules(vm, defaultRuleSettings, 'source', { facts: clean() });
    expect(inspected.find((f) => f.code === 'vtpm-bitlocker')!.message).not.toContain('BitLocker');
    // A secure-boot 2022 without vTPM: the release may encrypt by itself, unless the guest says.
    expect(evaluateRules(efi2022(), defaultRuleSettings, 'source').map((f) => f.code)).toContain(
      'bitlocker-risk',
    );
    expect(
      evaluateRules(efi2022(), defaultRuleSettings, 'source', { facts: clean() }).map((f) => f.code),
    ).not.toContain('bitlocker-risk');
  });
});
