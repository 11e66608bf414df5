// Boot verification against both labs: the run succeeds only when the migrated Windows reports its
// first boot on the console log (the lab's Nova decides from the disk bytes v2o delivered and the
// instance's image properties, and prints the first-boot task's line only when Windows came up
// with the task in it). Short boot timeouts throughout: the lab boots at once or never.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  migrationEnv,
  openTarget,
  operatorPreparedViostor,
  repoRoot,
  resetVm,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  setGuest,
  stepOutput,
  tmpDir,
  v2o,
  volumeFile,
  writePlan,
} from './helpers.js';

const cleanup: StartedRun[] = [];
afterAll(() => rollbackRuns(cleanup));

interface BootOutput {
  outcome: string;
  bus: string;
  serverId: string;
  attempts: { serverId: string; bus: string; outcome: string }[];
  marker?: { runId: string; uuid: string; bus: string };
  warning?: string;
}

/** The lab Nova's decisions (one JSON line per boot), for the servers of these ids. */
function novaBoots(serverIds: string[]): { instance: string; outcome: string; reason: string }[] {
  const file = migrationEnv().V2O_LAB_NOVA_BOOT_LOG;
  if (!file) throw new Error('V2O_LAB_NOVA_BOOT_LOG is not in .lab/lab.env: the lab predates boot decisions');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { instance: string; outcome: string; reason: string })
    .filter((b) => serverIds.includes(b.instance));
}

/** One VM per Windows release the vSphere lab seeds, that can be migrated (Tools running). */
function labReleases(): { vm: string; release: string }[] {
  const inv = JSON.parse(readFileSync(`${repoRoot}/test/lab/vsphere/inventory.json`, 'utf8')) as {
    vms: { name: string; guestFullName: string; tools: string; snapshot?: string }[];
  };
  const seen = new Map<string, string>();
  for (const v of inv.vms) {
    if (v.tools !== 'running') continue; // a snapshot is only a warning on the export lease
    const release = /Windows (Server \d{4}(?: R2)?|\d+)/.exec(v.guestFullName)?.[1] ?? v.guestFullName;
    if (!seen.has(release)) seen.set(release, v.name);
  }
  return [...seen].map(([release, vm]) => ({ vm, release }));
}

async function migrate(vm: string, extra: string, label: string) {
  await resetVm(vm);
  const state = tmpDir(label);
  const plan = writePlan(state, { [vm]: extra });
  const r = await v2o(state, ['migrate', plan, '--vm', vm], migrationEnv(), 280_000);
  const runId = runIdOf(r.stdout + r.stderr);
  cleanup.push({ state, runId, vm });
  const st = await v2o(state, ['status', runId, '--json']);
  return { r, runId, state, boot: stepOutput<BootOutput>(st.stdout, 'verify-boot') };
}

