// kill -9 at every step boundary and in the middle of the disk upload, then `resume`: the run
// finishes with exactly one volume per disk, one server, one port per NIC, and the bytes in
// Cinder are the source disk's. The hook V2O_TEST_CRASH_AT=<step>:<before|mid|after> makes the
// CLI SIGKILL itself there (src/migration/steps/common.ts); `after` is the hard case: the side
// effects happened, the journal does not know yet.
// Boot from volume, so every step (create-volumes too) runs and can be crashed.
import { afterAll, describe, expect, it } from 'vitest';
import {
  hashFile,
  labCdroms,
  labDisks,
  labVm,
  migrationEnv,
  NO_BOOT_CHECK,
  openTarget,
  resetVm,
  runIdOf,
  runResources,
  stepStates,
  tmpDir,
  v2o,
  volumeFile,
  writePlan,
} from './helpers.js';

const VM = 'win2012r2-legacy01';
const STEPS = [
  'preflight',
  'fetch-virtio-iso',
  'upload-iso',
  'attach-iso',
  'install-drivers',
  'verify-drivers',
  // install-firstboot is skipped with bootCheck: none; boot.test.ts kills inside the boot check.
  'prepare-shutdown',
  'shutdown',
  'restore-cdrom',
  'upload-images',
  'create-volumes',
  'launch',
  'verify-boot',
  'finish',
];
/** Every boundary twice (before the step's work, and after it but before the journal records it), plus mid-operation points. */
const CRASHES = STEPS.flatMap((s) => [
  `${s}:before`,
  ...(s === 'upload-images' ||
  s === 'create-volumes' ||
  s === 'launch' ||
  s === 'install-drivers' ||
  s === 'attach-iso'
    ? [`${s}:mid`]
    : []),
  `${s}:after`,
]);

let state = '';
let runId = '';
const others: { state: string; runId: string }[] = [];
afterAll(async () => {
  if (runId) await v2o(state, ['cancel', runId, '--rollback']);
  for (const o of others) await v2o(o.state, ['cancel', o.runId, '--rollback']);
  await resetVm(VM);
});

/** `v2o migrate` of VM, killed by the hook at `point`; the id of the run it began. */
async function migrateKilledAt(dir: string, plan: string, point: string): Promise<string> {
  const r = await v2o(dir, ['migrate', plan, '--vm', VM], migrationEnv({ V2O_TEST_CRASH_AT: point }));
  expect(r.signal, r.stdout + r.stderr).toBe('SIGKILL');
  return runIdOf(r.stdout + r.stderr);
}

