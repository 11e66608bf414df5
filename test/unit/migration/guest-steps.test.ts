// The guest parts of a run: preflight's second capture, prepare-shutdown and its rollback, and the
// refusal to roll a domain controller back once its target booted.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/migration/build-plan.js';
import type { GuestFacts } from '../../../src/migration/guest/facts.js';
import { parseGuestFacts } from '../../../src/migration/guest/parse.js';
import type { MigrationParams } from '../../../src/migration/params.js';
import { prepareVms, toParams } from '../../../src/migration/prepare.js';
import { checkDomainControllerRollback } from '../../../src/migration/rollback.js';
import { type PreflightOutput, preflight } from '../../../src/migration/steps/preflight.js';
import {
  type PrepareShutdownOutput,
  prepareShutdown,
} from '../../../src/migration/steps/prepare-shutdown.js';
import { ctx, FakeTarget } from './fakes.js';
import { efi2022, inventory, resolved } from './fixtures.js';
import { ps, WIN2022_STDERR, win2022Static01 } from './guest/capture-fixtures.js';
import { type FakeGuest, guestSource } from './guest/fake-guest.js';

const facts = (files = win2022Static01()): GuestFacts =>
  parseGuestFacts(files, { output: WIN2022_STDERR, capturedAt: '2026-12-02T00:00:00.000Z' });

/** The params `v2o migrate` stores when the plan captured `files` from the guest. */
function guestParams(yamlVm = '', files = win2022Static01()): MigrationParams {
  const plan = resolved(yamlVm);
  const cfg = plan.vms[0]!;
  return toParams(plan, cfg, buildPlan({ ...inventory(efi2022()), guest: facts(files) }, cfg), {
    shutdownTimeoutMs: 60_000,
  });
}

const encrypted = () => ({
  ...win2022Static01(),
  bitlocker: ps([{ MountPoint: 'C:', ProtectionStatus: 1, VolumeStatus: 1 }]),
  'reg-tz': ps({ RealTimeIsUniversal: 1 }),
});

describe('plan and migrate capture the guest', () => {
  it('when Tools run and the credentials are set; otherwise the plan says why not', async () => {
    const g: FakeGuest = { files: win2022Static01(), commands: [] };
    const services = { source: guestSource(g), target: new FakeTarget() };
    const env = { V2O_GUEST_USERNAME: 'Administrator', V2O_GUEST_PASSWORD: 'secret' };
    const [v] = await prepareVms(resolved(), services, { env });
    expect(v!.plan.guest?.adapters.map((a) => a.name)).toEqual(['Prod LAN', 'Backup']);
    expect(v!.params.plan.guest?.sanPolicy).toBe('OfflineShared');
    expect(JSON.stringify(v!.params)).not.toContain('secret');
    const [n] = await prepareVms(resolved(), services, { env: {} });
    expect(n!.plan.guest).toBeUndefined();
    expect(n!.plan.warnings).toContainEqual(
      expect.objectContaining({
        code: 'guest-not-inspected',
        message: expect.stringContaining('V2O_GUEST_USERNAME / V2O_GUEST_PASSWORD are not set'),
      }),
    );
  });

  it('a guest whose PowerShell is blocked: the plan is blocked with the fix', async () => {
    const g: FakeGuest = {
      files: {},
      commands: [],
      fail: { match: /^\$d = /, exitCode: 1, output: 'This program is blocked by group policy.' },
    };
    const services = { source: guestSource(g), target: new FakeTarget() };
    const env = { V2O_GUEST_USERNAME: 'Administrator', V2O_GUEST_PASSWORD: 'x' };
    const [v] = await prepareVms(resolved(), services, { env });
    expect(v!.plan.ready).toBe(false);
    expect(v!.plan.blockers).toContainEqual(
      expect.objectContaining({
        code: 'guest-capture-failed',
        message: expect.stringContaining('wrote no capture file (exit 1)'),
        fix: expect.stringContaining('AppLocker'),
      }),
    );
  });
});

