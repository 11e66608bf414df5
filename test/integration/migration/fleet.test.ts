// A wave on a fleet: the journal on the lab's PostgreSQL (TLS, verify-full), eight VMs queued by
// `v2o migrate --queue`, three `v2o worker` processes, one of them killed (SIGKILL, by the crash
// hook) in the middle of a disk transfer. Every VM ends migrated exactly once, the dead worker's run
// is finished by another, and the plan's per-host limit held over all workers together — read from
// the vSphere lab's own count of concurrent export leases per ESXi host, which v2o does not write.
// Then `cancel` from this process (another host, as far as the worker knows) stops a run a worker holds.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgTarget } from '../../../src/engine/journal/pg-url.js';
import { startWorker as spawnWorker, until, type WorkerProcess } from '../../helpers/fleet-workers.js';
import { dropDatabase } from '../../helpers/pg-database.js';
import {
  hook,
  migrationEnv,
  NO_BOOT_CHECK,
  openTarget,
  resetVm,
  runResources,
  setGuest,
  tmpDir,
  v2o,
  writePlan,
} from './helpers.js';

const env = migrationEnv();
const WAVE = (env.V2O_LAB_VSPHERE_WAVE_VMS ?? '').split(',').filter(Boolean);
const PER_HOST = 1;
let url = '';
let dbName = '';
const workers: WorkerProcess[] = [];
const state = tmpDir('fleet');

