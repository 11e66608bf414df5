// Driver preparation against the strict lab guest (pnputil stages only, as on real Windows): every
// lab Windows release gets its boot driver prepared and verified on its planned bus; the manual
// gate hands over the guest script; a failing pnputil, a missing ISO, missing driver files, a
// failing CD-ROM probe and the old recipe (pnputil + Start=0 only) each stop the run BEFORE
// shutdown, with the VM still running and nothing created in OpenStack.
import { afterAll, describe, expect, it } from 'vitest';
import {
  guestState,
  labVm,
  migrationEnv,
  NO_BOOT_CHECK,
  openTarget,
  operatorPreparedViostor,
  resetVm,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  setGuest,
  setRules,
  stepStates,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';

const cleanup: StartedRun[] = [];
// Leave the labs as found: delete what the runs created, power the VMs back on.
afterAll(() => rollbackRuns(cleanup));

const SVC = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services';

async function nothingCreated(runId: string) {
  const t = await openTarget();
  try {
    const r = await runResources(t, runId);
    expect([r.images, r.volumes, r.ports, r.servers].map((x) => x.length)).toEqual([0, 0, 0, 0]);
  } finally {
    await t.close();
  }
}

interface GuestView {
  registry: Record<string, unknown>;
  files: Record<string, number>;
  history: { args: string; commands: string[] }[];
}

const guest = async (vm: string) => (await guestState(vm)) as unknown as GuestView;
const reg = (g: GuestView, path: string) =>
  Object.entries(g.registry).find(([k]) => k.toLowerCase() === path.toLowerCase())?.[1];
const hasFile = (g: GuestView, path: string) =>
  Object.keys(g.files).some((k) => k.toLowerCase() === path.toLowerCase());

/** Runs `migrate` and stops it (SIGKILL) where shutdown would begin: drivers done, VM still on. */
async function prepareOnly(vm: string, extra = '') {
  await resetVm(vm);
  const state = tmpDir(`prep-${vm.slice(0, 12)}`);
  const plan = writePlan(state, { [vm]: extra });
  const r = await v2o(
    state,
    ['migrate', plan, '--vm', vm],
    migrationEnv({ V2O_TEST_CRASH_AT: 'shutdown:before' }),
  );
  const runId = runIdOf(r.stdout + r.stderr);
  cleanup.push({ state, runId, vm });
  return { r, runId, state };
}

describe('drivers, auto mode, every lab Windows release', () => {
  it.each([
    ['win2019-app01', 'virtio', 'viostor', false],
    ['win2022-db01', 'scsi', 'vioscsi', false],
    ['win2012r2-legacy01', 'virtio', 'viostor', true],
    ['win2012-legacy02', 'virtio', 'viostor', true],
    ['win2025-core01', 'scsi', 'vioscsi', false],
    ['win11-desk01', 'virtio', 'viostor', false],
    ['win10-desk02', 'sata', 'storahci', false],
    ['Finanz Server 01 – Müller & Söhne', 'virtio', 'viostor', false], // German pnputil and reg
  ])('%s on %s: %s boot-critical, verified before shutdown', async (vm, bus, svc, legacy) => {
    const { r, state, runId } = await prepareOnly(vm, `    diskBus: ${bus}\n`);
    expect(r.signal ?? r.code, r.stdout + r.stderr).toBe('SIGKILL');
    const st = stepStates((await v2o(state, ['status', runId, '--json'])).stdout);
    expect(st['install-drivers']).toBe('succeeded');
    expect(st['verify-drivers']).toBe('succeeded');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    const g = await guest(vm);
    const commands = g.history.flatMap((h) => h.commands);
    expect(commands.some((c) => /pnputil/i.test(c))).toBe(true); // NetKVM at least
    expect(commands.some((c) => /pnputil(\.exe)? -i -a /i.test(c))).toBe(legacy);
    expect(commands.some((c) => /pnputil(\.exe)? \/add-driver/i.test(c))).toBe(!legacy);
    expect(commands.some((c) => /\bwmic\b/i.test(c))).toBe(false);
    // What Windows needs to load the boot driver, in the guest's own registry and files.
    if (svc !== 'storahci') {
      expect(reg(g, `${SVC}\\${svc}\\Type`)).toBe(1);
      expect(reg(g, `${SVC}\\${svc}\\Start`)).toBe(0);
      expect(reg(g, `${SVC}\\${svc}\\ErrorControl`)).toBe(1);
      expect(reg(g, `${SVC}\\${svc}\\Group`)).toBe('SCSI miniport');
      expect(reg(g, `${SVC}\\${svc}\\ImagePath`)).toBe(`system32\\drivers\\${svc}.sys`);
      expect(hasFile(g, `C:\\Windows\\System32\\drivers\\${svc}.sys`)).toBe(true);
    }
    // The SATA fallback (bootFallback: sata, the default) is ready whatever the bus.
    expect(reg(g, `${SVC}\\storahci\\Start`)).toBe(0);
    expect([undefined, 0]).toContain(reg(g, `${SVC}\\storahci\\StartOverride\\0`));
    // Windows 8 / 2012 and later map PCI ids through the DriverDatabase: no CriticalDeviceDatabase.
    expect(Object.keys(g.registry).some((k) => /CriticalDeviceDatabase/i.test(k))).toBe(false);
  });
});

describe('drivers, what stops the run before shutdown', () => {
  it('the old recipe (pnputil + Start=0 only) is caught by verification', async () => {
    const vm = 'win2019-app01';
    await resetVm(vm);
    // The guest "succeeds" at everything but pnputil and Start=0, which is all the old recipe did.
    await setGuest({ vm, clearHistory: true });
    await setRules(vm, [
      { match: '^copy ', exitCode: 0, stdout: '        1 file(s) copied.\r\n' },
      { match: '^reg add .*" /v "(Type|ErrorControl|Group|ImagePath|BusType|5|0)"', exitCode: 0 },
      { match: '^reg add .*storahci" /v "Start"', exitCode: 0 },
    ]);
    const state = tmpDir('oldrecipe');
    const r = await v2o(state, ['migrate', writePlan(state, { [vm]: '' }), '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('the VM was NOT shut down');
    expect(r.stderr).toContain('viostor: Type is missing (want Type=1)');
    expect(r.stderr).toContain('viostor: viostor.sys is not in %SystemRoot%\\System32\\drivers');
    expect(r.stderr).toContain('storahci: StartOverride\\0 is 0x3, not 0');
    expect(r.stderr).toContain('v2o guest-script');
    const st = stepStates((await v2o(state, ['status', runId, '--json'])).stdout);
    expect(st['install-drivers']).toBe('succeeded');
    expect(st['verify-drivers']).toBe('failed');
    expect(st.shutdown).toBe('pending');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });

  it('pnputil fails (2012 R2): a clear message, the VM keeps running', async () => {
    const vm = 'win2012r2-legacy01';
    await resetVm(vm);
    await setGuest({
      vm,
      failDrivers: {
        viostor: {
          exitCode: 1,
          message: 'The hash for the file is not present in the specified catalog file.',
        },
      },
    });
    const state = tmpDir('pnpfail');
    const r = await v2o(state, ['migrate', writePlan(state, { [vm]: '' }), '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('staging viostor with pnputil failed in the guest (exit code 1:');
    expect(r.stderr).toContain('The hash for the file is not present');
    expect(r.stderr).toContain('the VM is still running on VMware and was not shut down');
    const st = stepStates((await v2o(state, ['status', runId, '--json'])).stdout);
    expect(st['install-drivers']).toBe('failed');
    expect(st.shutdown).toBe('pending');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });

  it('driver files missing on the ISO: names them and the fix, nothing changed in the guest', async () => {
    const vm = 'win2012-legacy02';
    await resetVm(vm);
    await setGuest({ vm, isoMissing: ['viostor\\2k12\\amd64\\viostor.sys'] });
    const state = tmpDir('isofiles');
    const r = await v2o(state, ['migrate', writePlan(state, { [vm]: '' }), '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the virtio-win ISO in D: lacks viostor\\2k12\\amd64\\viostor\.sys/);
    expect(r.stderr).toContain('name an ISO that has them in drivers.virtioWin');
    const g = await guest(vm);
    expect(g.history.flatMap((h) => h.commands).some((c) => /pnputil/i.test(c))).toBe(false);
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });

  it('the ISO is not visible in the guest (no CD-ROM with it): says so and how to fix it', async () => {
    const vm = 'win10-desk02';
    await resetVm(vm);
    await setRules(vm, [{ match: 'Win32_CDROMDrive', exitCode: 0, stdout: '' }]);
    const state = tmpDir('noiso');
    const r = await v2o(state, ['migrate', writePlan(state, { [vm]: '' }), '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('the virtio-win ISO is not visible in the guest: no CD-ROM drive (none)');
    expect(r.stderr).toContain('check that the CD-ROM is connected in vCenter');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });

  it('the CD-ROM probe fails (PowerShell/WMI broken): a clear message, not a guess', async () => {
    const vm = 'win11-desk01';
    await resetVm(vm);
    await setRules(vm, [
      {
        match: 'Win32_CDROMDrive',
        exitCode: 1,
        stderr: 'Get-CimInstance : Invalid namespace "root\\cimv2"\r\n',
      },
    ]);
    const state = tmpDir('probe');
    const r = await v2o(state, ['migrate', writePlan(state, { [vm]: '' }), '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('PowerShell Get-CimInstance Win32_CDROMDrive exited 1');
    expect(r.stderr).toContain('Invalid namespace');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });
});

describe('drivers, the plan', () => {
  it('blocks Server 2012 on a virtio-win build without signed 2k12 drivers, with the fix', async () => {
    const vm = 'win2012-legacy02';
    const state = tmpDir('isobuild');
    const plan = writePlan(state, {
      [vm]: '    drivers: { virtioWin: { url: "http://127.0.0.1:1/virtio-win-0.1.262.iso" } }\n',
    });
    const r = await v2o(state, ['plan', plan, '--vm', vm]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('virtio-win 0.1.262 has no properly signed 2k12 drivers');
    expect(r.stdout).toContain('name an ISO that has signed 2k12 drivers');
    // The lab's ISO URL names no build: a warning, not a blocker.
    const ok = await v2o(state, ['plan', writePlan(state, { [vm]: '' }), '--vm', vm]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/name says no build/);
  });
});

describe('drivers, manual mode', () => {
  it('waits (exit 3) with the guest script; approve without drivers fails before shutdown; with them it completes', async () => {
    const vm = 'win11-desk01';
    await resetVm(vm);
    const state = tmpDir('manual');
    const plan = writePlan(state, { [vm]: `    drivers: { mode: manual }\n${NO_BOOT_CHECK}` });
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    expect(m.stderr).toContain(`v2o guest-script ${plan} --vm '${vm}' --run ${runId} > v2o-drivers.ps1`);
    expect(m.stderr).toContain('powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\v2o-drivers.ps1');
    expect(m.stderr).toContain(`v2o approve ${runId}`);
    expect((await labVm(vm)).powerState).toBe('poweredOn');

    // The script v2o writes is the recipe auto mode runs, for this guest's release.
    const s = await v2o(state, ['guest-script', plan, '--vm', vm]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('/add-driver "$iso\\viostor\\w11\\amd64\\viostor.inf" /install');
    expect(s.stdout).toContain('-Destination "$env:SystemRoot\\System32\\drivers\\viostor.sys"');
    expect(s.stdout).toContain('(Get-CimInstance -ClassName Win32_CDROMDrive).Drive');
    expect(s.stdout).not.toContain('schtasks.exe /Create');
    // With the run id it also registers the first-boot task that reports this run's boot.
    const withRun = await v2o(state, ['guest-script', plan, '--vm', vm, '--run', runId]);
    expect(withRun.code, withRun.stderr).toBe(0);
    expect(withRun.stdout).toContain('schtasks.exe /Create /TN "v2o-firstboot" /SC ONSTART /RU SYSTEM');
    expect(withRun.stdout).toContain(`"runId":"${runId}"`);

    expect((await v2o(state, ['approve', runId])).code).toBe(0);
    // Approved but nothing done: the verification (Tools run) catches it, the VM stays on.
    const bad = await v2o(state, ['resume', runId]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stderr).toContain(
      `the service key HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor does not exist`,
    );
    expect(bad.stderr).toMatch(/viostor\.inf is not staged/);
    expect(bad.stderr).toMatch(/was NOT shut down/);
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);

    // The operator runs the script (its effects, scripted in the simulated guest), then resumes.
    await operatorPreparedViostor(vm);
    const ok = await v2o(state, ['resume', runId]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const st = await v2o(state, ['status', runId, '--json']);
    expect(stepStates(st.stdout)['verify-drivers']).toBe('succeeded');
    expect((await labVm(vm)).powerState).toBe('poweredOff');
  });

  it('manual mode without VMware Tools: the approval is the verification, and the run says so', async () => {
    const vm = 'win2019-notools01';
    await resetVm(vm);
    const state = tmpDir('notools');
    const plan = writePlan(state, { [vm]: `    drivers: { mode: manual }\n${NO_BOOT_CHECK}` });
    const p = await v2o(state, ['plan', plan, '--vm', vm]);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/your approval is the verification/);
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    expect((await v2o(state, ['approve', runId])).code).toBe(0);
    // Without tools the guest cannot shut itself down either: allow a hard power-off.
    const r = await v2o(state, ['resume', runId, '--force-poweroff'], migrationEnv());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const st = await v2o(state, ['status', runId, '--json']);
    const view = JSON.parse(st.stdout) as {
      steps: { stepId: string; output?: { verifiedBy?: string; note?: string } }[];
    };
    const verify = view.steps.find((s) => s.stepId === 'verify-drivers');
    expect(verify?.output?.verifiedBy).toBe('operator');
    expect(verify?.output?.note).toMatch(/approval is the verification/);
  });
});