describe('crash (SIGKILL) at every step boundary, then resume', () => {
  it(`survives ${CRASHES.length} kills in one migration and ends with one volume, one server, one port`, async () => {
    await resetVm(VM);
    state = tmpDir('crash');
    const plan = writePlan(state, { [VM]: `    bootFromVolume: true\n${NO_BOOT_CHECK}` });
    let r = await v2o(state, ['migrate', plan, '--vm', VM], migrationEnv({ V2O_TEST_CRASH_AT: CRASHES[0] }));
    expect(r.signal, r.stdout + r.stderr).toBe('SIGKILL');
    runId = runIdOf(r.stdout + r.stderr);
    const killedAt: string[] = [CRASHES[0]!];
    for (const point of CRASHES.slice(1)) {
      r = await v2o(state, ['resume', runId], migrationEnv({ V2O_TEST_CRASH_AT: point }));
      // A point the run never reaches again (its step already done) lets the resume finish.
      if (r.signal === 'SIGKILL') killedAt.push(point);
      else expect(r.code, `${point}\n${r.stdout}${r.stderr}`).toBe(0);
      if (r.code === 0) break;
    }
    // Every step was killed at least at one boundary.
    for (const s of STEPS)
      expect(
        killedAt.some((k) => k.startsWith(`${s}:`)),
        s,
      ).toBe(true);
    if (r.code !== 0) {
      r = await v2o(state, ['resume', runId]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const st = await v2o(state, ['status', runId, '--json']);
    const states = stepStates(st.stdout);
    expect(states['install-firstboot']).toBe('skipped');
    delete states['install-firstboot'];
    // A cold run without a conversion host: the warm and volume-route steps are skipped.
    for (const id of [
      'enable-cbt',
      'attach-volumes',
      'base-copy',
      'precopy',
      'cutover',
      'copy-volumes',
      'restore-cbt',
      'detach-volumes',
    ]) {
      expect(states[id], id).toBe('skipped');
      delete states[id];
    }
    expect(Object.values(states).every((s) => s === 'succeeded')).toBe(true);

    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      // Boot from volume: the image became the volume and was deleted; no duplicates anywhere.
      expect(res.images).toHaveLength(0);
      expect(res.volumes.map((v) => v.name)).toEqual(['v2o-win2012r2-legacy01-vol0']);
      expect(res.servers).toHaveLength(1);
      expect(res.servers[0]!.status).toBe('ACTIVE');
      expect(res.ports.map((p) => p.macAddress)).toEqual(['00:50:56:a1:12:01']);
      const disk = labDisks(VM)[0]!;
      expect(await hashFile(volumeFile(res.volumes[0]!.id), 'sha256', disk.capacityBytes)).toBe(
        disk.rawSha256,
      );
      // Nothing else of the run's: no image left in any state, no second volume.
      const all = await t.findVolumesByMetadata({ v2o_run: runId });
      expect(all).toHaveLength(1);
    } finally {
      await t.close();
    }
    expect((await labVm(VM)).powerState).toBe('poweredOff');
    // Roll back now: the next test keeps the same MAC.
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    runId = '';
  }, 900_000);

  it('boot from image: killed mid-upload and right after it, one image and one server in the end', async () => {
    await resetVm(VM);
    const dir = tmpDir('crash-image');
    const plan = writePlan(dir, { [VM]: NO_BOOT_CHECK });
    const id = await migrateKilledAt(dir, plan, 'upload-images:mid');
    others.push({ state: dir, runId: id });
    let r: Awaited<ReturnType<typeof v2o>>;
    for (const point of ['upload-images:mid', 'upload-images:after', 'launch:mid', 'launch:after']) {
      r = await v2o(dir, ['resume', id], migrationEnv({ V2O_TEST_CRASH_AT: point }));
      expect(r.signal, `${point}\n${r.stdout}${r.stderr}`).toBe('SIGKILL');
    }
    r = await v2o(dir, ['resume', id]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const t = await openTarget();
    try {
      const res = await runResources(t, id);
      expect(res.images.map((i) => [i.name, i.status])).toEqual([['v2o-win2012r2-legacy01-disk0', 'active']]);
      expect(res.volumes).toHaveLength(0);
      expect(res.servers.map((x) => x.status)).toEqual(['ACTIVE']);
      expect(res.ports).toHaveLength(1);
      expect(res.images[0]!.osHashValue).toBe(await hashFile(labDisks(VM)[0]!.export.localPath, 'sha512'));
    } finally {
      await t.close();
    }
  });

  it('killed right after mounting the ISO, a rollback still takes it off the source VM', async () => {
    await resetVm(VM);
    const before = await labCdroms(VM);
    const dir = tmpDir('crash-iso');
    // A new MAC: the run of the test before still holds the VM's own until afterAll.
    const plan = writePlan(dir, {
      [VM]: `    networks:\n      - { portGroup: VM Network, network: lab-net, keepMac: false }\n      - { portGroup: DB Network, network: lab-db-net, keepMac: false }\n${NO_BOOT_CHECK}`,
    });
    const id = await migrateKilledAt(dir, plan, 'attach-iso:after');
    others.push({ state: dir, runId: id }); // rolled back again in afterAll if an assertion fails first
    // The VM changed; the journal never heard that the step finished.
    expect((await labCdroms(VM)).isos.some((i) => i.includes('v2o/virtio-win-'))).toBe(true);
    const rb = await v2o(dir, ['cancel', id, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/attach-iso: compensated/);
    expect(await labCdroms(VM)).toEqual(before);
  });
});
