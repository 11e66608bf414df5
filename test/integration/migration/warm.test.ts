// Warm migration against both labs: CBT on, a base copy and precopy passes into volumes attached to
// the lab's conversion host while the guest keeps writing, then the cutover. What must hold is read
// from the labs themselves, not from v2o: the final volumes' bytes against the content the simulated
// guest had at shutdown, the snapshots and the CBT setting vSphere reports, the volumes Cinder holds.
import { afterAll, describe, expect, it } from 'vitest';
import {
  hook,
  openTarget,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  stepOutput,
  stepStates,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';
import {
  copyPasses,
  expectVolumesAreTheSource,
  guestWrites,
  resetWarmVm,
  vmCbt,
  warmPlanLines,
} from './warm-helpers.js';

const cleanup: StartedRun[] = [];
afterAll(() => rollbackRuns(cleanup));

describe('warm migration', () => {
  it('win2022-warm01: base copy, passes with guest writes (one beyond an empty page), cutover: the volumes are the source at shutdown and Windows boots from them', async () => {
    const vm = 'win2022-warm01';
    await resetWarmVm(vm);
    const state = tmpDir('warm');
    const plan = writePlan(state, { [vm]: warmPlanLines() });

    // Base copy, then the run waits for its first pass (due at once: passIntervalMinutes 0).
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    expect(m.stdout + m.stderr).toMatch(/waits until/);
    let st = await v2o(state, ['status', runId, '--json']);
    expect(stepStates(st.stdout)).toMatchObject({
      'enable-cbt': 'succeeded',
      'attach-volumes': 'succeeded',
      'base-copy': 'succeeded',
      precopy: 'waiting',
    });
    expect((await vmCbt(vm)).enabled).toBe(true);
    expect((await vmCbt(vm)).snapshots).toEqual([]); // the base copy's snapshot is gone
    const base = copyPasses(st.stdout).find((p) => p.kind === 'base')!;
    // passIntervalMinutes 0: the first pass was due at once, so it ran too (nothing had changed).
    const n0 = copyPasses(st.stdout).filter((p) => p.kind === 'precopy').length;
    // Only what the disks hold is read ("*": allocated areas), far less than their 320 MiB.
    expect(base.bytes).toBeGreaterThan(0);
    expect(base.bytes).toBeLessThan(64 * 1024 * 1024);

    // Pass 1: 8 MiB written in the first 128 MiB page, 1 MiB on the data disk.
    await guestWrites(vm, 0, [{ offsetMiB: 40, lengthMiB: 8, seed: 'p1-a' }]);
    await guestWrites(vm, 1, [{ offsetMiB: 10, lengthMiB: 1, seed: 'p1-b' }]);
    let r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    st = await v2o(state, ['status', runId, '--json']);
    const p1 = copyPasses(st.stdout).filter((p) => p.kind === 'precopy');
    expect(p1).toHaveLength(n0 + 1);
    expect(p1.at(-1)!.bytes).toBeGreaterThanOrEqual(9 * 1024 * 1024);
    expect(p1.at(-1)!.bytes).toBeLessThan(11 * 1024 * 1024);

    // Pass 2: a change only in the second page; the first page of QueryChangedDiskAreas is empty.
    await guestWrites(vm, 0, [{ offsetMiB: 200, lengthMiB: 2, seed: 'p2-a' }]);
    r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    st = await v2o(state, ['status', runId, '--json']);
    const p2 = copyPasses(st.stdout).filter((p) => p.kind === 'precopy')[n0 + 1]!;
    expect(p2.bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(p2.bytes).toBeLessThan(3 * 1024 * 1024);

    // Written after the last pass: only the cutover's final copy can carry it.
    await guestWrites(vm, 0, [{ offsetMiB: 100, lengthMiB: 4, seed: 'after-last' }]);
    const c = await v2o(state, ['cutover', runId]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toMatch(/downtime/i);

    st = await v2o(state, ['status', runId, '--json']);
    const final = copyPasses(st.stdout).find((p) => p.kind === 'final')!;
    // The 4 MiB plus what Windows wrote at shutdown (its state region), not the whole disks.
    expect(final.bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(final.bytes).toBeLessThan(16 * 1024 * 1024);
    expect(stepOutput<{ outcome: string }>(st.stdout, 'verify-boot')).toMatchObject({ outcome: 'booted' });
    await expectVolumesAreTheSource(runId, vm, 2);

    const cbt = await vmCbt(vm);
    expect(cbt).toMatchObject({ enabled: false, snapshots: [], powerState: 'poweredOff' });
    const t = await openTarget();
    const res = await runResources(t, runId);
    expect(res.images).toHaveLength(0);
    expect(res.servers).toHaveLength(1);
    // Detached from the conversion host: attached to the new server only.
    for (const v of res.volumes) expect(v.attachedServerIds).toEqual([res.servers[0]!.id]);

    // Rollback after the cutover: the server and volumes go, the source runs again.
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.pop();
    const after = await runResources(t, runId);
    expect(after.volumes).toHaveLength(0);
    expect(after.servers).toHaveLength(0);
    expect(await vmCbt(vm)).toMatchObject({ enabled: false, snapshots: [], powerState: 'poweredOn' });
  });

  it('win2022-warm03: a resume before the next pass changes nothing; rollback in precopy leaves the source running, unchanged', async () => {
    const vm = 'win2022-warm03';
    await resetWarmVm(vm);
    const state = tmpDir('warm-wait');
    const plan = writePlan(state, { [vm]: warmPlanLines({ interval: 60 }) });
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);
    const before = await v2o(state, ['status', runId, '--json']);

    // A separate process before the pass is due: it says when, exits 3, and journals nothing new.
    const r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/waits until .* at step precopy/);
    const after = await v2o(state, ['status', runId, '--json']);
    expect(copyPasses(after.stdout)).toEqual(copyPasses(before.stdout));
    const list = await v2o(state, ['list']);
    expect(list.stdout).toMatch(/waiting \(until \d\d:\d\d\)/);

    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.pop();
    const t = await openTarget();
    expect((await runResources(t, runId)).volumes).toHaveLength(0);
    expect(await vmCbt(vm)).toMatchObject({ enabled: false, snapshots: [], powerState: 'poweredOn' });
  });

  it('win2022-warm03: a changeId vSphere rejects (CBT reset) and a disk grown past its volume are copied whole, and end right', async () => {
    const vm = 'win2022-warm03';
    await resetWarmVm(vm);
    const state = tmpDir('warm-reset');
    const plan = writePlan(state, { [vm]: warmPlanLines() });
    const m = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(m.stdout + m.stderr);
    cleanup.push({ state, runId, vm });
    expect(m.code, m.stdout + m.stderr).toBe(3);

    await hook('/disk/cbt-reset', 'POST', { vm });
    await guestWrites(vm, 0, [{ offsetMiB: 30, lengthMiB: 1, seed: 'after-reset' }]);
    let r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    let st = await v2o(state, ['status', runId, '--json']);
    const reset = copyPasses(st.stdout).at(-1)!;
    expect(reset.disks.every((d) => d.fullCopy)).toBe(true);
    expect(st.stdout).toMatch(/fullCopy/);

    // The data disk grows from 64 MiB to 1.5 GiB: bigger than its 1 GiB volume.
    await hook('/disk/grow', 'POST', { vm, disk: 1, capacityBytes: 1536 * 1024 * 1024 });
    await guestWrites(vm, 1, [{ offsetMiB: 1400, lengthMiB: 1, seed: 'grown' }]);
    r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    st = await v2o(state, ['status', runId, '--json']);
    const grown = copyPasses(st.stdout).at(-1)!;
    expect(grown.disks.find((d) => d.key !== grown.disks[0]!.key)?.fullCopy).toMatch(/capacity/);
    const t = await openTarget();
    const data = (await runResources(t, runId)).volumes.find((v) => v.metadata.v2o_disk === '1')!;
    expect(data.sizeGiB).toBe(2);

    const c = await v2o(state, ['cutover', runId]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    await expectVolumesAreTheSource(runId, vm, 2);
  });

  it('a disk that is not a flat extent is refused for warm, with the fix', async () => {
    const vm = 'win2019-app01'; // streamOptimized
    const state = tmpDir('warm-sparse');
    const plan = writePlan(state, { [vm]: warmPlanLines() });
    const r = await v2o(state, ['plan', plan, '--vm', vm]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/streamOptimized/);
    expect(r.stdout + r.stderr).toMatch(/migration: cold/);
  });
});
