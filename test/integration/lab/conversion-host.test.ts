// The OpenStack lab's conversion host (issue 14, test/lab/openstack/README.md "The conversion
// host"): the metadata service names it; a second one (issue 15) sees only its own attachments; a volume attached to it appears as the device a KVM guest
// gets for a virtio-blk disk (by-id name from the volume id), writes through that device land in
// the volume (a server booted from it sees them); detaching removes it; the encrypted type's
// volumes read back as noise; an attached volume can be extended (volume API 3.42).
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEnv } from '../../helpers/lab-env.js';
import {
  type LabToken,
  labCloud,
  labEndpoint,
  labToken,
  resetOpenStackLab,
} from '../../helpers/openstack-lab.js';

const PREFIX = 'ch-test-';
const GiB = 1 << 30;
const NOVA = { 'OpenStack-API-Version': 'compute 2.79' };

let demo: LabToken;
let env: Record<string, string>;
let nova: string;
let cinder: string;

async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: T; text: string }> {
  const res = await fetch(url, {
    method,
    headers: {
      'X-Auth-Token': demo.token,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: T = undefined as T;
  try {
    json = (text ? JSON.parse(text) : undefined) as T;
  } catch {
    // not JSON (e.g. a plain-text error): the text says it
  }
  return { status: res.status, json, text };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface Volume {
  id: string;
  status: string;
  size: number;
  encrypted: boolean;
  attachments: { server_id: string }[];
}

async function getVolume(id: string): Promise<Volume> {
  return (await call<{ volume: Volume }>('GET', `${cinder}/volumes/${id}`)).json.volume;
}

async function waitVolume(id: string, ok: (v: Volume) => boolean, what: string): Promise<Volume> {
  return waitFor(`volume ${id} ${what}`, async () => {
    const v = await getVolume(id);
    if (v.status.startsWith('error')) throw new Error(`volume ${id} went to ${v.status}`);
    return ok(v) ? v : undefined;
  });
}

async function createVolume(name: string, sizeGiB: number, type?: string): Promise<Volume> {
  const r = await call<{ volume: Volume }>('POST', `${cinder}/volumes`, {
    volume: { name: `${PREFIX}${name}`, size: sizeGiB, ...(type ? { volume_type: type } : {}) },
  });
  expect(r.status, r.text).toBe(202);
  return waitVolume(r.json.volume.id, (v) => v.status === 'available', 'available');
}

/** The first conversion host, or the second (a fleet's other worker). */
const HOSTS = {
  1: { id: 'V2O_LAB_CONVERSION_HOST', dir: 'V2O_LAB_CONVERSION_DEVICE_DIR' },
  2: { id: 'V2O_LAB_CONVERSION_HOST_2', dir: 'V2O_LAB_CONVERSION_DEVICE_DIR_2' },
} as const;
type Host = keyof typeof HOSTS;

function devicePath(volumeId: string, h: Host = 1): string {
  // udev's /dev/disk/by-id/virtio-<serial>, the serial being the first 20 bytes of the volume id
  return join(env[HOSTS[h].dir]!, `virtio-${volumeId.slice(0, 20)}`);
}

async function attach(volumeId: string, h: Host = 1): Promise<string> {
  const host = env[HOSTS[h].id]!;
  const r = await call(
    'POST',
    `${nova}/servers/${host}/os-volume_attachments`,
    {
      volumeAttachment: { volumeId },
    },
    NOVA,
  );
  expect(r.status, r.text).toBe(200);
  await waitVolume(volumeId, (v) => v.status === 'in-use', 'in-use');
  const dev = devicePath(volumeId, h);
  // in-use comes after the driver's attach (Nova completes the attachment after it): no polling
  expect(existsSync(dev), `${dev} after attach`).toBe(true);
  return dev;
}

async function detach(volumeId: string, h: Host = 1): Promise<void> {
  const host = env[HOSTS[h].id]!;
  const r = await call(
    'DELETE',
    `${nova}/servers/${host}/os-volume_attachments/${volumeId}`,
    undefined,
    NOVA,
  );
  expect(r.status, r.text).toBe(202);
  await waitVolume(volumeId, (v) => v.status === 'available', 'available after detach');
}

async function bootFromVolume(
  name: string,
  volumeId: string,
): Promise<{ id: string; outcome: string; reason: string; disk: string }> {
  // an empty volume is not bootable until said so (Nova refuses it: "Block Device ... is not bootable")
  const b = await call('POST', `${cinder}/volumes/${volumeId}/action`, {
    'os-set_bootable': { bootable: true },
  });
  expect(b.status, b.text).toBe(200);
  const flavors = await call<{ flavors: { id: string; name: string }[] }>('GET', `${nova}/flavors`);
  const created = await call<{ server: { id: string } }>(
    'POST',
    `${nova}/servers`,
    {
      server: {
        name: `${PREFIX}${name}`,
        flavorRef: flavors.json.flavors.find((f) => f.name === 'win.bfv')!.id,
        networks: 'none',
        block_device_mapping_v2: [
          {
            boot_index: 0,
            uuid: volumeId,
            source_type: 'volume',
            destination_type: 'volume',
            delete_on_termination: false,
          },
        ],
      },
    },
    NOVA,
  );
  expect(created.status, created.text).toBe(202);
  const id = created.json.server.id;
  await waitFor(`server ${id} ACTIVE`, async () => {
    const s = await call<{ server: { status: string; fault?: unknown } }>(
      'GET',
      `${nova}/servers/${id}`,
      undefined,
      NOVA,
    );
    if (s.json.server.status === 'ERROR') throw new Error(`ERROR: ${JSON.stringify(s.json.server.fault)}`);
    return s.json.server.status === 'ACTIVE' ? true : undefined;
  });
  const entry = readFileSync(env.V2O_LAB_NOVA_BOOT_LOG!, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { instance: string; outcome: string; reason: string; disk: string })
    .findLast((e) => e.instance === id);
  expect(entry, `no boot decision for ${id}`).toBeDefined();
  return { id, ...entry! };
}

/** A lab boot record in sector 0 pointing at a guest state region (test/lab/vsphere/README.md). */
function labDisk(stateOffset: number, state: unknown): { lbr: Buffer; region: Buffer } {
  const body = Buffer.from(JSON.stringify(state));
  const region = Buffer.alloc(4096);
  region.write('V2OGUEST', 0, 'latin1');
  region.writeUInt32LE(1, 8);
  region.writeBigUInt64LE(BigInt(body.length), 16);
  createHash('sha256').update(body).digest().copy(region, 24);
  body.copy(region, 64);
  const lbr = Buffer.alloc(512);
  lbr.write('V2OLBR01', 0, 'latin1');
  lbr.writeBigUInt64LE(BigInt(stateOffset), 8);
  lbr.writeBigUInt64LE(BigInt(region.length), 16);
  lbr[510] = 0x55;
  lbr[511] = 0xaa;
  return { lbr, region };
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Noise, not zeros or a pattern: most byte values occur in 64 KiB of random data. */
function looksRandom(b: Buffer): boolean {
  const seen = new Set(b);
  return b.length >= 65536 && seen.size > 250 && !b.subarray(0, 4096).equals(Buffer.alloc(4096));
}

describe('the conversion host of the OpenStack lab', () => {
  beforeAll(async () => {
    env = labEnv();
    for (const k of [
      'V2O_LAB_CONVERSION_HOST',
      'V2O_LAB_CONVERSION_HOST_NAME',
      'V2O_LAB_METADATA_URL',
      'V2O_LAB_CONVERSION_DEVICE_DIR',
      'V2O_LAB_CONVERSION_HOST_2',
      'V2O_LAB_CONVERSION_HOST_2_NAME',
      'V2O_LAB_CONVERSION_DEVICE_DIR_2',
      'V2O_LAB_VOLUME_TYPE_ENCRYPTED',
      'V2O_LAB_NOVA_BOOT_LOG',
    ])
      expect(env[k], `${k} in .lab/lab.env`).toBeTruthy();
    demo = await labToken(labCloud());
    nova = labEndpoint(demo, 'compute');
    cinder = labEndpoint(demo, 'volumev3');
  });
  afterAll(() => {
    resetOpenStackLab({ prefix: PREFIX });
  });

  it('is an ACTIVE server of the demo project that the metadata service names', async () => {
    const s = await call<{
      server: {
        id: string;
        name: string;
        status: string;
        tenant_id: string;
        'OS-EXT-AZ:availability_zone': string;
      };
    }>('GET', `${nova}/servers/${env.V2O_LAB_CONVERSION_HOST}`, undefined, NOVA);
    expect(s.status).toBe(200);
    expect(s.json.server).toMatchObject({
      name: 'v2o-conversion-host',
      status: 'ACTIVE',
      tenant_id: demo.projectId,
    });
    expect(env.V2O_LAB_CONVERSION_HOST_NAME).toBe('v2o-conversion-host');

    const url = new URL(env.V2O_LAB_METADATA_URL!);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/openstack/latest/meta_data.json');
    // no token: the metadata service answers the machine that asks
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const md = (await res.json()) as Record<string, unknown>;
    expect(md).toMatchObject({
      uuid: env.V2O_LAB_CONVERSION_HOST,
      name: 'v2o-conversion-host',
      project_id: demo.projectId,
      availability_zone: s.json.server['OS-EXT-AZ:availability_zone'],
    });
    // Nova's metadata: hostname from the instance's hostname and [api] dhcp_domain
    expect(String(md.hostname)).toMatch(/^v2o-conversion-host(\.|$)/);
    const missing = await fetch(new URL('/openstack/latest/no_such_document.json', url));
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });

  it('has a second conversion host: a volume moved to it leaves the first one’s devices and appears in its own', async () => {
    const s2 = await call<{ server: { name: string; status: string; tenant_id: string } }>(
      'GET',
      `${nova}/servers/${env.V2O_LAB_CONVERSION_HOST_2}`,
      undefined,
      NOVA,
    );
    expect(s2.json.server).toMatchObject({
      name: env.V2O_LAB_CONVERSION_HOST_2_NAME,
      status: 'ACTIVE',
      tenant_id: demo.projectId,
    });
    expect(env.V2O_LAB_CONVERSION_HOST_2).not.toBe(env.V2O_LAB_CONVERSION_HOST);
    expect(env.V2O_LAB_CONVERSION_DEVICE_DIR_2).not.toBe(env.V2O_LAB_CONVERSION_DEVICE_DIR);
    expect(existsSync(env.V2O_LAB_CONVERSION_DEVICE_DIR_2!), 'its device directory').toBe(true);

    const vol = await createVolume('moved', 1);
    await attach(vol.id, 1);
    expect(existsSync(devicePath(vol.id, 2)), 'not on the other host').toBe(false);
    await detach(vol.id, 1);
    expect(existsSync(devicePath(vol.id, 1)), 'gone from the first host on detach').toBe(false);
    const dev = await attach(vol.id, 2);
    expect(realpathSync(dev).endsWith(`volume-${vol.id}`)).toBe(true);
    expect((await getVolume(vol.id)).attachments.map((a) => a.server_id)).toEqual([
      env.V2O_LAB_CONVERSION_HOST_2,
    ]);
    await detach(vol.id, 2);
    expect(existsSync(dev)).toBe(false);
  });

  it('shows an attached volume as its virtio by-id device, takes positional writes into the volume, and removes it on detach', async () => {
    const vol = await createVolume('data', 1);
    const dev = devicePath(vol.id);
    expect(existsSync(dev), 'no device before the attach').toBe(false);
    await attach(vol.id);
    expect(lstatSync(dev).isSymbolicLink()).toBe(true);
    const real = realpathSync(dev);
    expect(real.endsWith(`volume-${vol.id}`), real).toBe(true);
    expect(statSync(dev).size).toBe(GiB);
    const attached = await getVolume(vol.id);
    expect(attached.attachments.map((a) => a.server_id)).toEqual([env.V2O_LAB_CONVERSION_HOST]);
    const listed = await call<{ volumeAttachments: { volumeId: string }[] }>(
      'GET',
      `${nova}/servers/${env.V2O_LAB_CONVERSION_HOST}/os-volume_attachments`,
      undefined,
      NOVA,
    );
    expect(listed.json.volumeAttachments.map((a) => a.volumeId)).toContain(vol.id);

    // a lab Windows disk with no boot-critical virtio driver, written at two far-apart offsets
    const stateOffset = 600 << 20;
    const { lbr, region } = labDisk(stateOffset, { firmware: 'bios', registry: {}, files: {} });
    const fh = await open(dev, 'r+');
    try {
      await fh.write(region, 0, region.length, stateOffset);
      await fh.write(lbr, 0, lbr.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    expect((await readAt(real, stateOffset, region.length)).equals(region)).toBe(true);
    expect((await readAt(real, 0, 512)).equals(lbr)).toBe(true);

    await detach(vol.id);
    expect(existsSync(dev), `${dev} after detach`).toBe(false);

    // a server booted from the volume reads what was written through the device
    const boot = await bootFromVolume('bfv', vol.id);
    expect(boot.disk).toBe(real);
    expect(boot.outcome).toBe('0x7B');
    expect(boot.reason).toContain('viostor');
  });

  it('extends an attached volume with volume API 3.42, and the device grows', async () => {
    const vol = await createVolume('grow', 1);
    const dev = await attach(vol.id);
    const mark = Buffer.from('v2o lab: kept across the extend');
    const fh = await open(dev, 'r+');
    await fh.write(mark, 0, mark.length, GiB - mark.length);
    await fh.close();

    const extend = { 'os-extend': { new_size: 2 } };
    // before 3.42 Cinder refuses to extend an in-use volume
    const old = await call('POST', `${cinder}/volumes/${vol.id}/action`, extend, {
      'OpenStack-API-Version': 'volume 3.41',
    });
    expect(old.status, old.text).toBe(400);
    const r = await call('POST', `${cinder}/volumes/${vol.id}/action`, extend, {
      'OpenStack-API-Version': 'volume 3.42',
    });
    expect(r.status, r.text).toBe(202);
    const grown = await waitVolume(vol.id, (v) => v.size === 2 && v.status === 'in-use', 'size 2 in-use');
    expect(grown.attachments.map((a) => a.server_id)).toEqual([env.V2O_LAB_CONVERSION_HOST]);
    expect(statSync(dev).size).toBe(2 * GiB);
    expect((await readAt(dev, GiB - mark.length, mark.length)).equals(mark)).toBe(true);
    // Cinder told Nova (os-server-external-events volume-extended): the server has the action
    await waitFor(
      'extend_volume instance action',
      async () => {
        const a = await call<{ instanceActions: { action: string }[] }>(
          'GET',
          `${nova}/servers/${env.V2O_LAB_CONVERSION_HOST}/os-instance-actions`,
          undefined,
          NOVA,
        );
        return a.json.instanceActions.some((x) => x.action === 'extend_volume') ? true : undefined;
      },
      30_000,
    );
    await detach(vol.id);
  });

  it('has an encrypted volume type whose volumes read back as noise, attach, extend and boot', async () => {
    const types = await call<{ volume_types: { id: string; name: string }[] }>('GET', `${cinder}/types`);
    const type = types.json.volume_types.find((t) => t.name === env.V2O_LAB_VOLUME_TYPE_ENCRYPTED);
    expect(type, 'encrypted type listed for demo').toBeDefined();

    const plain = await createVolume('plain', 1);
    expect(plain.encrypted).toBe(false);
    const vol = await createVolume('encrypted', 1, env.V2O_LAB_VOLUME_TYPE_ENCRYPTED);
    expect(vol.encrypted).toBe(true);

    const dev = await attach(vol.id);
    for (const at of [0, 256 << 20, GiB - 65536]) {
      expect(looksRandom(await readAt(dev, at, 65536)), `noise at ${at}`).toBe(true);
    }
    // a plain volume's unwritten blocks are zeros, for contrast (the check can tell them apart)
    const plainDev = await attach(plain.id);
    expect(looksRandom(await readAt(plainDev, 256 << 20, 65536))).toBe(false);
    await detach(plain.id);

    // what a copy writes stays; the part an extend adds is unwritten too: noise
    const data = Buffer.alloc(65536, 0);
    const fh = await open(dev, 'r+');
    await fh.write(data, 0, data.length, 4096);
    await fh.close();
    const r = await call(
      'POST',
      `${cinder}/volumes/${vol.id}/action`,
      { 'os-extend': { new_size: 2 } },
      {
        'OpenStack-API-Version': 'volume 3.42',
      },
    );
    expect(r.status, r.text).toBe(202);
    await waitVolume(vol.id, (v) => v.size === 2 && v.status === 'in-use', 'size 2 in-use');
    expect(statSync(dev).size).toBe(2 * GiB);
    expect(looksRandom(await readAt(dev, GiB + (64 << 20), 65536))).toBe(true);
    expect((await readAt(dev, 4096, data.length)).equals(data)).toBe(true);
    await detach(vol.id);

    // Nova boots from it (the fake driver has no LUKS to open; the noise is not a lab disk)
    const boot = await bootFromVolume('encrypted-bfv', vol.id);
    expect(boot.disk).toBe(
      realpathSync(join(env.V2O_LAB_NOVA_BOOT_LOG!, '..', 'data/cinder/volumes', `volume-${vol.id}`)),
    );
    expect(boot.outcome).toBe('no-boot');
  });
});
