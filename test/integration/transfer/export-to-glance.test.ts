// The real path of a migration's disk copy: ExportVm on the vSphere lab → HttpNfcLease device URL →
// transferDisk → Glance. A throwaway VM gets a copy of one of the lab's streamOptimized disks (the
// seeded VMs are powered on and shared with other tests), so the bytes and their sha256 are known.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVm,
  destroyVm,
  type LabPlaces,
  labPlaces,
  toCreateVmBody,
} from '../../../bench/transfer-lab.js';
import { OpenStackTarget } from '../../../src/migration/target-openstack.js';
import { type Cloud, openCloud } from '../../../src/openstack/cloud.js';
import { loadCloudConfig } from '../../../src/openstack/config.js';
import { createImage, deleteImage, getImage } from '../../../src/openstack/image/images/requests.js';
import { glanceSink } from '../../../src/transfer/sinks/glance-sink.js';
import { datastoreSource } from '../../../src/transfer/sources/datastore-source.js';
import { leaseSource } from '../../../src/transfer/sources/lease-source.js';
import { transferDisk } from '../../../src/transfer/transfer-disk.js';
import type { ByteSource, DiskSink } from '../../../src/transfer/types.js';
import { vsphereConfigFromEnv } from '../../../src/vsphere/config.js';
import { connect, type VSphereClient } from '../../../src/vsphere/objects/client.js';
import { datastoreUpload } from '../../../src/vsphere/objects/datastore.js';
import { exportVm } from '../../../src/vsphere/objects/nfc-lease.js';
import type { MoRef } from '../../../src/vsphere/types.js';
import { labProcessEnv } from '../../helpers/lab-env.js';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
const env = labProcessEnv();
let vs: VSphereClient;
let cloud: Cloud;
let places: LabPlaces;
let vm: MoRef | undefined;
let disk: Buffer;
let diskSha256: string;
const images: string[] = [];
const dir = `v2o-it-transfer-${process.pid}`;

beforeAll(async () => {
  vs = await connect(await vsphereConfigFromEnv(env));
  cloud = await openCloud(loadCloudConfig({ env }), { services: ['image'] });
  places = await labPlaces(vs);
  // One of the lab's streamOptimized disks, with the sha256 the lab recorded for it.
  const manifest = JSON.parse(readFileSync(env.V2O_LAB_VSPHERE_DISKS!, 'utf8'));
  const d = manifest.vms
    .flatMap((v: { disks: { format: string; export: { localPath: string; sha256: string } }[] }) => v.disks)
    .find((x: { format: string }) => x.format === 'streamOptimized');
  disk = readFileSync(d.export.localPath);
  diskSha256 = d.export.sha256;
  expect(hex('sha256', disk)).toBe(diskSha256);
  const place = { datacenter: places.datacenter, datastore: places.datastore };
  await datastoreUpload(vs, { ...place, path: `${dir}/disk.vmdk` }, Readable.from([disk]), disk.length);
  await datastoreUpload(vs, { ...place, path: `${dir}/disk-flat.vmdk` }, Readable.from([Buffer.alloc(0)]), 0);
  vm = await createVm(vs, toCreateVmBody(places, dir, `${dir}/disk.vmdk`, 256 * 1024 * 1024));
});

afterAll(async () => {
  for (const id of images) await deleteImage(cloud.image, id, { ignoreMissing: true });
  if (vm) await destroyVm(vs, vm);
  await cloud?.close();
  await vs?.close();
});

/** `src` with its first connection passed through `first`; the reopens after it are left alone. */
function firstConnection(
  src: ByteSource,
  first: (res: Readable) => Readable,
): ByteSource & { opens: number[] } {
  const opens: number[] = [];
  return {
    get size() {
      return src.size;
    },
    get supportsRange() {
      return src.supportsRange;
    },
    description: src.description,
    opens,
    async open(offset, signal) {
      opens.push(offset);
      const res = await src.open(offset, signal);
      return opens.length > 1 ? res : first(res);
    },
  };
}

/** Cuts the first connection after `after` bytes by destroying its socket: a real drop, healed by Range. */
function dropOnce(src: ByteSource, after: number) {
  return firstConnection(src, (res) => {
    let n = 0;
    const cut = new Transform({
      transform(c: Buffer, _e, cb) {
        n += c.length;
        if (n > after) {
          (res as IncomingMessage).socket?.destroy();
          cb(new Error('connection reset by the test'));
          return;
        }
        cb(null, c);
      },
    });
    res.on('error', (e) => cut.destroy(e));
    return res.pipe(cut);
  });
}

/** The first connection sends `after` bytes, then nothing, its socket left open: a stall, not a drop. */
function stallOnce(src: ByteSource, after: number) {
  return firstConnection(src, (res) => {
    const out = new PassThrough();
    let sent = 0;
    res.on('data', (c: Buffer) => {
      if (sent >= after) return;
      const part = c.subarray(0, after - sent);
      sent += part.length;
      if (!out.write(part)) {
        res.pause();
        out.once('drain', () => sent < after && res.resume());
      }
      if (sent >= after) res.pause();
    });
    out.on('close', () => res.destroy());
    return out;
  });
}

