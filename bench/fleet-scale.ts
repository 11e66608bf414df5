// Part of `npm run bench:engine` with both labs up: the point of a fleet, scale. Six 1 GiB disks of
// incompressible data (the lab's three warm VMs, both of their disks grown to 1 GiB and written by the
// guest) migrated cold by one wave on the fleet, first with one worker, then with three; each worker
// reaches vSphere and Glance through throttling proxies of its own at --rate (one 30 MB/s link per
// conversion host). Aggregate throughput = the wave's bytes / the time the wave was moving them (the
// first upload-images step's start → the last one's end, from the journal), three workers against
// one, target ≥ 0.9 × 3. The whole wave's wall time (first run created → last run done, with the
// guest preparation and the launches that do not scale with the link) is printed beside it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import YAML from 'yaml';
import { pgTarget } from '../src/engine/journal/pg-url.js';
import { PostgresJournal } from '../src/engine/journal/postgres.js';
import { openCloud } from '../src/openstack/cloud.js';
import { loadCloudConfig } from '../src/openstack/config.js';
import { dropDatabase } from '../test/helpers/pg-database.js';
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js';

const MiB = 1024 * 1024;

interface Lab {
  env: NodeJS.ProcessEnv;
  root: string;
  cliJs: string;
  work: string;
}

function hook(env: NodeJS.ProcessEnv, path: string, body?: unknown): Promise<unknown> {
  const agent = new Agent({ ca: readFileSync(env.GOVC_TLS_CA_CERTS!) });
  return new Promise((res, rej) => {
    const req = request(
      new URL(`${env.V2O_LAB_VSPHERE_EXT_URL}${path}`),
      { method: body === undefined ? 'GET' : 'POST', agent, headers: { 'content-type': 'application/json' } },
      (r) => {
        let t = '';
        r.on('data', (c) => {
          t += c;
        });
        r.on('end', () =>
          (r.statusCode ?? 0) >= 300
            ? rej(new Error(`${path}: ${r.statusCode} ${t}`))
            : res(t ? JSON.parse(t) : undefined),
        );
      },
    );
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The three warm VMs with both disks at 1 GiB, all but the boot record and state region written. */
async function prepareDisks(env: NodeJS.ProcessEnv, vms: string[]): Promise<void> {
  for (const vm of vms) {
    await hook(env, '/reset', { vm });
    await hook(env, '/disk/restore', { vm });
    for (const disk of [0, 1]) {
      await hook(env, '/disk/grow', { vm, disk, capacityBytes: 1024 * MiB });
      // Disk 0 keeps its first MiB (the lab's boot record) and its state region at 254 MiB.
      const spans =
        disk === 0
          ? [
              [1, 253],
              [256, 768],
            ]
          : [[0, 1024]];
      for (const [from, len] of spans)
        for (let at = from!; at < from! + len!; at += 256) {
          const n = Math.min(256, from! + len! - at);
          await hook(env, '/disk/write', {
            vm,
            disk,
            writes: [{ offset: at * MiB, length: n * MiB, seed: `scale-${vm}-${disk}-${at}` }],
          });
        }
    }
  }
}

/** One worker with its own proxies (vSphere and Glance) at `rate`. */
async function startWorker(lab: Lab, url: string, name: string, rate: number, maxVms: number) {
  const { env } = lab;
  const vurl = new URL(env.GOVC_URL!.includes('://') ? env.GOVC_URL! : `https://${env.GOVC_URL}`);
  const cloud = await openCloud(loadCloudConfig({ env }), { services: ['image'] });
  const gurl = new URL(cloud.image.endpoint);
  await cloud.close();
  const vp = await startThrottleProxy({ host: vurl.hostname, port: Number(vurl.port || 443) }, rate);
  const gp = await startThrottleProxy({ host: gurl.hostname, port: Number(gurl.port || 80) }, rate);
  const clouds = YAML.parse(readFileSync(env.OS_CLIENT_CONFIG_FILE!, 'utf8'));
  clouds.clouds[env.OS_CLOUD!].image_endpoint_override = `http://127.0.0.1:${gp.port}/`;
  const dir = join(lab.work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'clouds.yaml'), YAML.stringify(clouds), { mode: 0o600 });
  const proxied = new URL(vurl);
  proxied.port = String(vp.port);
  const child = spawn(
    process.execPath,
    [lab.cliJs, '--state-dir', dir, '--journal', url, 'worker', '--name', name, '--max-vms', String(maxVms)],
    {
      cwd: lab.root,
      env: {
        ...env,
        GOVC_URL: proxied.toString(),
        OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
        V2O_GUEST_USERNAME: env.V2O_LAB_GUEST_USERNAME,
        V2O_GUEST_PASSWORD: env.V2O_LAB_GUEST_PASSWORD,
      },
      stdio: 'ignore',
    },
  );
  return { child, proxies: [vp, gp] as ThrottleProxy[] };
}

function cli(lab: Lab, url: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [lab.cliJs, '--state-dir', lab.work, '--journal', url, ...args], {
      cwd: lab.root,
      env: {
        ...lab.env,
        V2O_GUEST_USERNAME: lab.env.V2O_LAB_GUEST_USERNAME,
        V2O_GUEST_PASSWORD: lab.env.V2O_LAB_GUEST_PASSWORD,
      },
    });
    let out = '';
    c.stdout.on('data', (x) => {
      out += x;
    });
    c.stderr.on('data', (x) => {
      out += x;
    });
    c.on('close', (code) => res({ code, out }));
  });
}

