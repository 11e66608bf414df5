// Power operations, ShutdownGuest, CD-ROM changes and datastore HTTP against the lab.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFault, isHttpStatus } from '../../../src/vsphere/errors.js';
import { attachIso, restoreCdrom } from '../../../src/vsphere/objects/cdrom.js';
import type { VSphereClient } from '../../../src/vsphere/objects/client.js';
import { datastoreDownload, datastoreStat, datastoreUpload } from '../../../src/vsphere/objects/datastore.js';
import {
  findVmByName,
  getPowerState,
  getVm,
  powerOff,
  powerOn,
  shutdownGuest,
} from '../../../src/vsphere/objects/vm.js';
import type { MoRef } from '../../../src/vsphere/types.js';
import { createTestVm, destroyVm, env, labClient, resetVm } from './lab.js';

const VM_NAME = env.V2O_LAB_VSPHERE_VM_WIN11 ?? 'win11-desk01';
let client: VSphereClient;
let vm: MoRef;

beforeAll(async () => {
  client = await labClient();
  await resetVm(VM_NAME);
  vm = await findVmByName(client, VM_NAME);
});
afterAll(async () => {
  await resetVm(VM_NAME).catch(() => undefined);
  await client?.close();
});

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('power', () => {
  it('powers off and on through tasks; a second power-off is InvalidPowerState', async () => {
    expect(await getPowerState(client, vm)).toBe('poweredOn');
    await powerOff(client, vm);
    expect(await getPowerState(client, vm)).toBe('poweredOff');
    const err = await powerOff(client, vm).catch((e: unknown) => e);
    expect(isFault(err, 'InvalidPowerState')).toBe(true);
    await powerOn(client, vm);
    expect(await getPowerState(client, vm)).toBe('poweredOn');
  });

  it('shuts the guest down and waits for poweredOff', async () => {
    await resetVm(VM_NAME);
    await shutdownGuest(client, vm, { timeoutMs: 60_000 });
    expect(await getPowerState(client, vm)).toBe('poweredOff');
    await shutdownGuest(client, vm, { timeoutMs: 5_000 }); // already off: returns at once
    await resetVm(VM_NAME);
  });
});

describe('CD-ROM', () => {
  it('mounts an ISO in the existing drive and restores the previous backing', async () => {
    const before = (await getVm(client, vm)).cdroms;
    expect(before).toHaveLength(1);
    const iso = '[LocalDS_0] v2o iso/virtio-win – test.iso';
    const prev = await attachIso(client, vm, iso);
    expect(prev.existed).toBe(true);
    const during = (await getVm(client, vm)).cdroms;
    expect(during).toHaveLength(1);
    expect(during[0]!.backing).toEqual({ kind: 'iso', fileName: iso });
    expect(during[0]!.startConnected).toBe(true);
    await restoreCdrom(client, vm, prev);
    const after = (await getVm(client, vm)).cdroms;
    expect(after.map((c) => [c.key, c.backing, c.startConnected])).toEqual(
      before.map((c) => [c.key, c.backing, c.startConnected]),
    );
  });

  it('adds a drive when the VM has none, and removes it again', async () => {
    const name = `v2o-it-cdrom-${process.pid}`;
    const tvm = await createTestVm(client, name);
    try {
      expect((await getVm(client, tvm)).cdroms).toHaveLength(0);
      const prev = await attachIso(client, tvm, '[LocalDS_0] iso/virtio-win.iso');
      expect(prev.existed).toBe(false);
      const cds = (await getVm(client, tvm)).cdroms;
      expect(cds).toHaveLength(1);
      expect(cds[0]!.backing).toEqual({ kind: 'iso', fileName: '[LocalDS_0] iso/virtio-win.iso' });
      await restoreCdrom(client, tvm, prev);
      expect((await getVm(client, tvm)).cdroms).toHaveLength(0);
    } finally {
      await destroyVm(client, tvm);
    }
  });
});

describe('datastore HTTP', () => {
  const file = {
    datacenter: env.GOVC_DATACENTER ?? 'DC0',
    datastore: env.GOVC_DATASTORE ?? 'LocalDS_0',
    path: `v2o-it ${process.pid}/dir with space/fïle – 1.bin`,
  };

  it('uploads a stream with progress, stats it, and reads it back whole and by range', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const progress: number[] = [];
    await datastoreUpload(
      client,
      file,
      Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
      data.length,
      {
        onProgress: (b) => progress.push(b),
      },
    );
    expect(progress.at(-1)).toBe(data.length);
    expect(await datastoreStat(client, file)).toEqual({ exists: true, size: data.length });
    const whole = await readAll(await datastoreDownload(client, file));
    expect(createHash('sha256').update(whole).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    const r = await datastoreDownload(client, file, { range: { start: 1000, end: 1999 } });
    expect(r.totalSize).toBe(data.length);
    expect((await readAll(r)).equals(data.subarray(1000, 2000))).toBe(true);
    const tail = await readAll(await datastoreDownload(client, file, { range: { start: data.length - 10 } }));
    expect(tail.equals(data.subarray(data.length - 10))).toBe(true);
  });

  it('reports a missing file: stat says so, download is HTTP 404', async () => {
    const missing = { ...file, path: `v2o-it ${process.pid}/nope.bin` };
    expect(await datastoreStat(client, missing)).toEqual({ exists: false });
    const err = await datastoreDownload(client, missing).catch((e: unknown) => e);
    expect(isHttpStatus(err, 404)).toBe(true);
  });
});
