// Warm against cold on the labs (`npm run lab -- up all` first):
//
//   npm run bench:warm -- [--rate 30M] [--changed 64M] [--kill-at 0.75] [--keep]
//
// One run, side by side, in the transfer benchmark's symmetric setting: the vSphere leg (SOAP,
// datastore reads) and the Glance leg each through a throttling proxy at --rate (30 MB/s ≈ a
// 250 Mb/s link between sites). The VM is the lab's win2022-bench01, its 4 GiB flat boot disk
// filled with incompressible bytes first (the guest's own writes through the lab hook).
//   1. cold: shutdown, the disk through Glance (datastore read → raw image), launch, boot verified;
//   2. warm: CBT, the base copy into a volume on the conversion host while the VM runs, one precopy
//      pass, --changed written by the guest after it, then the cutover;
//   3. a raw Range GET of the same flat extent through the same proxy, written to an attached volume
//      (the base copy's ceiling);
//   4. resumption: the cold copy to a volume (conversion host) killed at --kill-at of its bytes, then
//      `v2o resume`: how much of the disk it reads again.
// Each downtime is shutdown start → boot verified, from the journal's step times. The lab's device
// writes are local files: only the source and Glance legs are throttled (said in the output).
// The v2o runs use the compiled CLI (`npm run build` runs first).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { formatBytes } from '../src/format-bytes.js';
import { connectTarget } from '../src/migration/target-openstack.js';
import { openCloud } from '../src/openstack/cloud.js';
import { loadCloudConfig } from '../src/openstack/config.js';
import { findAttachedDevice } from '../src/transfer/find-device.js';
import { vsphereConfigFromEnv } from '../src/vsphere/config.js';
import { connect } from '../src/vsphere/objects/client.js';
import { datastoreDownload } from '../src/vsphere/objects/datastore.js';
import { labProcessEnv } from '../test/helpers/lab-env.js';
import { startThrottleProxy } from './throttle-proxy.js';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '30M' },
    changed: { type: 'string', default: '64M' },
    'kill-at': { type: 'string', default: '0.75' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('//'))
      .map((l) => l.slice(3))
      .join('\n'),
  );
  process.exit(0);
}

const MiB = 1024 * 1024;
const MB = 1_000_000;
function parseSize(s: string, unit: number): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`not a size: ${s} (e.g. 30M)`);
  const mult = { '': 1, K: unit / 1024 ** 1, M: unit, G: unit * 1024 }[m[2]!.toUpperCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}
const rate = parseSize(flags.rate!, MB);
const changed = parseSize(flags.changed!, MiB);
const killAt = Number(flags['kill-at']);

const root = resolve(import.meta.dirname, '..');
const env = labProcessEnv();
const VM = env.V2O_LAB_VSPHERE_VM_BENCH ?? 'win2022-bench01';
const work = mkdtempSync(join(tmpdir(), 'v2o-bench-warm-'));

// --- the lab --------------------------------------------------------------------------------

