// The ExportVm lease flow against the lab: disks streamed with sha256 equal to the source,
// Range resume, keep-alive progress, Complete and Abort, and a 1 GiB disk with flat memory.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFault } from '../../../src/vsphere/errors.js';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { datastoreUpload } from '../../../src/vsphere/objects/datastore.js';
import { exportVm } from '../../../src/vsphere/objects/nfc-lease.js';
import { retrieveOne } from '../../../src/vsphere/objects/property.js';
import { findVmByName, powerOff } from '../../../src/vsphere/objects/vm.js';
import { createTestVm, destroyVm, env, labClient, manifest, resetVm } from './lab.js';

let client: VSphereClient;
const touched = new Set<string>();

beforeAll(async () => {
  client = await labClient();
});
afterAll(async () => {
  for (const n of touched) await resetVm(n).catch(() => undefined);
  await client?.close();
});

async function hashStream(
  s: Readable,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ sha256: string; bytes: number; buf?: Buffer }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of s) {
    const chunk = c as Buffer;
    const take = Math.min(chunk.length, limit - bytes);
    h.update(take === chunk.length ? chunk : chunk.subarray(0, take));
    bytes += take;
    if (bytes >= limit) {
      s.destroy();
      break;
    }
  }
  return { sha256: h.digest('hex'), bytes };
}

async function offVm(name: string) {
  touched.add(name);
  await resetVm(name);
  const vm = await findVmByName(client, name);
  await powerOff(client, vm);
  return vm;
}