/** A database of its own for this file: the journal's tables and the queue's schema. */
beforeAll(async () => {
  const admin = new pg.Client(pgTarget(env.V2O_LAB_JOURNAL!).config);
  await admin.connect();
  dbName = `v2o_fleet_${Date.now().toString(36)}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(env.V2O_LAB_JOURNAL!);
  u.pathname = `/${dbName}`;
  url = u.toString();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  // Leave the labs as found: every run of the wave rolled back, the VMs reset.
  const list = await cli(['list', '--json']);
  for (const r of JSON.parse(list.stdout) as { id: string; state: string }[]) {
    if (r.state === 'cancelled') continue;
    await cli(['cancel', r.id, '--rollback', '--force']);
  }
  for (const vm of WAVE) await resetVm(vm);
  const admin = new pg.Client(pgTarget(env.V2O_LAB_JOURNAL!).config);
  await admin.connect();
  await dropDatabase(admin, dbName);
  await admin.end();
}, 600_000);

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return v2o(state, ['--journal', url, ...args], { ...env, ...extra }, 300_000);
}

function startWorker(name: string, extra: NodeJS.ProcessEnv = {}): WorkerProcess {
  const w = spawnWorker({ state, url, name, args: ['--max-vms', '2'], env: { ...env, ...extra } });
  workers.push(w);
  return w;
}

async function runsOf(): Promise<{ id: string; state: string; subject: string }[]> {
  return JSON.parse((await cli(['list', '--json'])).stdout);
}

describe('a wave on three workers', () => {
  it('eight VMs, one worker killed mid-transfer: each VM migrated exactly once, the limits held fleet-wide', async () => {
    expect(WAVE).toHaveLength(8);
    for (const vm of WAVE) await resetVm(vm);
    const dir = tmpDir('fleet-plan');
    const plan = writePlan(
      dir,
      Object.fromEntries(WAVE.map((vm) => [vm, `${NO_BOOT_CHECK}    exportMethod: lease\n`])),
      `concurrency: { vms: 8, disksPerVm: 1, disks: 4, perSourceHost: ${PER_HOST}, perTarget: 4 }\n`,
    );
    // Refused without PostgreSQL, before anything is read.
    const sqlite = await v2o(state, ['migrate', plan, '--queue'], { ...env, V2O_JOURNAL: undefined });
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toMatch(/PostgreSQL/);

    // Leases other tests' killed processes left open count until vSphere times them out (300 s):
    // they are the floor, and the wave may add at most the plan's limit on top, per host.
    await hook('/leases/stats/reset', 'POST', {});
    const before = (await hook('/leases/stats', 'GET')) as { hosts: Record<string, { current: number }> };
    const q = await cli(['migrate', plan, '--queue']);
    expect(q.code, q.stdout + q.stderr).toBe(0);
    expect(q.stdout).toMatch(/queued 8 run\(s\)/);

    // w1 kills itself (SIGKILL) in the middle of its first disk upload.
    const w1 = startWorker('w1', { V2O_TEST_CRASH_AT: 'upload-images:mid' });
    const died = new Promise<void>((res) => w1.on('exit', () => res()));
    await died;
    expect(w1.signalCode).toBe('SIGKILL');
    startWorker('w2');
    startWorker('w3');

    const runs = await until(
      'every run of the wave to end',
      async () => {
        const rs = await runsOf();
        return rs.length === 8 && rs.every((r) => ['succeeded', 'failed', 'cancelled'].includes(r.state))
          ? rs
          : undefined;
      },
      // A dead worker's export slots come back only when vSphere would have timed out its leases
      // (300 s + a renewal): the wave waits for them.
      900_000,
    );
    expect(
      runs.map((r) => r.state),
      workers
        .map((w) => w.out.join(''))
        .join('\n---\n')
        .slice(-6000),
    ).toEqual(Array(8).fill('succeeded'));
    expect(new Set(runs.map((r) => r.subject))).toEqual(new Set(WAVE));

    // Exactly once: one image and one server per run, and no other server for these VMs.
    const t = await openTarget();
    for (const r of runs) {
      const res = await runResources(t, r.id);
      expect(res.images, r.subject).toHaveLength(1);
      expect(res.servers, r.subject).toHaveLength(1);
    }
    // The run w1 held was taken over by another worker once its lease expired.
    const takeovers: { runId: string; from?: string }[] = [];
    for (const r of runs) {
      const st = JSON.parse((await cli(['status', r.id, '--json'])).stdout) as {
        events: { type: string; data?: { from?: { worker?: string } } }[];
      };
      for (const e of st.events)
        if (e.type === 'lease.taken-over') takeovers.push({ runId: r.id, from: e.data?.from?.worker });
    }
    expect(takeovers.some((x) => x.from === 'w1')).toBe(true);

    // The limit held over all workers: the lab counted the export leases it served per ESXi host.
    const stats = (await hook('/leases/stats', 'GET')) as { hosts: Record<string, { max: number }> };
    const added = Object.entries(stats.hosts).map(([h, x]) => x.max - (before.hosts[h]?.current ?? 0));
    expect(Math.max(...added), JSON.stringify({ before, stats })).toBe(PER_HOST);

    // Their servers hold the VMs' MACs: rolled back now, as the next test migrates one again.
    for (const r of runs) {
      const rb = await cli(['cancel', r.id, '--rollback']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    }
  }, 1_200_000);

  it('cancel from another host stops a run a worker holds, within seconds', async () => {
    const vm = WAVE[0]!;
    await resetVm(vm);
    // A guest whose boot driver fails: no first-boot report comes, so verify-boot waits, held.
    await setGuest({ vm, brokenDrivers: ['viostor', 'storahci'] });
    const dir = tmpDir('fleet-cancel');
    const plan = writePlan(dir, { [vm]: '    bootTimeoutSeconds: 600\n    bootFallback: none\n' });
    const q = await cli(['migrate', plan, '--queue']);
    expect(q.code, q.stdout + q.stderr).toBe(0);
    const runId = /run (r-[0-9a-z]{8})/.exec(q.stdout)![1]!;
    await until(
      'the run to reach verify-boot on a worker',
      async () => {
        const st = JSON.parse((await cli(['status', runId, '--json'])).stdout) as {
          steps: { stepId: string; state: string }[];
          lease?: { worker?: string };
        };
        return st.steps.find((s) => s.stepId === 'verify-boot')?.state === 'running' && st.lease?.worker
          ? true
          : undefined;
      },
      300_000,
    );
    const t0 = Date.now();
    const c = await cli(['cancel', runId]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toMatch(/worker w[23]/);
    await until(
      'the worker to let go of the run',
      async () => {
        const st = JSON.parse((await cli(['status', runId, '--json'])).stdout) as { lease?: unknown };
        return st.lease ? undefined : true;
      },
      60_000,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    const res = await runResources(await openTarget(), runId);
    expect(res.servers.length).toBeLessThanOrEqual(1);
  }, 600_000);
});
