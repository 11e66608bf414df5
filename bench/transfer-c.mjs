// (c) of the transfer benchmark in its own process, so its peak RSS is v2o's alone: connect to both
// labs, ExportVm, transferDisk from the lease into a fresh Glance image, complete the lease.
// It runs the compiled code (dist/, `npm run build`), as the v2o CLI does: a TypeScript loader
// would add ~30 MiB of its own. Run by bench/transfer.ts:
//   node bench/transfer-c.mjs '{"vm":{"type":"VirtualMachine","value":"vm-1"},"sourcePort":0,...}'
// and prints one JSON line.
import { readFileSync } from 'node:fs';

const dist = new URL('../dist/src/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const { openCloud } = await load('openstack/cloud.js');
const { loadCloudConfig } = await load('openstack/config.js');
const { createImage } = await load('openstack/image/images/requests.js');
const { glanceSink } = await load('transfer/sinks/glance-sink.js');
const { leaseSource } = await load('transfer/sources/lease-source.js');
const { transferDisk } = await load('transfer/transfer-disk.js');
const { vsphereConfigFromEnv } = await load('vsphere/config.js');
const { connect } = await load('vsphere/objects/client.js');
const { exportVm } = await load('vsphere/objects/nfc-lease.js');

/** @type {{ vm: { type: string, value: string }, sourcePort?: number, imageEndpoint?: string, hashes: string[], format?: 'vmdk' | 'qcow2' | 'raw', workDir?: string }} */
const args = JSON.parse(process.argv[2]);
const vs = await connect(await vsphereConfigFromEnv(process.env));
const config = loadCloudConfig({ env: process.env });
if (args.imageEndpoint) config.endpointOverrides = { ...config.endpointOverrides, image: args.imageEndpoint };
const cloud = await openCloud(config, { services: ['image'] });
const format = args.format ?? 'vmdk';
const img = await createImage(cloud.image, { name: 'v2o-bench-c', diskFormat: format, tags: ['v2o-bench'] });
const lease = await exportVm(vs, args.vm);
const d = lease.deviceUrls.find((u) => u.disk);
const url = new URL(d.url);
if (args.sourcePort) url.port = String(args.sourcePort);
let percent = 0;
const keepAlive = lease.startKeepAlive(() => percent);
try {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await transferDisk({
    source: leaseSource(lease, { ...d, url }),
    sink: glanceSink(cloud.image, img.id),
    format,
    workDir: args.workDir,
    hashes: args.hashes,
    hashWorker: args.hashWorker,
    onBytes: (done, total) => {
      percent = total ? Math.floor((done / total) * 100) : 0;
    },
    signal: AbortSignal.timeout(3_600_000),
  });
  const s = (performance.now() - t0) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  await lease.complete();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  console.log(
    JSON.stringify({
      s,
      cpu: (cpu1.user + cpu1.system) / 1e6,
      rss: hwm ? Number(hwm[1]) * 1024 : process.memoryUsage().rss,
      localBytes: r.localBytes,
      reconnects: r.reconnects,
      imageId: img.id,
      bytes: r.bytes,
      hashes: r.hashes,
    }),
  );
} catch (err) {
  await lease.abort(err).catch(() => {});
  console.log(JSON.stringify({ error: err.message, imageId: img.id }));
  process.exitCode = 1;
} finally {
  keepAlive.stop();
  await cloud.close();
  await vs.close();
}
