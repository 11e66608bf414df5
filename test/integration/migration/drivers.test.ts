// Driver installation paths: the manual gate (exit 3, approve, verification), and automatic
// installs that fail or leave the storage driver not boot-critical — those must stop the run
// BEFORE shutdown, with the VM still running and nothing created in OpenStack.
import { afterAll, describe, expect, it } from 'vitest';
import {
  labVm,
  migrationEnv,
  NO_BOOT_CHECK,
  openTarget,
  resetVm,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  setGuest,
  stepStates,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';

const cleanup: StartedRun[] = [];
// Leave the labs as found: delete what the runs created, power the VMs back on.
afterAll(() => rollbackRuns(cleanup));

async function nothingCreated(runId: string) {
  const t = await openTarget();
  try {
    const r = await runResources(t, runId);
    expect([r.images, r.volumes, r.ports, r.servers].map((x) => x.length)).toEqual([0, 0, 0, 0]);
  } finally {
    await t.close();
  }
}

describe('drivers', () => {
  it('manual mode: waits (exit 3) with exact instructions; approve without drivers fails before shutdown; with them it completes', async () => {
    const vm = 'win11-desk01';
    await resetVm(vm);
    const state = tmpDir('manual');
    const plan = writePlan(state, { [vm]: `    drivers: { mode: manual }\n${NO_BOOT_CHECK}` });
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    expect(m.stderr).toContain('pnputil /add-driver D:\\viostor\\w11\\amd64\\viostor.inf /install');
    expect(m.stderr).toContain(
      'reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor /v Start /t REG_DWORD /d 0 /f',
    );
    expect(m.stderr).toContain(`v2o approve ${runId}`);
    expect((await labVm(vm)).powerState).toBe('poweredOn');

    expect((await v2o(state, ['approve', runId])).code).toBe(0);
    // Approved but nothing installed: the verification (tools run) catches it, the VM stays on.
    const bad = await v2o(state, ['resume', runId]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/not in the driver store: viostor\.inf/);
    expect(bad.stderr).toMatch(/was NOT shut down/);
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);

    // The operator installs them (scripted in the simulated guest), then resumes.
    await setGuest({
      vm,
      addDrivers: ['viostor', 'netkvm', 'balloon'],
      registry: { 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor\\Start': 0 },
    });
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

  it('auto mode, pnputil fails: the run fails before shutdown with a clear message; the VM keeps running', async () => {
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
    const plan = writePlan(state, { [vm]: NO_BOOT_CHECK });
    const r = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(
      'installing viostor in the guest failed: The hash for the file is not present',
    );
    expect(r.stderr).toContain('the VM is still running on VMware and was not shut down');
    const st = stepStates((await v2o(state, ['status', runId, '--json'])).stdout);
    expect(st['install-drivers']).toBe('failed');
    expect(st.shutdown).toBe('pending');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });

  it('auto mode, the driver stays not boot-critical (Start pinned to 3): verification stops the run before shutdown', async () => {
    const vm = 'win2012r2-legacy01';
    await resetVm(vm);
    await setGuest({ vm, pin: { 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\viostor\\Start': 3 } });
    const state = tmpDir('notboot');
    const plan = writePlan(state, { [vm]: NO_BOOT_CHECK });
    const r = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('viostor Start = 3, not 0 (boot)');
    expect(r.stderr).toContain('the VM was NOT shut down');
    const st = stepStates((await v2o(state, ['status', runId, '--json'])).stdout);
    expect(st['install-drivers']).toBe('succeeded');
    expect(st['verify-drivers']).toBe('failed');
    expect(st.shutdown).toBe('pending');
    expect((await labVm(vm)).powerState).toBe('poweredOn');
    await nothingCreated(runId);
  });
});
