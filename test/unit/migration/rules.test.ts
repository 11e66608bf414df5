import { describe, expect, it } from 'vitest';
import type { SourceVm } from '../../../src/migration/inventory.js';
import {
  defaultRuleSettings,
  evaluateRules,
  RULES,
  type RuleSettings,
  toReadiness,
} from '../../../src/migration/rules/index.js';
import { toSourceVm } from '../../../src/migration/source-vsphere.js';
import { vm as vmInfo } from '../vsphere/vm-info-fixture.js';
import { bios2019, efi2022 } from './fixtures.js';

const codes = (vm: SourceVm, s: Partial<RuleSettings> = {}, side: 'source' | 'target' = 'source') =>
  evaluateRules(vm, { ...defaultRuleSettings, ...s }, side).map((f) => `${f.severity}:${f.code}`);

describe('the rule registry', () => {
  it('lists each code once, and every finding carries a code its rule declares and a fix', () => {
    const all = RULES.flatMap((r) => r.codes);
    expect(new Set(all).size).toBe(all.length);
    const vm = { ...bios2019(), template: true, encrypted: true, snapshots: ['s'], vtpm: true, disks: [] };
    for (const rule of RULES) {
      for (const s of [defaultRuleSettings, { ...defaultRuleSettings, driverMode: 'manual' as const }]) {
        for (const f of rule.evaluate(vm, s, {}, { disks: [] })) {
          expect(rule.codes).toContain(f.code);
          expect(f.fix.length).toBeGreaterThan(10);
        }
      }
    }
  });

  it('takes its defaults from the plan file: auto drivers, the export lease, vmdk, md5, boot marker', () => {
    expect(defaultRuleSettings).toEqual({
      driverMode: 'auto',
      exportMethod: 'lease',
      migrationKind: 'cold',
      imageFormat: 'vmdk',
      uploadHashes: ['md5'],
      vifModel: 'virtio',
      virtioWin: undefined,
      bootCheck: 'marker',
      bitlocker: 'block',
      domainController: 'block',
      clock: 'localtime',
      sourceAfter: 'keep-off',
    });
  });

  it('a clean VM has no source-side findings', () => {
    expect(codes(bios2019(), {}, 'source')).toEqual([]);
  });

  it('judges the vSphere model through toSourceVm: RDM, independent disk, snapshots, vTPM, secure boot', () => {
    const r = toReadiness(evaluateRules(toSourceVm(vmInfo()), defaultRuleSettings, 'source'));
    expect(r.blockers.map((b) => b.code)).toEqual(['rdm-disk']);
    expect(r.warnings.map((w) => w.code)).toEqual([
      'snapshots',
      'independent-disk',
      'vtpm-bitlocker',
      'secure-boot',
    ]);
    expect(r.warnings[0]!.message).toContain('before patch, after');
    const linux = {
      ...vmInfo(),
      guestId: 'ubuntu64Guest',
      guestFullName: 'Ubuntu Linux (64-bit)',
      guestRunning: undefined,
      disks: [],
      tools: { status: 'toolsNotInstalled' },
    };
    expect(codes(toSourceVm(linux), {}, 'source')).toEqual(
      expect.arrayContaining(['blocker:not-windows', 'blocker:no-disks', 'blocker:tools-not-installed']),
    );
  });
});

