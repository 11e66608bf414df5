// A lost conversion host: a warm run queued on a fresh PostgreSQL journal, worker A (on the lab's
// first conversion host, as the shared plan says) attaches its volumes and hangs in the middle of the
// base copy (SIGSTOP by the crash hook: its pid alive, its lease no longer renewed, as a host that
// froze or lost its network). `v2o reassign --to B` is refused while A's lease is live and goes
// through once it expired; A is then killed, and worker B (`--conversion-host` the lab's second
// host) moves the volumes to its host and carries the run through its passes and the cutover. What
// must hold is read from the labs: Cinder's attachments, the device links lab Nova makes for each
// server, the final volumes' bytes against the guest's disks at shutdown.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../../src/engine/journal/open.js';
import type { Journal } from '../../../src/engine/journal/types.js';
import {
  startWorker as spawnWorker,
  type WorkerProcess,
  until as waitFor,
} from '../../helpers/fleet-workers.js';
import { freshDatabase } from '../fleet/pg.js';
import { migrationEnv, openTarget, runResources, tmpDir, v2o, writePlan } from './helpers.js';
import { expectVolumesAreTheSource, guestWrites, resetWarmVm, warmPlanLines } from './warm-helpers.js';

const env = migrationEnv();
const VM = 'win2022-warm01';
const state = tmpDir('reassign');
const workers: WorkerProcess[] = [];
let db: { url: string; drop(): Promise<void> } | undefined;
/** The journal as the workers write it: what the test asserts on. */
let journal: Journal;

beforeAll(async () => {
  db = await freshDatabase();
  journal = await openJournal(db.url, { stateDir: state });
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await journal?.close();
  if (db) {
    const list = await cli(['list', '--json']);
    for (const r of JSON.parse(list.stdout || '[]') as { id: string; state: string }[])
      if (r.state !== 'cancelled') await cli(['cancel', r.id, '--rollback', '--force']);
    await db.drop();
  }
  await resetWarmVm(VM);
}, 600_000);

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return v2o(state, ['--journal', db!.url, ...args], { ...env, ...extra }, 300_000);
}

function startWorker(name: string, args: string[], extra: NodeJS.ProcessEnv = {}): WorkerProcess {
  const w = spawnWorker({
    state,
    url: db!.url,
    name,
    args: ['--max-vms', '1', ...args],
    env: { ...env, ...extra },
  });
  workers.push(w);
  return w;
}

const logs = () =>
  workers
    .map((w) => w.out.join(''))
    .join('\n---\n')
    .slice(-8000);
const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number) =>
  waitFor(what, fn, timeoutMs, { context: logs, pollMs: 1000 }); // polls read the journal, no CLI

const stepState = async (runId: string, id: string) =>
  (await journal.getSteps(runId)).find((s) => s.stepId === id)?.state;

/** The by-id links lab Nova made in a server's device directory (what its guest sees). */
const links = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};
const virtio = (volumeId: string) => `virtio-${volumeId.slice(0, 20)}`;

