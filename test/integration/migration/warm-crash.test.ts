// kill -9 at the four places a warm migration can be caught — mid base copy, after a pass's
// snapshot was made and before its changes were read, mid pass, in the cutover's final copy — and a
// cold copy to volumes killed part-way: every `v2o resume` continues (from the last changeId, from
// the last checkpointed extent), removes the snapshot it left, never creates or attaches a volume
// twice, and the volumes end as the source's bytes.
import { afterAll, describe, expect, it } from 'vitest';
import {
  migrationEnv,
  rollbackRuns,
  runIdOf,
  type StartedRun,
  stepOutput,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';
import {
  type CopyPass,
  copyPasses,
  expectVolumesAreTheSource,
  guestWrites,
  resetWarmVm,
  vmCbt,
  warmPlanLines,
} from './warm-helpers.js';

const cleanup: StartedRun[] = [];
afterAll(() => rollbackRuns(cleanup));

const crashAt = (spec: string) => migrationEnv({ V2O_TEST_CRASH_AT: spec });

describe('warm migration killed anywhere', () => {
  it('win2022-warm02: killed mid base copy, after a snapshot, mid pass and in the cutover; each resume continues', async () => {
    const vm = 'win2022-warm02';
    await resetWarmVm(vm);
    const state = tmpDir('warm-kill');
    const plan = writePlan(state, { [vm]: warmPlanLines() });

    const k1 = await v2o(state, ['migrate', plan, '--vm', vm], crashAt('base-copy:mid'));
    expect(k1.signal).toBe('SIGKILL');
    const runId = runIdOf(k1.stdout + k1.stderr);
    cleanup.push({ state, runId, vm });
    let r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    // The snapshot the killed base copy left was found and removed.
    expect((await vmCbt(vm)).snapshots).toEqual([]);

    await guestWrites(vm, 0, [{ offsetMiB: 20, lengthMiB: 2, seed: 'k2' }]);
    const k2 = await v2o(state, ['resume', runId], crashAt('precopy:after-snapshot'));
    expect(k2.signal).toBe('SIGKILL');
    expect((await vmCbt(vm)).snapshots).toHaveLength(1);
    r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect((await vmCbt(vm)).snapshots).toEqual([]);

    await guestWrites(vm, 0, [{ offsetMiB: 150, lengthMiB: 3, seed: 'k3' }]);
    const k3 = await v2o(state, ['resume', runId], crashAt('precopy:mid'));
    expect(k3.signal).toBe('SIGKILL');
    r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(3);

    await guestWrites(vm, 1, [{ offsetMiB: 5, lengthMiB: 1, seed: 'k4' }]);
    const k4 = await v2o(state, ['cutover', runId], crashAt('copy-volumes:mid'));
    expect(k4.signal).toBe('SIGKILL');
    r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    await expectVolumesAreTheSource(runId, vm, 2);
    expect(await vmCbt(vm)).toMatchObject({ enabled: false, snapshots: [] });
    const st = await v2o(state, ['status', runId, '--json']);
    expect(copyPasses(st.stdout).filter((p) => p.kind === 'base')).not.toHaveLength(0);
    // Its server holds the VM's MAC: rolled back now, as the next test migrates the VM again.
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.pop();
  });

  it('win2022-warm02, cold to volumes: a copy killed at half continues from its checkpoint, not from byte 0', async () => {
    const vm = 'win2022-warm02';
    await resetWarmVm(vm);
    const state = tmpDir('cold-vol-kill');
    const plan = writePlan(state, { [vm]: warmPlanLines({ cold: true }) });
    const p = await v2o(state, ['plan', plan, '--vm', vm]);
    expect(p.code, p.stdout + p.stderr).toBe(0);
    expect(p.stdout).toMatch(/resumes mid-disk/);

    const k = await v2o(state, ['migrate', plan, '--vm', vm], crashAt('copy-volumes:at-fraction=0.5'));
    expect(k.signal).toBe('SIGKILL');
    const runId = runIdOf(k.stdout + k.stderr);
    cleanup.push({ state, runId, vm });
    const r = await v2o(state, ['resume', runId]);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const st = await v2o(state, ['status', runId, '--json']);
    const { pass } = stepOutput<{ pass: CopyPass }>(st.stdout, 'copy-volumes')!;
    // The resumed process read what was left, never the whole again (checkpoints every 64 MiB per
    // disk, the kill at half of both disks' bytes: what was past a disk's last checkpoint is read again).
    expect(pass.bytesRead).toBeGreaterThan(0);
    expect(pass.bytesRead).toBeLessThan(pass.bytes);
    expect(pass.bytesRead).toBeLessThanOrEqual(0.5 * pass.bytes + 2 * 64 * 1024 * 1024);
    await expectVolumesAreTheSource(runId, vm, 2);
  });
});