describe('export lease', () => {
  it('refuses a powered-on VM with InvalidPowerState', async () => {
    const name = env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01';
    touched.add(name);
    await resetVm(name);
    const err = await exportVm(client, await findVmByName(client, name)).catch((e: unknown) => e);
    expect(isFault(err, 'InvalidPowerState')).toBe(true);
  });

  it('streams every disk of a 3-disk VM with sha256 equal to the source, then completes', async () => {
    const name = env.V2O_LAB_VSPHERE_VM_EFI ?? 'win2022-db01';
    const vm = await offVm(name);
    const want = manifest().vms.find((v) => v.name === name)!;
    const lease = await exportVm(client, vm);
    expect(lease.deviceUrls.filter((d) => d.disk)).toHaveLength(want.disks.length);
    for (const d of lease.deviceUrls) {
      expect(d.url.host).toBe(client.host); // `*` replaced
      const unit = Number(/:(\d+)$/.exec(d.key)?.[1]);
      const disk = want.disks.find((x) => x.unit === unit)!;
      const got = await hashStream(await lease.open(d));
      expect(got.bytes).toBe(disk.export.size);
      expect(got.sha256).toBe(disk.export.sha256);
    }
    await lease.complete();
    const state = await retrieveOne(client, lease.ref, ['state']);
    expect(state.props.state).toBe('done');
  });

  it('resumes a disk with Range from an offset', async () => {
    const name = env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01';
    const vm = await offVm(name);
    const disk = manifest().vms.find((v) => v.name === name)!.disks[0]!;
    const lease = await exportVm(client, vm);
    const d = lease.deviceUrls[0]!;
    const half = Math.floor(disk.export.size / 2);
    const h = createHash('sha256');
    let got = 0;
    const first = await lease.open(d);
    for await (const c of first) {
      const b = c as Buffer;
      const take = Math.min(b.length, half - got);
      h.update(b.subarray(0, take));
      got += take;
      if (got >= half) {
        first.destroy();
        break;
      }
    }
    const rest = await lease.open(d, { offset: half });
    for await (const c of rest) {
      h.update(c as Buffer);
      got += (c as Buffer).length;
    }
    expect(got).toBe(disk.export.size);
    expect(h.digest('hex')).toBe(disk.export.sha256);
    await lease.complete();
  });

  it('keeps the lease alive with HttpNfcLeaseProgress and aborts it', async () => {
    const name = env.V2O_LAB_VSPHERE_VM ?? 'win2019-app01';
    const vm = await offVm(name);
    const lease = await exportVm(client, vm);
    expect(lease.leaseTimeout).toBeGreaterThan(0);
    const keepAlive = lease.startKeepAlive(() => 42, { intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 450));
    keepAlive.stop();
    const p = await retrieveOne(client, lease.ref, ['transferProgress', 'state']);
    expect(Number(p.props.transferProgress)).toBe(42);
    expect(p.props.state).toBe('ready');
    await lease.abort('integration test abort');
    const after = await retrieveOne(client, lease.ref, ['state']);
    expect(after.props.state).toBe('error');
    await expect(lease.open(lease.deviceUrls[0]!)).rejects.toThrow(/HTTP 4\d\d/);
  });

  it('streams a 1 GiB disk through the lease with sha256 equal to the source and flat memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2o-1g-'));
    const name = `v2o-it-1g-${process.pid}`;
    const dsDir = `${name}-disk`;
    let vm: Awaited<ReturnType<typeof createTestVm>> | undefined;
    try {
      // 1 GiB of incompressible data as a monolithicSparse VMDK (qemu-img): the lab serves it as stored.
      const raw = join(dir, 'disk.raw');
      execFileSync('sh', ['-c', `head -c 1073741824 /dev/urandom > '${raw}'`]);
      const vmdk = join(dir, 'disk.vmdk');
      execFileSync('qemu-img', [
        'convert',
        '-q',
        '-f',
        'raw',
        '-O',
        'vmdk',
        '-o',
        'subformat=monolithicSparse',
        raw,
        vmdk,
      ]);
      rmSync(raw);
      const size = statSync(vmdk).size;
      expect(size).toBeGreaterThan(1024 ** 3);
      const source = await hashStream(createReadStream(vmdk));

      const ds = { datacenter: env.GOVC_DATACENTER ?? 'DC0', datastore: env.GOVC_DATASTORE ?? 'LocalDS_0' };
      const t0 = Date.now();
      await datastoreUpload(client, { ...ds, path: `${dsDir}/disk.vmdk` }, createReadStream(vmdk), size);
      const uploadMs = Date.now() - t0;
      // vcsim checks that a VMDK's -flat neighbour exists (it never reads either).
      await datastoreUpload(client, { ...ds, path: `${dsDir}/disk-flat.vmdk` }, Readable.from([]), 0);
      vm = await createTestVm(client, name, { diskPath: `${dsDir}/disk.vmdk`, capacityBytes: 1024 ** 3 });

      const lease = await exportVm(client, vm);
      expect(lease.deviceUrls).toHaveLength(1);
      let done = 0;
      const keepAlive = lease.startKeepAlive(() => Math.floor((done / size) * 100), { intervalMs: 1000 });
      global.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const t1 = Date.now();
      const h = createHash('sha256');
      try {
        for await (const c of await lease.open(lease.deviceUrls[0]!)) {
          h.update(c as Buffer);
          done += (c as Buffer).length;
        }
      } finally {
        clearInterval(sampler);
        keepAlive.stop();
      }
      const streamMs = Date.now() - t1;
      await lease.complete();
      const growthMiB = (peak - base) / 1024 ** 2;
      console.log(
        `1 GiB export: ${size} bytes in ${streamMs} ms (${(size / 1024 ** 2 / (streamMs / 1000)).toFixed(0)} MiB/s), RSS growth ${growthMiB.toFixed(1)} MiB; upload ${uploadMs} ms`,
      );
      expect(done).toBe(size);
      expect(h.digest('hex')).toBe(source.sha256);
      expect(growthMiB).toBeLessThan(64);
    } finally {
      if (vm) await destroyVm(client, vm).catch(() => undefined);
      if (env.V2O_LAB_VSPHERE_DATASTORE_DIR)
        rmSync(join(env.V2O_LAB_VSPHERE_DATASTORE_DIR, dsDir), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
