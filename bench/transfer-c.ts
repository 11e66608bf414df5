// (c) of the transfer benchmark in its own process, so its peak RSS is v2o's alone: connect to both
// labs, ExportVm, transferDisk from the lease into a fresh Glance image, complete the lease.
// Run by bench/transfer.ts: tsx bench/transfer-c.ts '<json args>'; prints one JSON line.
import { readFileSync } from 'node:fs';
import { openCloud } from '../src/openstack/cloud.js';
import { loadCloudConfig } from '../src/openstack/config.js';
import { createImage } from '../src/openstack/image/images/requests.js';
import { glanceSink } from '../src/transfer/sinks/glance-sink.js';
import { leaseSource } from '../src/transfer/sources/lease-source.js';
import { transferDisk } from '../src/transfer/transfer-disk.js';
import type { HashName } from '../src/transfer/types.js';
import { vsphereConfigFromEnv } from '../src/vsphere/config.js';
import { connect } from '../src/vsphere/objects/client.js';
import { exportVm } from '../src/vsphere/objects/nfc-lease.js';
import type { MoRef } from '../src/vsphere/types.js';

export interface ChildArgs {
  vm: MoRef;
  /** Reach the export URL through this port on the same host (the throttling proxy). */
  sourcePort?: number;
  /** Glance endpoint override (the throttling proxy). */
  imageEndpoint?: string;
  hashes?: HashName[];
}

const args = JSON.parse(process.argv[2]!) as ChildArgs;
const vs = await connect(await vsphereConfigFromEnv(process.env));
const config = loadCloudConfig({ env: process.env });
if (args.imageEndpoint) config.endpointOverrides = { ...config.endpointOverrides, image: args.imageEndpoint };
const cloud = await openCloud(config, { services: ['image'] });
const img = await createImage(cloud.image, { name: 'v2o-bench-c', diskFormat: 'vmdk', tags: ['v2o-bench'] });
const lease = await exportVm(vs, args.vm);
const d = lease.deviceUrls.find((u) => u.disk)!;
const url = new URL(d.url);
if (args.sourcePort) url.port = String(args.sourcePort);
let percent = 0;
const stop = lease.startKeepAlive(() => percent);
try {
  const t0 = performance.now();
  const r = await transferDisk({
    source: leaseSource(lease, { ...d, url }),
    sink: glanceSink(cloud.image, img.id),
    format: 'vmdk',
    hashes: args.hashes,
    onBytes: (done, total) => {
      percent = total ? Math.floor((done / total) * 100) : 0;
    },
    signal: AbortSignal.timeout(3_600_000),
  });
  const s = (performance.now() - t0) / 1000;
  await lease.complete();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  console.log(
    JSON.stringify({
      s,
      rss: hwm ? Number(hwm[1]) * 1024 : process.memoryUsage().rss,
      localBytes: r.localBytes,
      reconnects: r.reconnects,
      imageId: img.id,
      bytes: r.bytes,
      hashes: r.hashes,
    }),
  );
} catch (err) {
  await lease.abort(err as Error).catch(() => {});
  console.log(JSON.stringify({ error: (err as Error).message, imageId: img.id }));
  process.exitCode = 1;
} finally {
  stop();
  await cloud.close();
  await vs.close();
}