export interface WaveRate {
  /** Bytes per second while the wave moved disks. */
  transfer: number;
  /** Bytes per second over the whole wave. */
  wall: number;
}

/** One wave of the six disks on `workers` workers. */
async function wave(
  lab: Lab,
  adminUrl: string,
  vms: string[],
  workers: number,
  rate: number,
): Promise<WaveRate> {
  const db = `v2o_scale_${Date.now().toString(36)}`;
  const admin = new pg.Client(pgTarget(adminUrl).config);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  const url = u.toString();
  const started: { child: ChildProcess; proxies: ThrottleProxy[] }[] = [];
  try {
    const plan = join(lab.work, `plan-${workers}.yaml`);
    const { env } = lab;
    writeFileSync(
      plan,
      `version: 1
source: {}
target: { cloud: ${env.OS_CLOUD} }
concurrency: { vms: 6, disksPerVm: 2, disks: 12, perSourceHost: 6, perTarget: 12 }
defaults:
  drivers:
    virtioWin: { url: "${env.V2O_LAB_VIRTIO_WIN_URL}", sha256: "${env.V2O_LAB_VIRTIO_WIN_SHA256}" }
  networks:
    - { portGroup: VM Network, network: lab-net, keepMac: true }
  bootCheck: none
  exportMethod: datastore
  imageFormat: raw
  uploadHashes: []
vms:
${vms.map((v) => `  - name: ${v}\n`).join('')}`,
    );
    // The runs (one per VM, two disks each) shared out evenly: a worker takes no more than its share,
    // or one worker's link would carry two runs while another worker stands idle.
    const share = Math.ceil(vms.length / workers);
    for (let i = 0; i < workers; i++)
      started.push(await startWorker(lab, url, `scale-${workers}-${i}`, rate, share));
    await new Promise((r) => setTimeout(r, 3000)); // every worker polling before the jobs come
    const q = await cli(lab, url, ['migrate', plan, '--queue', '--wait']);
    if (q.code !== 0) {
      // What failed, from the journal (the workers' own output is not kept).
      const all = JSON.parse((await cli(lab, url, ['list', '--json'])).out) as {
        id: string;
        state: string;
      }[];
      const why = [];
      for (const r of all.filter((r) => r.state === 'failed'))
        why.push((await cli(lab, url, ['status', r.id])).out.slice(-2500));
      throw new Error(`the wave failed (${q.code}):\n${q.out.slice(-1000)}\n${why.join('\n')}`);
    }
    const runs = JSON.parse((await cli(lab, url, ['list', '--json'])).out) as {
      id: string;
      createdAt: number;
      finishedAt?: number;
      updatedAt: number;
    }[];
    const t0 = Math.min(...runs.map((r) => r.createdAt));
    const t1 = Math.max(...runs.map((r) => r.finishedAt ?? r.updatedAt));
    const journal = await PostgresJournal.open(url);
    const uploads = await Promise.all(runs.map((r) => journal.getStep(r.id, 'upload-images')));
    await journal.close();
    const u0 = Math.min(...uploads.map((s) => s?.startedAt ?? Number.NaN));
    const u1 = Math.max(...uploads.map((s) => s?.finishedAt ?? Number.NaN));
    if (!Number.isFinite(u1 - u0)) throw new Error('fleet scale: a run has no finished upload-images step');
    // Each run's copy in the window: a ratio below target shows here whether the runs overlapped.
    console.log(
      `  ${workers} worker(s): upload-images ${uploads
        .map(
          (u) =>
            `+${((u!.startedAt! - u0) / 1000).toFixed(1)}…+${((u!.finishedAt! - u0) / 1000).toFixed(1)} s`,
        )
        .join(', ')}; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const bytes = vms.length * 2 * 1024 * MiB;
    return { transfer: bytes / ((u1 - u0) / 1000), wall: bytes / ((t1 - t0) / 1000) };
  } finally {
    for (const s of started) {
      s.child.kill('SIGKILL');
      for (const p of s.proxies) await p.close();
    }
    // The labs as found, whatever happened: every run rolled back (servers, ports, images).
    const left = await cli(lab, url, ['list', '--json']);
    if (left.code === 0)
      for (const r of JSON.parse(left.out) as { id: string }[])
        await cli(lab, url, ['cancel', r.id, '--rollback', '--force']);
    await dropDatabase(admin, db);
    await admin.end();
  }
}

export async function fleetScale(lab: Lab, adminUrl: string, rate: number) {
  const vms = [
    lab.env.V2O_LAB_VSPHERE_VM_WARM,
    lab.env.V2O_LAB_VSPHERE_VM_WARM2,
    lab.env.V2O_LAB_VSPHERE_VM_WARM3,
  ].filter((v): v is string => Boolean(v));
  if (vms.length !== 3) throw new Error('fleet scale: the lab has no three warm VMs');
  await prepareDisks(lab.env, vms);
  const one = await wave(lab, adminUrl, vms, 1, rate);
  const three = await wave(lab, adminUrl, vms, 3, rate);
  for (const vm of vms) await hook(lab.env, '/disk/restore', { vm }).catch(() => {});
  return { one, three };
}