/** A sink that keeps what it got. */
function collect(): { sink: DiskSink; body: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: {
      description: 'memory',
      async write(stream) {
        for await (const c of stream) parts.push(c as Buffer);
        return {};
      },
    },
    body: () => Buffer.concat(parts),
  };
}

/** An export lease on the test VM, its disk's device URL, and a new vmdk image (deleted in afterAll). */
async function exportInto(imageName: string) {
  const lease = await exportVm(vs, vm!);
  const device = lease.deviceUrls.find((d) => d.disk)!;
  const img = await createImage(cloud.image, {
    name: imageName,
    diskFormat: 'vmdk',
    tags: ['v2o-test-transfer'],
  });
  images.push(img.id);
  return { lease, device, img };
}

async function exportAndUpload(wrap: (s: ByteSource) => ByteSource) {
  const { lease, device, img } = await exportInto('v2o-it-transfer');
  let percent = 0;
  const keepAlive = lease.startKeepAlive(() => percent, { intervalMs: 200 });
  try {
    const r = await transferDisk({
      source: wrap(leaseSource(lease, device)),
      sink: glanceSink(cloud.image, img.id),
      format: 'vmdk',
      hashes: ['md5'],
      onBytes: (done, total) => {
        percent = total ? Math.floor((done / total) * 100) : 0;
      },
      signal: AbortSignal.timeout(120_000),
    });
    await lease.complete();
    return { r, image: await getImage(cloud.image, img.id) };
  } catch (err) {
    await lease.abort(err as Error);
    throw err;
  } finally {
    keepAlive.stop();
  }
}

describe('export → Glance streaming', () => {
  it('streams a lab disk from the export lease into Glance; md5 (ours) and the hashes Glance stored match the disk', async () => {
    const { r, image } = await exportAndUpload((s) => s);
    expect(r.route).toBe('stream');
    expect(r.inspection.subformat).toBe('streamOptimized');
    // md5 only (the plan's default uploadHashes): it is what Glance's checksum is compared with.
    expect(r.hashes).toEqual({ md5: hex('md5', disk) });
    expect(image.status).toBe('active');
    expect(image.size).toBe(disk.length);
    expect(image.checksum).toBe(hex('md5', disk));
    expect(image.osHashValue).toBe(hex('sha512', disk));
  });

  it('reads the same disk through the datastore (the alternative to the lease), healing a drop', async () => {
    const src = await datastoreSource(vs, {
      datacenter: places.datacenter,
      datastore: places.datastore,
      path: `${dir}/disk.vmdk`,
    });
    expect(src.size).toBe(disk.length);
    const dropped = dropOnce(src, 1_000_000);
    const { sink, body } = collect();
    const r = await transferDisk({
      source: dropped,
      sink,
      format: 'vmdk',
      hashes: ['md5'],
      signal: AbortSignal.timeout(60_000),
    });
    expect(r.reconnects).toBe(1);
    expect(dropped.opens[1]).toBeGreaterThan(0);
    expect(hex('sha256', body())).toBe(diskSha256);
  });

  it('heals a connection dropped mid-transfer with a Range request', async () => {
    let wrapped: ReturnType<typeof dropOnce> | undefined;
    const { r, image } = await exportAndUpload((s) => {
      wrapped = dropOnce(s, Math.floor(disk.length / 2));
      return wrapped;
    });
    expect(r.reconnects).toBe(1);
    expect(wrapped!.opens[0]).toBe(0);
    expect(wrapped!.opens[1]).toBeGreaterThan(0);
    expect(wrapped!.opens[1]).toBeLessThanOrEqual(Math.floor(disk.length / 2) + 256 * 1024);
    expect(r.hashes.md5).toBe(hex('md5', disk));
    expect(image.osHashValue).toBe(hex('sha512', disk));
  });

  it('the migration’s disk transfer reopens a stalled export after its stall limit, where it stopped', async () => {
    const { lease, device, img } = await exportInto('v2o-it-transfer-stall');
    const half = Math.floor(disk.length / 2);
    const stalled = Object.assign(stallOnce(leaseSource(lease, device), half), { key: 2000 });
    const logged: { type?: string; cause?: string; offset?: number }[] = [];
    const log = pino(
      new Writable({
        write(line, _e, cb) {
          logged.push(JSON.parse(String(line)));
          cb();
        },
      }),
    );
    const started = Date.now();
    try {
      const r = await new OpenStackTarget(cloud, log).uploadDisk({
        source: stalled,
        imageId: img.id,
        format: 'vmdk',
        stagingDir: tmpdir(),
        checkpoint: () => {},
        lastCheckpoint: undefined,
        onProgress: () => {},
        hashes: ['md5'],
        stallTimeoutMs: 1_500, // the plan's transferStallSeconds, in ms
        signal: AbortSignal.timeout(120_000),
      });
      await lease.complete();
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1_500);
      expect(took).toBeLessThan(30_000); // not the 60 s default
      expect(stalled.opens).toEqual([0, half]);
      expect(r.checksum).toBe(hex('md5', disk));
      expect(r.hashes.md5).toBe(hex('md5', disk));
      const reconnect = logged.find((l) => l.type === 'transfer.reconnect');
      expect(reconnect?.offset).toBe(half);
      expect(reconnect?.cause).toMatch(/no progress on the source for \d+ s at byte \d+/);
    } catch (err) {
      await lease.abort(err as Error);
      throw err;
    }
  });
});
