// Disk transfer benchmark on the labs (`npm run lab -- up all` first):
//
//   npm run bench:transfer -- [--size 4G] [--big 16G|0] [--rate 100M|0] [--thin 0.1|0] [--repeat 1] [--hashes md5] [--hash-worker] [--no-convert] [--keep]
//
// Side by side, on the same disk in one run: (a) the raw limit, curl GET from the export URL piped
// into curl PUT to Glance; (b) the manual toolchain, download to a file then `openstack image create
// --file`; (c) v2o (ExportVm lease → transferDisk → Glance). First direct on loopback, then both legs
// through a rate-limited TCP proxy (--rate, like a 1 GbE link) where streaming can gain up to 2×.
// Then v2o alone on a --big disk (peak RSS must not grow with size) and on a thin disk with --thin
// of it allocated (time against the full one), and the qcow2 route (qemu-img reading the export over
// v2o's NBD bridge, one local copy). `npm run build` runs first: (c) runs the compiled CLI code.
// (c) hashes what v2o hashes by default (the plan's uploadHashes); --hashes changes it. --repeat N
// runs a, b, c, c′ N times in turn and reports each one's median, as the machine's load moves.
// Disks are streamOptimized VMDKs of random data written by bench/stream-optimized-writer.ts,
// attached to throwaway VMs on the vSphere lab.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { formatBytes } from '../src/format-bytes.js';
import { DEFAULT_UPLOAD_HASHES } from '../src/migration/plan-file.js';
import { type Cloud, openCloud } from '../src/openstack/cloud.js';
import { type CloudConfig, loadCloudConfig } from '../src/openstack/config.js';
import { createImage, deleteImage, getImage } from '../src/openstack/image/images/requests.js';
import type { HashName } from '../src/transfer/types.js';
import { vsphereConfigFromEnv } from '../src/vsphere/config.js';
import { connect, type VSphereClient } from '../src/vsphere/objects/client.js';
import { exportVm, type NfcDeviceUrl, type NfcLease } from '../src/vsphere/objects/nfc-lease.js';
import type { MoRef } from '../src/vsphere/types.js';
import { writeStreamOptimizedVmdk } from './stream-optimized-writer.js';
import { startThrottleProxy, type ThrottleProxy } from './throttle-proxy.js';
import {
  createVm,
  destroyVm,
  type LabPlaces,
  labPlaces,
  toCreateVmBody,
  uploadToDatastore,
} from './transfer-lab.js';

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string', default: '4G' },
    big: { type: 'string', default: '16G' },
    rate: { type: 'string', default: '100M' },
    thin: { type: 'string', default: '0.1' },
    'no-convert': { type: 'boolean', default: false },
    'hash-worker': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    hashes: { type: 'string', default: DEFAULT_UPLOAD_HASHES.join(',') },
    repeat: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .slice(0, 12)
      .join('\n'),
  );
  process.exit(0);
}

/** 4G, 512M, 1T: binary units (disk sizes). */
function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  return Math.round(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}
/** 100M = 100 MB/s: decimal units (link rates). */
function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)/i.exec(s.trim());
  if (!m) throw new Error(`bad rate: ${s}`);
  return Number(m[1]) * 1000 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

const size = parseSize(flags.size!);
const big = parseSize(flags.big!);
const rate = parseRate(flags.rate!);
const thin = Number(flags.thin);
const hashes = flags.hashes!.split(',').filter(Boolean) as HashName[];
const repeat = Math.max(1, Number(flags.repeat));
const GiB = 1024 ** 3;
/** The run with the median time (the middle one; the slower middle of an even count). */
function median<T extends { s: number }>(runs: T[]): T {
  return [...runs].sort((x, y) => x.s - y.s)[Math.floor(runs.length / 2)]!;
}
const MB = 1e6;
const fmtRate = (bytes: number, s: number) => `${(bytes / MB / s).toFixed(0)} MB/s`;
/** Two decimals: the benchmark compares sizes like 4.00 and 4.03 GiB (the stream's overhead). */
const fmtSize = (b: number) => formatBytes(b, 2);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

function labEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  const file = join(process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
  }
  return out;
}

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env, maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** Arguments of bench/transfer-c.mjs. */
interface ChildArgs {
  vm: MoRef;
  sourcePort?: number;
  imageEndpoint?: string;
  hashes?: HashName[];
  format?: 'vmdk' | 'qcow2' | 'raw';
  workDir?: string;
  hashWorker?: boolean;
}