describe('preflight inspects the guest again', () => {
  it('journals the facts as its output', async () => {
    const g: FakeGuest = { files: win2022Static01(), commands: [] };
    const out = (await preflight.run(
      ctx('preflight', { source: guestSource(g) }, guestParams()),
    )) as PreflightOutput;
    expect(out.guest?.hostname).toBe('WIN2022-STATIC01');
    expect(out.guest?.adapters[0]?.ipv4).toEqual([
      { address: '192.0.2.41', prefixLength: 24 },
      { address: '192.0.2.42', prefixLength: 24 },
    ]);
    // Read-only: the capture and the folder's removal, nothing else.
    expect(g.commands.filter((c) => !c.startsWith('$d = ') && !c.startsWith('rmdir '))).toEqual([]);
  });

  it('a guest blocker found now stops the run before any change, with the run’s settings', async () => {
    const g: FakeGuest = { files: encrypted(), commands: [] };
    const err = await preflight
      .run(ctx('preflight', { source: guestSource(g) }, guestParams()))
      .catch((e) => e);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain('BitLocker protects C:');
    // Allowed by the run's setting: no blocker.
    const ok = guestParams('    bitlocker: suspend\n');
    await expect(preflight.run(ctx('preflight', { source: guestSource(g) }, ok))).resolves.toBeDefined();
  });

  it('a network identity that changed since the plan blocks, naming the adapter and the fix', async () => {
    const files = win2022Static01();
    files.adapters = files.adapters!.replace('"Prod LAN"', '"Ethernet0"');
    files.ipaddresses = files.ipaddresses!.replace('192.0.2.42', '192.0.2.43');
    const g: FakeGuest = { files, commands: [] };
    const err = await preflight
      .run(ctx('preflight', { source: guestSource(g) }, guestParams()))
      .catch((e) => e);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain('adapter 00:50:56:a1:30:01 is named "Ethernet0" now (planned "Prod LAN")');
    expect(err.message).toContain('192.0.2.43/24 now (planned 192.0.2.41/24, 192.0.2.42/24)');
    expect(err.message).toContain('migrate again, so the plan is rebuilt');
  });

  it('a plan with guest facts whose guest cannot be inspected any more is blocked', async () => {
    const g: FakeGuest = { files: win2022Static01(), commands: [] };
    const c = ctx('preflight', { source: guestSource(g), env: {} }, guestParams());
    await expect(preflight.run(c)).rejects.toThrow(/cannot be inspected again: V2O_GUEST_USERNAME/);
  });
});