async function hook(path: string, method: 'GET' | 'POST', body?: unknown): Promise<unknown> {
  const { Agent, request } = await import('node:https');
  const agent = new Agent({ ca: readFileSync(env.GOVC_TLS_CA_CERTS!) });
  return new Promise((res, rej) => {
    const req = request(
      new URL(`${env.V2O_LAB_VSPHERE_EXT_URL}${path}`),
      { method, agent, headers: { 'content-type': 'application/json' } },
      (r) => {
        let text = '';
        r.on('data', (c) => {
          text += c;
        });
        r.on('end', () =>
          (r.statusCode ?? 0) >= 300
            ? rej(new Error(`${method} ${path}: ${r.statusCode} ${text}`))
            : res(text ? JSON.parse(text) : undefined),
        );
      },
    );
    req.on('error', rej);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The guest writes seeded noise over [offset, offset+length) of its boot disk, 256 MiB at a time. */
async function guestFill(offset: number, length: number, seed: string): Promise<void> {
  for (let at = offset; at < offset + length; at += 256 * MiB) {
    const n = Math.min(256 * MiB, offset + length - at);
    await hook('/disk/write', 'POST', {
      vm: VM,
      disk: 0,
      writes: [{ offset: at, length: n, seed: `${seed}-${at}` }],
    });
  }
}

// --- the CLI --------------------------------------------------------------------------------

interface Cli {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}
function v2o(state: string, args: string[], extra: NodeJS.ProcessEnv): Promise<Cli> {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [join(root, 'dist/src/cli/main.js'), '--state-dir', state, ...args],
      {
        cwd: root,
        env: {
          ...env,
          V2O_GUEST_USERNAME: env.V2O_LAB_GUEST_USERNAME,
          V2O_GUEST_PASSWORD: env.V2O_LAB_GUEST_PASSWORD,
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('error', rej);
    child.on('close', (code, signal) => res({ code, signal, out }));
  });
}
const runIdOf = (t: string) => /run (r-[0-9a-z]{8})/.exec(t)?.[1] ?? fail(`no run id in:\n${t}`);
function fail(msg: string): never {
  throw new Error(msg);
}
function expectCode(r: Cli, code: number, what: string): void {
  if (r.code !== code) fail(`${what}: exit ${r.code ?? r.signal}, expected ${code}\n${r.out.slice(-4000)}`);
}

interface StatusView {
  steps: { stepId: string; state: string; startedAt?: number; finishedAt?: number; output?: unknown }[];
  copyPasses?: { kind: string; bytes: number; seconds: number }[];
}
async function status(state: string, runId: string, extra: NodeJS.ProcessEnv): Promise<StatusView> {
  const r = await v2o(state, ['status', runId, '--json'], extra);
  expectCode(r, 0, 'status');
  return JSON.parse(r.out) as StatusView;
}

/** Seconds between the start of step `from` and the end of step `to` (skipped steps ignored). */
function span(v: StatusView, from: string, to: string): number {
  const a = v.steps.find((s) => s.stepId === from)?.startedAt;
  const b = v.steps.find((s) => s.stepId === to)?.finishedAt;
  if (a === undefined || b === undefined) fail(`no times for ${from} → ${to}`);
  return (b - a) / 1000;
}
function stepsSeconds(v: StatusView, ids: string[]): number {
  return ids
    .map((id) => v.steps.find((s) => s.stepId === id))
    .filter((s) => s?.state === 'succeeded' && s.startedAt && s.finishedAt)
    .reduce((n, s) => n + (s!.finishedAt! - s!.startedAt!) / 1000, 0);
}

function writePlan(dir: string, lines: string): string {
  const file = join(dir, 'plan.yaml');
  writeFileSync(
    file,
    `version: 1
source: {}
target: { cloud: ${env.OS_CLOUD} }
defaults:
  drivers:
    virtioWin: { url: "${env.V2O_LAB_VIRTIO_WIN_URL}", sha256: "${env.V2O_LAB_VIRTIO_WIN_SHA256}" }
  networks:
    - { portGroup: VM Network, network: lab-net, keepMac: true }
  bootTimeoutSeconds: 120
  conversionHost: { server: auto, metadataUrl: "${env.V2O_LAB_METADATA_URL}", deviceDir: "${env.V2O_LAB_CONVERSION_DEVICE_DIR}" }
vms:
  - name: ${VM}
${lines}`,
  );
  return file;
}

async function rollback(state: string, runId: string, extra: NodeJS.ProcessEnv): Promise<void> {
  if (flags.keep) return;
  expectCode(await v2o(state, ['cancel', runId, '--rollback'], extra), 0, `rollback ${runId}`);
  await hook('/reset', 'POST', { vm: VM });
}

// --- the measurements -----------------------------------------------------------------------

interface Downtime {
  total: number;
  copy: number;
  launch: number;
  boot: number;
}
function downtimeOf(v: StatusView, copySteps: string[]): Downtime {
  return {
    total: span(v, 'shutdown', 'verify-boot'),
    copy: stepsSeconds(v, copySteps),
    launch: stepsSeconds(v, ['detach-volumes', 'launch']),
    boot: stepsSeconds(v, ['verify-boot']),
  };
}

async function cold(extra: NodeJS.ProcessEnv): Promise<Downtime> {
  const state = join(work, 'cold');
  const plan = writePlan(mkdir(state), '    exportMethod: datastore\n    imageFormat: raw\n');
  console.error('[bench] cold: migrate ...');
  const r = await v2o(state, ['migrate', plan, '--vm', VM], extra);
  const runId = runIdOf(r.out);
  expectCode(r, 0, 'cold migrate');
  const v = await status(state, runId, extra);
  await rollback(state, runId, extra);
  return downtimeOf(v, ['upload-images', 'create-volumes']);
}

async function warm(extra: NodeJS.ProcessEnv) {
  const state = join(work, 'warm');
  const plan = writePlan(
    mkdir(state),
    '    migration: warm\n    warm: { passIntervalMinutes: 0, maxPasses: 5 }\n',
  );
  console.error('[bench] warm: migrate (CBT, base copy) ...');
  let r = await v2o(state, ['migrate', plan, '--vm', VM], extra);
  const runId = runIdOf(r.out);
  expectCode(r, 3, 'warm migrate');
  console.error('[bench] warm: one precopy pass ...');
  await guestFill(512 * MiB, 16 * MiB, 'pass1');
  expectCode(await v2o(state, ['resume', runId], extra), 3, 'warm pass');
  console.error(`[bench] warm: the guest writes ${formatBytes(changed)}, then the cutover ...`);
  await guestFill(1024 * MiB, changed, 'after-last-pass');
  r = await v2o(state, ['cutover', runId], extra);
  expectCode(r, 0, 'cutover');
  const v = await status(state, runId, extra);
  const passes = v.copyPasses ?? [];
  const base = passes.find((p) => p.kind === 'base') ?? fail('no base pass');
  const final = passes.find((p) => p.kind === 'final') ?? fail('no final pass');
  await rollback(state, runId, extra);
  return { downtime: downtimeOf(v, ['copy-volumes']), base, final };
}

/** The ceiling: the flat extent through the same proxy with one Range GET, into an attached volume. */
async function rawGet(govcUrl: string, sizeBytes: number): Promise<number> {
  const t = await connectTarget(
    { cloud: env.OS_CLOUD },
    env,
    (await import('pino')).pino({ level: 'silent' }),
  );
  const host = await t.findConversionHost({ server: 'auto', metadataUrl: env.V2O_LAB_METADATA_URL! });
  const vol = await t.createEmptyVolume({
    name: 'v2o-bench-raw-get',
    sizeGiB: Math.ceil(sizeBytes / 1024 ** 3),
    bootable: false,
    availabilityZone: host.availabilityZone,
    metadata: { v2o_bench: 'raw-get' },
  });
  const vs = await connect(await vsphereConfigFromEnv({ ...env, GOVC_URL: govcUrl }));
  try {
    await t.waitVolume(vol.id, 'available', 120_000);
    await t.attachVolume(host.id, vol.id);
    const device = await findAttachedDevice(vol.id, {
      deviceDir: env.V2O_LAB_CONVERSION_DEVICE_DIR!,
      timeoutMs: 60_000,
    });
    const extent = `${VM}/${VM}-flat.vmdk`;
    const t0 = performance.now();
    const body = await datastoreDownload(vs, {
      datacenter: env.GOVC_DATACENTER!,
      datastore: env.GOVC_DATASTORE!,
      path: extent,
    });
    const fh = await open(device, 'r+');
    let pos = 0;
    for await (const chunk of body) {
      await fh.write(chunk as Buffer, 0, (chunk as Buffer).length, pos);
      pos += (chunk as Buffer).length;
    }
    await fh.sync();
    await fh.close();
    const s = (performance.now() - t0) / 1000;
    if (pos !== sizeBytes) fail(`raw GET read ${pos} bytes of ${sizeBytes}`);
    return pos / s;
  } finally {
    await vs.close();
    await t.detachVolume(host.id, vol.id).catch(() => {});
    await t.deleteVolume(vol.id).catch(() => {});
  }
}

async function resumption(extra: NodeJS.ProcessEnv, sizeBytes: number) {
  const state = join(work, 'resume');
  const plan = writePlan(mkdir(state), '    bootFromVolume: true\n');
  console.error(`[bench] resumption: cold to a volume, killed at ${killAt * 100} % ...`);
  const k = await v2o(state, ['migrate', plan, '--vm', VM], {
    ...extra,
    V2O_TEST_CRASH_AT: `copy-volumes:at-fraction=${killAt}`,
  });
  if (k.signal !== 'SIGKILL') fail(`the copy was not killed: ${k.code}\n${k.out.slice(-3000)}`);
  const runId = runIdOf(k.out);
  expectCode(await v2o(state, ['resume', runId], extra), 0, 'resume');
  const v = await status(state, runId, extra);
  const out = v.steps.find((s) => s.stepId === 'copy-volumes')?.output as
    | { pass: { bytesRead: number } }
    | undefined;
  await rollback(state, runId, extra);
  return (out?.pass.bytesRead ?? fail('copy-volumes has no pass')) / sizeBytes;
}

function mkdir(p: string): string {
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
  return p;
}

async function main() {
  const vurl = new URL(env.GOVC_URL!.includes('://') ? env.GOVC_URL! : `https://${env.GOVC_URL}`);
  const clouds = YAML.parse(readFileSync(env.OS_CLIENT_CONFIG_FILE!, 'utf8'));
  const cloud = await openCloud(loadCloudConfig({ env }), { services: ['image'] });
  const gurl = new URL(cloud.image.endpoint);
  await cloud.close();
  const vp = await startThrottleProxy({ host: vurl.hostname, port: Number(vurl.port || 443) }, rate);
  const gp = await startThrottleProxy({ host: gurl.hostname, port: Number(gurl.port || 80) }, rate);
  try {
    const proxied = new URL(vurl);
    proxied.port = String(vp.port);
    clouds.clouds[env.OS_CLOUD!].image_endpoint_override = `http://127.0.0.1:${gp.port}/`;
    const cloudsFile = join(work, 'clouds.yaml');
    writeFileSync(cloudsFile, YAML.stringify(clouds), { mode: 0o600 });
    const extra = { GOVC_URL: proxied.toString(), OS_CLIENT_CONFIG_FILE: cloudsFile };

    await hook('/reset', 'POST', { vm: VM });
    await hook('/disk/restore', 'POST', { vm: VM }); // the seeded bytes (boot record, state region)
    const { capacityBytes } = (await hook(`/disk/state?vm=${VM}&disk=0`, 'GET')) as { capacityBytes: number };
    const content = { sizeBytes: capacityBytes };
    console.error(
      `[bench] filling ${VM}'s ${formatBytes(content.sizeBytes)} disk with incompressible bytes ...`,
    );
    // All but the first MiB (the lab's boot record) and the last 2 MiB (its guest state region):
    // the disk must stay a bootable lab Windows disk.
    await guestFill(MiB, content.sizeBytes - 3 * MiB, 'bench');

    const c = await cold(extra);
    console.error(`[bench] cold downtime ${JSON.stringify(c)}`);
    const w = await warm(extra);
    console.error(`[bench] warm downtime ${JSON.stringify(w)}`);
    console.error('[bench] raw Range GET into an attached volume ...');
    const raw = await rawGet(proxied.toString(), content.sizeBytes);
    console.error(`[bench] raw GET ${(raw / MB).toFixed(1)} MB/s`);
    const again = await resumption(extra, content.sizeBytes);

    const baseRate = w.base.bytes / w.base.seconds;
    const row = (name: string, d: Downtime) =>
      `| ${name} | ${d.total.toFixed(1)} s | ${d.copy.toFixed(1)} s | ${d.launch.toFixed(1)} s | ${d.boot.toFixed(1)} s |`;
    const ok = (v: boolean) => (v ? 'met' : '**missed**');
    console.log(`
## bench:warm — ${VM}, ${formatBytes(content.sizeBytes)} flat disk, ${(rate / MB).toFixed(0)} MB/s per leg (vSphere and Glance), ${formatBytes(changed)} changed after the last pass

| run | downtime (shutdown → boot verified) | copy | launch | boot |
|---|---|---|---|---|
${row('cold (Glance)', c)}
${row('warm (CBT)', w.downtime)}

| measure | value | target | |
|---|---|---|---|
| warm downtime / cold downtime | ${(w.downtime.total / c.total).toFixed(3)} | ≤ 0.2 | ${ok(w.downtime.total <= 0.2 * c.total)} |
| cutover copy / cold copy | ${(w.downtime.copy / c.copy).toFixed(3)} | ≤ 0.1 | ${ok(w.downtime.copy <= 0.1 * c.copy)} |
| bytes read at cutover / bytes changed | ${formatBytes(w.final.bytes)} / ${formatBytes(changed)} = ${(w.final.bytes / changed).toFixed(3)} | ≤ 1.2 | ${ok(w.final.bytes <= 1.2 * changed)} |
| base copy / raw Range GET | ${(baseRate / MB).toFixed(1)} / ${(raw / MB).toFixed(1)} MB/s = ${(baseRate / raw).toFixed(3)} | ≥ 0.9 | ${ok(baseRate >= 0.9 * raw)} |
| read again after a kill at ${killAt * 100} % / disk | ${again.toFixed(3)} | ≤ 0.35 | ${ok(again <= 0.35)} |

The lab writes volumes as local files: only the vSphere and Glance legs are throttled. "bytes changed"
is what the guest wrote after the last pass; the cutover also reads what Windows writes at shutdown.`);
  } finally {
    await vp.close();
    await gp.close();
    if (!flags.keep) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