interface Disk {
  name: string;
  vm: MoRef;
  capacity: number;
  fileBytes: number;
  dataBytes: number;
  dsPath: string;
  localPath?: string;
}

interface Legs {
  /** The export URL as the client should reach it (direct or through the proxy). */
  src: (d: NfcDeviceUrl) => URL;
  cloud: Cloud;
  /** clouds.yaml for the openstack CLI (with image_endpoint_override when proxied). */
  osConfigFile: string;
  /** For (c) in its child process: the proxy port for the export URL and the Glance override. */
  sourcePort?: number;
  imageEndpoint?: string;
}

const env = labEnv();
const work = mkdtempSync(join(tmpdir(), 'v2o-bench-'));
const secrets = join(work, 'secrets');
mkdirSync(secrets, { mode: 0o700 });
const created: { images: string[]; vms: MoRef[]; files: string[] } = { images: [], vms: [], files: [] };

async function prepareDisk(
  vs: VSphereClient,
  p: LabPlaces,
  name: string,
  capacity: number,
  allocated: number,
) {
  const dsPath = `v2o-bench/${name}.vmdk`;
  const t0 = performance.now();
  let local: string;
  if (p.localDir) {
    mkdirSync(join(p.localDir, 'v2o-bench'), { recursive: true });
    if (!created.files.includes(join(p.localDir, 'v2o-bench')))
      created.files.push(join(p.localDir, 'v2o-bench'));
    local = join(p.localDir, dsPath);
  } else {
    local = join(work, `${name}.vmdk`);
  }
  const w = writeStreamOptimizedVmdk({
    path: local,
    capacityBytes: capacity,
    allocated,
    extentName: `${name}.vmdk`,
  });
  // vcsim wants a `-flat.vmdk` beside any disk it attaches (it never reads either).
  const flatPath = dsPath.replace(/\.vmdk$/, '-flat.vmdk');
  if (!p.localDir) {
    const place = { datacenter: p.datacenter, datastore: p.datastore };
    await uploadToDatastore(vs, { ...place, path: dsPath }, local);
    rmSync(local);
    writeFileSync(join(work, 'empty'), '');
    await uploadToDatastore(vs, { ...place, path: flatPath }, join(work, 'empty'));
  } else {
    writeFileSync(join(p.localDir, flatPath), '');
    created.files.push(join(p.localDir, flatPath), join(p.localDir, `v2o-bench-${name}`));
  }
  created.files.push(local);
  const vm = await createVm(vs, toCreateVmBody(p, `v2o-bench-${name}`, dsPath, capacity));
  created.vms.push(vm);
  console.error(
    `[bench] disk ${name}: ${fmtSize(capacity)} capacity, ${fmtSize(w.dataBytes)} data, ${fmtSize(w.fileBytes)} stream (${((performance.now() - t0) / 1000).toFixed(1)} s to make)`,
  );
  return {
    name,
    vm,
    capacity,
    fileBytes: w.fileBytes,
    dataBytes: w.dataBytes,
    dsPath,
    localPath: p.localDir ? local : undefined,
  } as Disk;
}

async function withLease<T>(
  vs: VSphereClient,
  disk: Disk,
  fn: (lease: NfcLease, d: NfcDeviceUrl) => Promise<T>,
) {
  const lease = await exportVm(vs, disk.vm);
  const d = lease.deviceUrls.find((u) => u.disk);
  if (!d) throw new Error('lease has no disk URL');
  const keepAlive = lease.startKeepAlive(() => 50);
  try {
    const out = await fn(lease, d);
    await lease.complete();
    return out;
  } catch (err) {
    await lease.abort(err as Error).catch(() => {});
    throw err;
  } finally {
    keepAlive.stop();
  }
}

async function newImage(cloud: Cloud, name: string) {
  const img = await createImage(cloud.image, { name, diskFormat: 'vmdk', tags: ['v2o-bench'] });
  created.images.push(img.id);
  return img.id;
}

async function dropImage(cloud: Cloud, id: string) {
  await deleteImage(cloud.image, id, { ignoreMissing: true });
  created.images = created.images.filter((x) => x !== id);
}