describe('a warm run whose conversion host is lost', () => {
  it('reassign is refused while the lost worker’s lease is live, then another worker moves the volumes to its host and finishes the run', async () => {
    const host1 = env.V2O_LAB_CONVERSION_HOST!;
    const host2 = env.V2O_LAB_CONVERSION_HOST_2!;
    const dir1 = env.V2O_LAB_CONVERSION_DEVICE_DIR!;
    const dir2 = env.V2O_LAB_CONVERSION_DEVICE_DIR_2!;
    expect(host2, 'the lab has a second conversion host (npm run lab -- up)').toBeTruthy();
    await resetWarmVm(VM);
    // The shared plan names the first host (auto: its metadata service); two passes, back to back.
    const plan = writePlan(tmpDir('reassign-plan'), { [VM]: warmPlanLines({ maxPasses: 2 }) });
    const q = await cli(['migrate', plan, '--queue']);
    expect(q.code, q.stdout + q.stderr).toBe(0);
    const runId = /run (r-[0-9a-z]{8})/.exec(q.stdout)![1]!;

    // A: the plan's conversion host; it hangs at its base copy's first checkpoint.
    const a = startWorker('conv-a', [], {
      V2O_TEST_CRASH_AT: 'base-copy:mid',
      V2O_TEST_CRASH_SIGNAL: 'SIGSTOP',
    });
    await until(
      'worker A to hang mid base copy',
      async () => (/stopping pid/.test(a.out.join('')) ? true : undefined),
      300_000,
    );
    expect((await journal.getLease(runId))?.worker).toBe('conv-a');
    expect((await journal.getRun(runId))?.affinity).toBe('conv-a');
    expect(await stepState(runId, 'base-copy')).toBe('running');
    const { volumes } = await runResources(await openTarget(), runId);
    expect(volumes).toHaveLength(2);
    for (const v of volumes) expect(v.attachedServerIds).toEqual([host1]);
    expect(links(dir1)).toEqual(expect.arrayContaining(volumes.map((v) => virtio(v.id))));

    // B: the other host, named over the plan's.
    const b = startWorker('conv-b', [
      '--conversion-host',
      env.V2O_LAB_CONVERSION_HOST_2_NAME!,
      '--device-dir',
      dir2,
    ]);
    const refused = await cli(['reassign', runId, '--to', 'conv-b']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/still held by worker conv-a .*its lease is live until/);
    expect(refused.stderr).toMatch(/lost worker/);
    expect((await journal.getRun(runId))?.affinity).toBe('conv-a'); // refused: untouched

    // A's lease expires (20 s without renewal); B's reaper (every 5 s) hands the run back to the
    // queue, pinned to A: B does not take it.
    await until(
      "A's lease to expire",
      async () => ((await journal.getLease(runId))!.expiresAt < (await journal.now()) ? true : undefined),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 8000));
    expect((await journal.getLease(runId))?.worker).toBe('conv-a');
    expect((await journal.events(runId)).filter((e) => e.type === 'volume.detached')).toEqual([]);
    // Written while the host is lost, after the base copy's snapshot: B's first precopy pass carries it.
    await guestWrites(VM, 0, [{ offsetMiB: 40, lengthMiB: 8, seed: 'while-lost' }]);
    await guestWrites(VM, 1, [{ offsetMiB: 10, lengthMiB: 1, seed: 'while-lost-b' }]);
    const ok = await cli(['reassign', runId, '--to', 'conv-b']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/reassigned to conv-b and queued/);
    a.kill('SIGKILL'); // the lost host never comes back

    await until(
      'worker B to reach the cutover gate',
      async () => {
        if ((await journal.getRun(runId))?.state === 'failed') throw new Error(`run failed\n${logs()}`);
        return (await stepState(runId, 'cutover')) === 'waiting' ? true : undefined;
      },
      300_000,
    );
    expect((await journal.getRun(runId))?.affinity).toBe('conv-b');
    const events = await journal.events(runId);
    for (const v of volumes) {
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'volume.detached', data: { volumeId: v.id, from: host1 } }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'volume.attached',
          data: { volumeId: v.id, to: host2, reassignedFrom: host1 },
        }),
      );
    }
    // Moved before any copy on B (A never finished a pass), then every pass ran there: the base
    // copy B resumed and both precopy passes.
    const moved = events.filter((e) => e.type === 'volume.attached' && e.data?.to === host2);
    const passes = events.filter((e) => e.type === 'copy.pass');
    expect(moved).toHaveLength(2);
    expect(passes.map((e) => e.data?.kind)).toEqual(['base', 'precopy', 'precopy']);
    expect(Math.max(...moved.map((e) => e.seq))).toBeLessThan(passes[0]!.seq);
    expect(
      passes.find((e) => e.data?.kind === 'precopy' && Number(e.data?.bytes) >= 9 * 1024 * 1024),
    ).toBeDefined();
    const t = await openTarget();
    const now = (await runResources(t, runId)).volumes;
    expect(now.map((v) => v.id).sort()).toEqual(volumes.map((v) => v.id).sort());
    for (const v of now) expect(v.attachedServerIds).toEqual([host2]);
    expect(links(dir2)).toEqual(expect.arrayContaining(volumes.map((v) => virtio(v.id))));
    expect(links(dir1).filter((l) => volumes.some((v) => l === virtio(v.id)))).toEqual([]);

    // Written after the last pass: only the final copy, on host 2, carries it.
    await guestWrites(VM, 0, [{ offsetMiB: 100, lengthMiB: 4, seed: 'after-last' }]);
    const c = await cli(['cutover', runId]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const end = await until(
      'the run to end',
      async () => {
        const r = await journal.getRun(runId);
        return r && ['succeeded', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
      },
      400_000,
    );
    expect(end.state, logs()).toBe('succeeded');
    // One server on the run's two volumes (no duplicate), each the guest's disk at shutdown.
    await expectVolumesAreTheSource(runId, VM, 2);
    expect(b.exitCode).toBeNull();
    const rb = await cli(['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
  }, 1_200_000);
});