describe('prepare-shutdown', () => {
  it('suspends BitLocker (-RebootCount 0) and clears RealTimeIsUniversal, journaled first, read back', async () => {
    const g: FakeGuest = { files: encrypted(), commands: [] };
    const p = guestParams('    bitlocker: suspend\n', encrypted());
    const c = ctx('prepare-shutdown', { source: guestSource(g) }, p);
    const src = c.services.source as ReturnType<typeof guestSource>;
    const seen: number[] = [];
    const run = src.runInGuest;
    src.runInGuest = async (...a) => {
      seen.push(c.checkpoints.length);
      return run(...a);
    };
    const out = (await prepareShutdown.run(c)) as PrepareShutdownOutput;
    expect(out).toMatchObject({ bitlockerSuspended: ['C:'], realTimeIsUniversalCleared: true });
    expect(out.notes.join('\n')).toContain('RealTimeIsUniversal cleared');
    expect(c.checkpoints).toEqual([
      { bitlockerSuspended: ['C:'], realTimeIsUniversalCleared: true, fastStartupDisabled: false },
    ]);
    expect(seen.every((n) => n === 1)).toBe(true);
    expect(g.commands).toContain("Suspend-BitLocker -MountPoint 'C:' -RebootCount 0");
    expect(g.commands).toContain(
      'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation" /v RealTimeIsUniversal /t REG_DWORD /d 0 /f',
    );
    expect(facts(g.files).bitlocker[0]!.protection).toBe('Off');
    expect(facts(g.files).realTimeIsUniversal).toBe(false);
  });

  it('prefers preflight’s fresher facts; changes nothing with bitlocker: block or clock: utc', async () => {
    const g: FakeGuest = { files: encrypted(), commands: [] };
    const p = guestParams('    clock: utc\n', win2022Static01());
    const c = ctx('prepare-shutdown', { source: guestSource(g) }, p, {
      preflight: { guest: facts(encrypted()) },
    });
    const out = (await prepareShutdown.run(c)) as PrepareShutdownOutput;
    expect(out).toEqual({
      bitlockerSuspended: [],
      realTimeIsUniversalCleared: false,
      fastStartupDisabled: false,
      notes: [],
    });
    expect(g.commands).toEqual([]);
    const d = guestParams('', win2022Static01());
    const c2 = ctx('prepare-shutdown', { source: guestSource(g) }, d, {
      preflight: { guest: facts(encrypted()) },
    });
    expect(((await prepareShutdown.run(c2)) as PrepareShutdownOutput).realTimeIsUniversalCleared).toBe(true);
    expect(g.commands).not.toContain("Suspend-BitLocker -MountPoint 'C:' -RebootCount 0");
  });

  it('a failing command or a status that did not change fails with the VM still running', async () => {
    const p = guestParams('    bitlocker: suspend\n', encrypted());
    const failing: FakeGuest = {
      files: encrypted(),
      commands: [],
      fail: { match: /^Suspend-BitLocker/, exitCode: 1, output: 'Access is denied.' },
    };
    const e1 = await prepareShutdown
      .run(ctx('prepare-shutdown', { source: guestSource(failing) }, p))
      .catch((e) => e);
    expect(e1.name).toBe('GuestPrepareError');
    expect(e1.message).toContain(
      "Suspend-BitLocker -MountPoint 'C:' failed in the guest (exit 1: Access is denied.)",
    );
    expect(e1.hint).toContain('still runs on VMware');
    const ignoring: FakeGuest = {
      files: encrypted(),
      commands: [],
      fail: { match: /^Suspend-BitLocker/, exitCode: 0, output: '' },
    };
    const e2 = await prepareShutdown
      .run(ctx('prepare-shutdown', { source: guestSource(ignoring) }, p))
      .catch((e) => e);
    expect(e2.message).toContain('BitLocker protection on C: is not suspended');
  });

  it('rollback powers the source on, waits for Tools, resumes BitLocker and sets the value back, from the journal', async () => {
    const g: FakeGuest = { files: encrypted(), commands: [] };
    const p = guestParams('    bitlocker: suspend\n', encrypted());
    await prepareShutdown.run(ctx('prepare-shutdown', { source: guestSource(g) }, p));
    let on = false;
    let polls = 0;
    const src = guestSource(g, {
      findVm: async () => ({
        ...efi2022(),
        powerState: on ? 'poweredOn' : 'poweredOff',
        toolsRunning: on && ++polls > 1,
      }),
      powerOn: async () => {
        on = true;
      },
    });
    g.commands = [];
    const changes = { bitlockerSuspended: ['C:'], realTimeIsUniversalCleared: true };
    await prepareShutdown.compensate!(ctx('prepare-shutdown', { source: src }, p, {}, changes), undefined);
    expect(on).toBe(true);
    expect(g.commands).toContain("Resume-BitLocker -MountPoint 'C:'");
    expect(g.commands).toContain(
      'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation" /v RealTimeIsUniversal /t REG_DWORD /d 1 /f',
    );
    expect(facts(g.files)).toMatchObject({ realTimeIsUniversal: true, bitlocker: [{ protection: 'On' }] });
    // Nothing was changed: nothing to undo, the source is left alone.
    const idle = guestSource(g, { powerOn: async () => void idle.calls.push('powerOn') });
    await prepareShutdown.compensate!(ctx('prepare-shutdown', { source: idle }, p), undefined);
    expect(idle.calls).toEqual([]);
  });
});