describe('verify-boot', () => {
  it.each(labReleases())(
    '$release ($vm) boots on its planned bus and says so itself',
    async ({ vm }) => {
      const { r, runId, boot } = await migrate(vm, '    bootTimeoutSeconds: 60\n', 'release');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(boot).toMatchObject({ outcome: 'booted', bus: 'virtio' });
      expect(boot!.attempts).toHaveLength(1);
      expect(boot!.marker).toMatchObject({ runId, uuid: boot!.serverId, bus: 'virtio' });
      expect(novaBoots([boot!.serverId]).map((b) => b.outcome)).toEqual(['booted']);
      // Roll back now: the server keeps the VM's MAC, which the next test of this VM needs.
      await rollbackRuns(
        cleanup.splice(
          cleanup.findIndex((c) => c.runId === runId),
          1,
        ),
      );
    },
    300_000,
  );

  it('a virtio driver that fails at boot although verified: 0x7B on virtio, then SATA through the fallback', async () => {
    const vm = 'win2019-app01';
    await resetVm(vm);
    // The lab knob: viostor passes every check in the guest but does not load at boot.
    await setGuest({ vm, brokenDrivers: ['viostor'] });
    const state = tmpDir('fallback');
    const plan = writePlan(state, { [vm]: '    bootTimeoutSeconds: 15\n' });
    // Killed inside the fallback, right after the SATA server was created and journaled.
    const k = await v2o(
      state,
      ['migrate', plan, '--vm', vm],
      migrationEnv({ V2O_TEST_CRASH_AT: 'verify-boot:mid' }),
    );
    expect(k.signal, k.stdout + k.stderr).toBe('SIGKILL');
    const runId = runIdOf(k.stdout + k.stderr);
    cleanup.push({ state, runId, vm });
    const r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const st = await v2o(state, ['status', runId, '--json']);
    const boot = stepOutput<BootOutput>(st.stdout, 'verify-boot')!;
    expect(boot.outcome).toBe('booted');
    expect(boot.bus).toBe('sata');
    expect(boot.attempts.map((a) => [a.bus, a.outcome])).toEqual([
      ['virtio', 'no-marker'],
      ['sata', 'booted'],
    ]);
    expect(boot.warning).toMatch(/booted on sata/);
    expect(boot.warning).toMatch(/hw_disk_bus=virtio/);
    const boots = novaBoots(boot.attempts.map((a) => a.serverId));
    expect(boots.map((b) => [b.instance, b.outcome])).toEqual([
      [boot.attempts[0]!.serverId, '0x7B'],
      [boot.attempts[1]!.serverId, 'booted'],
    ]);
    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      // One server (the SATA one), the same port with the kept MAC, the image now on SATA.
      expect(res.servers.map((s) => [s.id, s.status])).toEqual([[boot.serverId, 'ACTIVE']]);
      expect(res.ports.map((p) => p.macAddress)).toEqual(['00:50:56:a1:19:01']);
      expect(res.images[0]!.properties.hw_disk_bus).toBe('sata');
    } finally {
      await t.close();
    }
    const summary = stepOutput<{ server: { id: string }; boot: { bus: string } }>(st.stdout, 'finish')!;
    expect(summary.server.id).toBe(boot.serverId);
    expect(summary.boot.bus).toBe('sata');
    // Roll back now: the server keeps the VM's MAC, which the next test of this VM needs.
    await rollbackRuns(
      cleanup.splice(
        cleanup.findIndex((c) => c.runId === runId),
        1,
      ),
    );
  }, 300_000);

  it('bootFallback: none fails the run with the console evidence; the server is kept, and the rollback removes it', async () => {
    const vm = 'win2019-app01';
    await resetVm(vm);
    await setGuest({ vm, brokenDrivers: ['viostor'] });
    const state = tmpDir('nofallback');
    const plan = writePlan(state, { [vm]: '    bootTimeoutSeconds: 15\n    bootFallback: none\n' });
    const r = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/did not report its first boot within 15 s \(virtio on server /);
    const st = await v2o(state, ['status', runId]);
    expect(st.stdout).toMatch(/verify-boot\s+failed/);
    expect(st.stdout).toMatch(/console log of server \S+ \(virtio\), last lines:/);
    expect(st.stdout).toMatch(/Booting from Hard Disk|BdsDxe/);
    const t = await openTarget();
    try {
      expect((await runResources(t, runId)).servers.map((s) => s.status)).toEqual(['ACTIVE']);
      const rb = await v2o(state, ['cancel', runId, '--rollback']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      cleanup.splice(
        cleanup.findIndex((c) => c.runId === runId),
        1,
      );
      const left = await runResources(t, runId);
      expect([left.images, left.volumes, left.ports, left.servers].map((x) => x.length)).toEqual([
        0, 0, 0, 0,
      ]);
    } finally {
      await t.close();
      await resetVm(vm);
    }
  });

  it('a guest that never reports (manual gate approved without the first-boot task) fails after the timeout and the fallback', async () => {
    const vm = 'win11-desk01';
    await resetVm(vm);
    const state = tmpDir('silent');
    const plan = writePlan(state, { [vm]: '    drivers: { mode: manual }\n    bootTimeoutSeconds: 10\n' });
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    // The operator prepares the drivers as the guest script does (its effects, scripted in the
    // simulated guest) but not the first-boot task.
    await operatorPreparedViostor(vm);
    expect((await v2o(state, ['approve', runId])).code).toBe(0);
    const r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/run r-\S+ succeeded|verify-boot: succeeded/);
    expect(r.stderr).toMatch(
      /did not report its first boot within 10 s \(virtio on server \S+, then sata on server /,
    );
    const st = await v2o(state, ['status', runId, '--json']);
    const view = JSON.parse(st.stdout) as {
      steps: { stepId: string; state: string; output?: { task?: string } }[];
    };
    expect(view.steps.find((s) => s.stepId === 'install-firstboot')?.output?.task).toBe('missing');
    expect(view.steps.find((s) => s.stepId === 'verify-boot')?.state).toBe('failed');
    expect(view.steps.find((s) => s.stepId === 'finish')?.state).toBe('pending');
  }, 300_000);

  it('a disk that is not bootable fails the run', async () => {
    const vm = 'win2012r2-legacy01';
    await resetVm(vm);
    const state = tmpDir('unbootable');
    const plan = writePlan(state, { [vm]: '    bootFromVolume: true\n    bootTimeoutSeconds: 10\n' });
    // Stop once the boot volume exists, wipe its boot record, and let the run go on.
    const k = await v2o(
      state,
      ['migrate', plan, '--vm', vm],
      migrationEnv({ V2O_TEST_CRASH_AT: 'launch:before' }),
    );
    expect(k.signal, k.stdout + k.stderr).toBe('SIGKILL');
    const runId = runIdOf(k.stdout + k.stderr);
    cleanup.push({ state, runId, vm });
    const t = await openTarget();
    try {
      const [vol] = (await runResources(t, runId)).volumes;
      const fd = openSync(volumeFile(vol!.id), 'r+');
      writeSync(fd, Buffer.alloc(1 << 20), 0, 1 << 20, 0);
      closeSync(fd);
    } finally {
      await t.close();
    }
    const r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/did not report its first boot/);
    const st = await v2o(state, ['status', runId, '--json']);
    const view = JSON.parse(st.stdout) as {
      steps: { stepId: string; state: string }[];
      events: { type: string; data?: { serverId?: string } }[];
    };
    expect(view.steps.find((s) => s.stepId === 'verify-boot')?.state).toBe('failed');
    // Both attempts (virtio, then SATA) found a disk the firmware cannot boot.
    const tried = view.events.filter((e) => e.type === 'boot.no-report').map((e) => e.data!.serverId!);
    expect(tried).toHaveLength(2);
    expect(novaBoots(tried).map((b) => b.outcome)).toEqual(['no-boot', 'no-boot']);
  }, 300_000);
});