async function checkImage(cloud: Cloud, id: string, disk: Disk, what: string) {
  const img = await getImage(cloud.image, id);
  if (img.status !== 'active' || img.size !== disk.fileBytes) {
    throw new Error(
      `${what}: image ${id} is ${img.status} with ${img.size} bytes, expected ${disk.fileBytes}`,
    );
  }
}

/** (a) curl | curl. Headers go through 0600 files, never on a command line. */
async function runA(vs: VSphereClient, disk: Disk, legs: Legs) {
  return withLease(vs, disk, async (_lease, d) => {
    const id = await newImage(legs.cloud, 'v2o-bench-a');
    const tokenFile = join(secrets, 'token.h');
    const cookieFile = join(secrets, 'cookie.h');
    writeFileSync(tokenFile, `X-Auth-Token: ${await legs.cloud.identity.token()}\n`, { mode: 0o600 });
    writeFileSync(cookieFile, `Cookie: ${vs.transport.cookie}\n`, { mode: 0o600 });
    const put = `${legs.cloud.image.endpoint}/images/${id}/file`;
    const script =
      'set -o pipefail; curl -sS --fail --cacert "$CA" -H @"$CK" "$SRC" | ' +
      'curl -sS --fail -X PUT -H @"$TK" -H "Content-Type: application/octet-stream" -T - "$DST"';
    const t0 = performance.now();
    await sh('bash', ['-c', script], {
      ...process.env,
      CA: env.GOVC_TLS_CA_CERTS,
      CK: cookieFile,
      TK: tokenFile,
      SRC: legs.src(d).toString(),
      DST: put,
    });
    const s = (performance.now() - t0) / 1000;
    await checkImage(legs.cloud, id, disk, '(a)');
    await dropImage(legs.cloud, id);
    return { s, localBytes: 0 };
  });
}

/** (b) download to a file, then openstack image create --file. */
async function runB(vs: VSphereClient, disk: Disk, legs: Legs) {
  return withLease(vs, disk, async (_lease, d) => {
    const cookieFile = join(secrets, 'cookie.h');
    writeFileSync(cookieFile, `Cookie: ${vs.transport.cookie}\n`, { mode: 0o600 });
    const file = join(work, 'b.vmdk');
    const t0 = performance.now();
    await sh('curl', [
      '-sS',
      '--fail',
      '--cacert',
      env.GOVC_TLS_CA_CERTS!,
      '-H',
      `@${cookieFile}`,
      '-o',
      file,
      legs.src(d).toString(),
    ]);
    const t1 = performance.now();
    const id = (
      await sh(
        '/usr/bin/openstack',
        [
          'image',
          'create',
          '--disk-format',
          'vmdk',
          '--container-format',
          'bare',
          '--file',
          file,
          '--tag',
          'v2o-bench',
          '-f',
          'value',
          '-c',
          'id',
          'v2o-bench-b',
        ],
        { ...process.env, OS_CLIENT_CONFIG_FILE: legs.osConfigFile, OS_CLOUD: env.OS_CLOUD },
      )
    ).trim();
    const t2 = performance.now();
    created.images.push(id);
    const localBytes = statSync(file).size;
    rmSync(file);
    await checkImage(legs.cloud, id, disk, '(b)');
    await dropImage(legs.cloud, id);
    return { s: (t2 - t0) / 1000, down: (t1 - t0) / 1000, up: (t2 - t1) / 1000, localBytes };
  });
}

/** (c) v2o in its own process (bench/transfer-c.mjs), so the peak RSS is v2o's and not the benchmark's. */
async function runC(
  _vs: VSphereClient,
  disk: Disk,
  legs: Legs,
  hashSet: HashName[] = hashes,
  format: ChildArgs['format'] = 'vmdk',
) {
  const child: ChildArgs = {
    vm: disk.vm,
    sourcePort: legs.sourcePort,
    imageEndpoint: legs.imageEndpoint,
    hashes: hashSet,
    format,
    workDir: join(work, 'convert'),
    hashWorker: flags['hash-worker'] ? true : undefined,
  };
  const out = await sh(
    process.execPath,
    [join(import.meta.dirname, 'transfer-c.mjs'), JSON.stringify(child)],
    env,
  );
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
    s: number;
    /** v2o's CPU time (user + system) during the transfer. */
    cpu: number;
    rss: number;
    localBytes: number;
    reconnects: number;
    imageId: string;
    error?: string;
  };
  created.images.push(r.imageId);
  if (r.error) throw new Error(`(c) failed: ${r.error}`);
  if (format === 'vmdk') await checkImage(legs.cloud, r.imageId, disk, '(c)');
  else if ((await getImage(legs.cloud.image, r.imageId)).status !== 'active')
    throw new Error('(c) image not active');
  await dropImage(legs.cloud, r.imageId);
  return r;
}