describe('rollback of a domain controller', () => {
  const dc = (setting: string) => {
    const files = { ...win2022Static01(), computer: ps({ Name: 'DC01', DomainRole: 5, PartOfDomain: true }) };
    return guestParams(setting, files);
  };
  const steps = (state: 'succeeded' | 'pending') => [
    { id: 'launch', state },
    { id: 'verify-boot', state },
  ];

  it('is refused once the target booted, explaining USN rollback, unless --force', () => {
    const p = dc('    domainController: allow\n');
    expect(() =>
      checkDomainControllerRollback(p, steps('succeeded'), { runId: 'r-1', force: false }),
    ).toThrow(/USN rollback/);
    try {
      checkDomainControllerRollback(p, steps('succeeded'), { runId: 'r-1', force: false });
    } catch (e) {
      expect((e as Error & { hint: string }).hint).toContain('v2o cancel r-1 --rollback --force');
    }
    expect(() =>
      checkDomainControllerRollback(p, steps('succeeded'), { runId: 'r-1', force: true }),
    ).not.toThrow();
    expect(() =>
      checkDomainControllerRollback(p, steps('pending'), { runId: 'r-1', force: false }),
    ).not.toThrow();
    const notDc = guestParams('    domainController: allow\n');
    expect(() =>
      checkDomainControllerRollback(notDc, steps('succeeded'), { runId: 'r-1', force: false }),
    ).not.toThrow();
  });
});

describe('inspectGuest says why it did not inspect', () => {
  it('powered off, Tools not running, credentials not set; never the password', async () => {
    const { inspectGuest } = await import('../../../src/migration/guest/inspect.js');
    const names = { usernameEnv: 'V2O_GUEST_USERNAME', passwordEnv: 'V2O_GUEST_PASSWORD' };
    const g: FakeGuest = { files: win2022Static01(), commands: [] };
    const src = guestSource(g);
    const env = { V2O_GUEST_USERNAME: 'Administrator', V2O_GUEST_PASSWORD: 'hunter2' };
    const off = await inspectGuest(src, { ...efi2022(), powerState: 'poweredOff' }, names, env);
    expect(off.guestMissing).toMatchObject({ reason: 'the VM is poweredOff', failed: false });
    const noTools = await inspectGuest(src, { ...efi2022(), toolsRunning: false }, names, env);
    expect(noTools.guestMissing?.reason).toBe('VMware Tools is not running');
    expect(g.commands).toEqual([]);
    const denied = guestSource(g, {
      makeGuestDirectory: async () => {
        throw new Error('InvalidGuestLogin: Failed to authenticate with the guest operating system');
      },
    });
    const bad = await inspectGuest(denied, efi2022(), names, env);
    expect(bad.guestMissing).toMatchObject({
      failed: true,
      fix: expect.stringContaining('local administrator'),
    });
    expect(JSON.stringify(bad)).not.toContain('hunter2');
  });
});

describe('prepare-shutdown in the workflow', () => {
  it('comes after install-firstboot and right before shutdown', async () => {
    const { vmwareWindowsToOpenstack } = await import('../../../workflows/vmware-windows-to-openstack.js');
    const ids = vmwareWindowsToOpenstack.steps.map((s) => s.id);
    // The warm steps (issue 14) run while Windows is up, between the first-boot task and the shutdown.
    expect(ids.slice(ids.indexOf('install-firstboot'), ids.indexOf('shutdown') + 1)).toEqual([
      'install-firstboot',
      'enable-cbt',
      'attach-volumes',
      'base-copy',
      'precopy',
      'cutover',
      'prepare-shutdown',
      'shutdown',
    ]);
  });

  it('a rollback whose source never gets VMware Tools back stops, saying what to undo by hand', async () => {
    const p = guestParams('    bitlocker: suspend\n', encrypted());
    const g: FakeGuest = { files: encrypted(), commands: [] };
    let now = 0;
    const src = guestSource(g, { findVm: async () => ({ ...efi2022(), toolsRunning: false }) });
    const c = ctx('prepare-shutdown', { source: src }, p);
    const changes = { bitlockerSuspended: ['C:'], realTimeIsUniversalCleared: false };
    const err = await prepareShutdown.compensate!(
      { ...c, clock: { now: () => (now += 60_000) } },
      { ...changes, notes: [] },
    ).catch((e) => e);
    expect(err.name).toBe('GuestPrepareError');
    expect(err.message).toContain("Resume-BitLocker -MountPoint 'C:'");
    expect(g.commands).toEqual([]);
  });
});