describe('source rules', () => {
  it('the VM itself: template, encryption, suspended, not Windows, an old or unsupported Windows', () => {
    expect(codes({ ...bios2019(), template: true, encrypted: true })).toEqual([
      'blocker:template',
      'blocker:encrypted',
    ]);
    expect(codes({ ...bios2019(), powerState: 'suspended' })).toContain('blocker:suspended');
    const w2012 = { ...bios2019(), guestFullName: 'Microsoft Windows Server 2012 Standard (64-bit)' };
    expect(codes(w2012)).toEqual([]);
    // Server 2012 or 2012 R2, and Tools did not say which: 2012 R2's drivers are planned, with a warning.
    const w2012Unknown = { ...bios2019(), guestId: 'windows8Server64Guest', guestFullName: undefined };
    expect(codes(w2012Unknown)).toEqual(['warning:windows-2012']);
    const w2008 = {
      ...bios2019(),
      guestId: 'windows7Server64Guest',
      guestFullName: 'Windows Server 2008 R2',
    };
    expect(codes(w2008)).toEqual(['blocker:windows-unsupported']);
  });

  it('disks: none, RDM, multi-writer, a shared SCSI bus, independent modes', () => {
    expect(codes({ ...bios2019(), disks: [] })).toEqual(['blocker:no-disks']);
    const base = bios2019().disks[0]!;
    const vm = {
      ...bios2019(),
      disks: [
        { ...base, key: 1, rdm: true },
        { ...base, key: 2, sharing: 'sharingMultiWriter' },
        { ...base, key: 3, controllerSharedBus: 'virtualSharing' },
        { ...base, key: 4, controllerSharedBus: 'noSharing' },
        { ...base, key: 5, diskMode: 'independent_nonpersistent' },
        { ...base, key: 6, diskMode: 'independent_persistent' },
      ],
    };
    expect(codes(vm)).toEqual([
      'blocker:rdm-disk',
      'blocker:shared-disk',
      'blocker:shared-disk',
      'blocker:independent-nonpersistent',
      'warning:independent-disk',
    ]);
  });

  it('snapshots: a warning for the export lease, a blocker for the datastore route', () => {
    const vm = { ...bios2019(), snapshots: ['before-patching'] };
    expect(codes(vm)).toEqual(['warning:snapshots']);
    expect(codes(vm, { exportMethod: 'datastore' })).toEqual(['blocker:snapshots']);
  });

  it('VMware Tools and power, by driver mode', () => {
    const off = { ...bios2019(), powerState: 'poweredOff' as const, toolsRunning: false };
    expect(codes(off)).toEqual(['blocker:powered-off-auto-drivers']);
    const notRunning = { ...bios2019(), toolsRunning: false, toolsStatus: 'toolsNotRunning' };
    expect(codes(notRunning)).toEqual(['blocker:tools-not-running']);
    const notInstalled = { ...notRunning, toolsStatus: 'toolsNotInstalled' };
    expect(codes(notInstalled)).toEqual(['blocker:tools-not-installed']);
    for (const vm of [off, notRunning, notInstalled])
      expect(codes(vm, { driverMode: 'manual' })).toEqual(['warning:manual-unverified']);
    expect(codes(bios2019(), { driverMode: 'manual' })).toEqual([]);
  });

  it('TPM, BitLocker and secure boot', () => {
    expect(codes({ ...bios2019(), vtpm: true })).toEqual(['warning:vtpm-bitlocker']);
    // Server 2022 with secure boot may encrypt by itself, even without a vTPM.
    expect(codes(efi2022())).toEqual(['warning:bitlocker-risk', 'warning:secure-boot']);
    expect(codes({ ...efi2022(), vtpm: true })).toEqual(['warning:vtpm-bitlocker', 'warning:secure-boot']);
  });

  it('NICs: none, and vmxnet3 becoming e1000 only when the plan keeps e1000', () => {
    expect(codes({ ...bios2019(), nics: [] })).toEqual(['warning:no-nics']);
    expect(codes(bios2019(), { vifModel: 'e1000' })).toEqual(['warning:e1000-from-vmxnet3']);
  });
});

describe('target rules (the plan settings)', () => {
  it('are not evaluated on the source side', () => {
    expect(codes(bios2019(), { uploadHashes: [], exportMethod: 'datastore' }, 'source')).toEqual([]);
  });

  it('the virtio-win ISO: missing blocks auto and warns manual; no sha256 warns', () => {
    expect(codes(bios2019(), {}, 'target')).toEqual(['blocker:no-virtio-win']);
    expect(codes(bios2019(), { driverMode: 'manual' }, 'target')).toEqual(['warning:no-virtio-win']);
    expect(codes(bios2019(), { virtioWin: { url: 'http://x/v.iso' } }, 'target')).toEqual([
      'warning:no-iso-sha256',
    ]);
    const sha256 = 'a'.repeat(64);
    expect(codes(bios2019(), { virtioWin: { url: 'http://x/v.iso', sha256 } }, 'target')).toEqual([]);
  });

  it('the datastore route needs a converted format; empty uploadHashes warns', () => {
    const iso = { virtioWin: { path: '/v.iso', sha256: 'a'.repeat(64) } };
    expect(codes(bios2019(), { ...iso, exportMethod: 'datastore' }, 'target')).toEqual([
      'blocker:datastore-needs-conversion',
    ]);
    expect(codes(bios2019(), { ...iso, exportMethod: 'datastore', imageFormat: 'qcow2' }, 'target')).toEqual(
      [],
    );
    expect(codes(bios2019(), { ...iso, uploadHashes: [] }, 'target')).toEqual(['warning:upload-unverified']);
  });
});