function proxiedCloudsYaml(port: number): string {
  const doc = YAML.parse(readFileSync(env.OS_CLIENT_CONFIG_FILE!, 'utf8'));
  doc.clouds[env.OS_CLOUD!].image_endpoint_override = `http://127.0.0.1:${port}/`;
  const p = join(secrets, 'clouds.yaml');
  writeFileSync(p, YAML.stringify(doc), { mode: 0o600 });
  return p;
}

async function main() {
  const rows: string[] = [];
  const notes: string[] = [];
  const vs = await connect(await vsphereConfigFromEnv(env));
  const config: CloudConfig = loadCloudConfig({ env });
  const cloud = await openCloud(config, { services: ['image'] });
  const proxies: ThrottleProxy[] = [];
  try {
    const places = await labPlaces(vs);
    notes.push(`machine: ${(await sh('nproc', [])).trim()} cores, load ${load()} at start`);
    const full = await prepareDisk(vs, places, `full-${flags.size}`, size, 1);
    const direct: Legs = { src: (d) => d.url, cloud, osConfigFile: env.OS_CLIENT_CONFIG_FILE! };

    const setting = async (label: string, legs: Legs, ideal?: number) => {
      const runs = {
        a: [] as Awaited<ReturnType<typeof runA>>[],
        b: [] as Awaited<ReturnType<typeof runB>>[],
      };
      const cs: Awaited<ReturnType<typeof runC>>[] = [];
      const c0s: Awaited<ReturnType<typeof runC>>[] = [];
      for (let i = 1; i <= repeat; i++) {
        const round = repeat > 1 ? ` round ${i}/${repeat}` : '';
        console.error(`[bench] ${label}${round}: (a) curl | curl ... load ${load()}`);
        runs.a.push(await runA(vs, full, legs));
        console.error(`[bench] ${label}${round}: (b) download + openstack image create ...`);
        runs.b.push(await runB(vs, full, legs));
        console.error(`[bench] ${label}${round}: (c) v2o, hashes ${hashes.join('+') || 'none'} ...`);
        cs.push(await runC(vs, full, legs));
        console.error(`[bench] ${label}${round}: (c') v2o without hashes ...`);
        c0s.push(await runC(vs, full, legs, []));
      }
      const [a, b, c, c0] = [median(runs.a), median(runs.b), median(cs), median(c0s)];
      const gain = ideal ?? (b.down + b.up) / Math.max(b.down, b.up);
      const bytes = full.fileBytes;
      const cpu = (r: { cpu: number }) => (r.cpu / (bytes / GiB)).toFixed(2);
      rows.push(
        `| ${label} | ${fmtSize(bytes)} | ${fmtRate(bytes, a.s)} (${a.s.toFixed(1)} s) | ${fmtRate(bytes, b.s)} (${b.s.toFixed(1)} s = ${b.down.toFixed(1)} down + ${b.up.toFixed(1)} up) | ${fmtRate(bytes, c.s)} (${c.s.toFixed(1)} s) | ${fmtRate(bytes, c0.s)} | ${(a.s / c.s).toFixed(2)} | ${(b.s / c.s).toFixed(2)} | ${gain.toFixed(2)} | ${(b.s / c.s / gain).toFixed(2)} | ${(b.s / a.s / gain).toFixed(2)} | ${cpu(c)} / ${cpu(c0)} | ${(Math.max(...cs.map((x) => x.rss)) / 2 ** 20).toFixed(0)} MiB | 0 / ${fmtSize(b.localBytes)} / ${c.localBytes} |`,
      );
      console.error(`[bench] ${label}: done, load ${load()}`);
      return c;
    };

    const cDirect = await setting('direct (loopback)', direct);
    if (rate > 0) {
      const vurl = new URL(env.GOVC_URL!.includes('://') ? env.GOVC_URL! : `https://${env.GOVC_URL}`);
      const gurl = new URL(cloud.image.endpoint);
      const vp = await startThrottleProxy({ host: vurl.hostname, port: Number(vurl.port || 443) }, rate);
      const gp = await startThrottleProxy({ host: gurl.hostname, port: Number(gurl.port || 80) }, rate);
      proxies.push(vp, gp);
      const pcloud = await openCloud(
        {
          ...config,
          endpointOverrides: { ...config.endpointOverrides, image: `http://127.0.0.1:${gp.port}` },
        },
        { services: ['image'] },
      );
      const legs: Legs = {
        src: (d) => {
          const u = new URL(d.url);
          if (u.host === vurl.host) u.port = String(vp.port);
          else throw new Error(`export URL ${u.host} is not the vCenter ${vurl.host}`);
          return u;
        },
        cloud: pcloud,
        osConfigFile: proxiedCloudsYaml(gp.port),
        sourcePort: vp.port,
        imageEndpoint: `http://127.0.0.1:${gp.port}`,
      };
      await setting(`symmetric ${(rate / MB).toFixed(0)} MB/s each leg`, legs);
      await pcloud.close();
    }

    const extra: string[] = [];
    if (!flags['no-convert']) {
      console.error('[bench] convert: (c) v2o to qcow2 through the NBD bridge ...');
      const q = await runC(vs, full, direct, hashes, 'qcow2');
      extra.push(
        `| full ${fmtSize(size)} → qcow2 (qemu-img over the NBD bridge, one local copy) | ${fmtSize(full.fileBytes)} | ${q.s.toFixed(1)} s (${fmtRate(full.fileBytes, q.s)}) | ${(q.s / cDirect.s).toFixed(2)} × the vmdk stream; local disk ${fmtSize(q.localBytes)} | ${(q.rss / 2 ** 20).toFixed(0)} MiB |`,
      );
    }
    if (thin > 0) {
      const t = await prepareDisk(vs, places, `thin-${flags.size}`, size, thin);
      console.error('[bench] thin: (c) v2o ...');
      const c = await runC(vs, t, direct);
      extra.push(
        `| thin ${(thin * 100).toFixed(0)}% allocated, ${fmtSize(size)} | ${fmtSize(t.fileBytes)} | ${c.s.toFixed(1)} s | ${(c.s / cDirect.s).toFixed(3)} × the full disk's ${cDirect.s.toFixed(1)} s | ${(c.rss / 2 ** 20).toFixed(0)} MiB |`,
      );
      if (!flags.keep) rmSync(t.localPath ?? '', { force: true });
    }
    if (big > 0) {
      const g = await prepareDisk(vs, places, `full-${flags.big}`, big, 1);
      console.error(`[bench] big: (c) v2o ... load ${load()}`);
      const c = await runC(vs, g, direct);
      extra.push(
        `| full ${fmtSize(big)} | ${fmtSize(g.fileBytes)} | ${c.s.toFixed(1)} s (${fmtRate(g.fileBytes, c.s)}) | — | ${(c.rss / 2 ** 20).toFixed(0)} MiB |`,
      );
      if (!flags.keep) rmSync(g.localPath ?? '', { force: true });
    }
    notes.push(`load ${load()} at the end`);

    console.log(
      `\n| setting | stream | (a) curl→curl | (b) download, then openstack image create | (c) v2o, hashes ${hashes.join('+') || 'none'} | (c′) v2o, no hashes | c/a | b/c | ideal gain | (b/c)/ideal | (b/a)/ideal | v2o CPU s/GiB c / c′ | v2o peak RSS | local disk a / b / c |`,
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (extra.length) {
      console.log('\n| v2o alone | stream | time | vs full | peak RSS |');
      console.log('|---|---|---|---|---|');
      for (const r of extra) console.log(r);
    }
    console.log(
      `\n${notes.join('; ')}. Throughput = bytes of the exported stream / wall time; ideal gain = (down + up) / max(down, up) from (b)'s legs; (b/a)/ideal is how near the raw curl pipe itself comes to the ideal.${repeat > 1 ? ` Each figure is the median of ${repeat} rounds.` : ''}`,
    );
  } finally {
    for (const p of proxies) await p.close();
    for (const id of created.images)
      await deleteImage(cloud.image, id, { ignoreMissing: true }).catch(() => {});
    if (!flags.keep) {
      for (const vm of created.vms)
        await destroyVm(vs, vm).catch((e) => console.error(`[bench] destroy: ${e.message}`));
      for (const f of created.files) rmSync(f, { force: true, recursive: true });
    }
    rmSync(work, { recursive: true, force: true });
    await cloud.close();
    await vs.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
