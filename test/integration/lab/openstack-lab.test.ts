// The OpenStack lab itself (test/lab/openstack): plain REST against every service, with the
// credentials of .lab/lab.env, so a broken lab shows here before it shows in client tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LabToken,
  labAdminCloud,
  labCloud,
  labEndpoint,
  labToken,
  resetOpenStackLab,
} from '../../helpers/openstack-lab.js';

let demo: LabToken;

async function call<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: T }> {
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
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const NOVA = { 'OpenStack-API-Version': 'compute 2.79' };
const PREFIX = 'lab-test-';

describe('openstack lab', () => {
  beforeAll(async () => {
    demo = await labToken(labCloud());
  });
  // only what this file made (names start with PREFIX): other runs may share the lab
  afterAll(() => {
    resetOpenStackLab({ prefix: PREFIX });
  });

  it('issues a demo token scoped to the demo project with the member role only', async () => {
    expect(labCloud().projectName).toBe('demo');
    expect(labCloud().password).not.toBe('demo');
    expect(demo.roles).toContain('member');
    expect(demo.roles).not.toContain('admin');
  });

  it('issues an admin token with the admin cloud', async () => {
    const admin = await labToken(labAdminCloud());
    expect(admin.roles).toContain('admin');
  });

  it('rejects a wrong password', async () => {
    await expect(labToken({ ...labCloud(), password: 'wrong' })).rejects.toThrow(/HTTP 401/);
  });

  it('has every service in the catalog, on 127.0.0.1, answering', async () => {
    for (const type of ['identity', 'image', 'compute', 'volumev3', 'network', 'placement']) {
      const url = labEndpoint(demo, type);
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const res = await fetch(url, { headers: { 'X-Auth-Token': demo.token } });
      expect(res.status, `${type} ${url}`).toBeLessThan(500);
      await res.body?.cancel();
    }
    expect(labEndpoint(demo, 'volumev3')).toContain(demo.projectId);
  });

  it('has the m1 and Windows-sized flavors, and a 0-disk one for boot-from-volume', async () => {
    const nova = labEndpoint(demo, 'compute');
    const { json } = await call<{ flavors: { name: string; vcpus: number; ram: number; disk: number }[] }>(
      'GET',
      `${nova}/flavors/detail`,
      undefined,
      NOVA,
    );
    const byName = new Map(json.flavors.map((f) => [f.name, f]));
    for (const n of ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large']) expect(byName.has(n), n).toBe(true);
    expect(byName.get('win.small')).toMatchObject({ vcpus: 2, ram: 4096, disk: 40 });
    expect(byName.get('win.medium')).toMatchObject({ vcpus: 4, ram: 8192, disk: 80 });
    expect(byName.get('win.large')).toMatchObject({ vcpus: 8, ram: 16384, disk: 120 });
    expect(byName.get('win.bfv')?.disk).toBe(0);
  });

  it('gives the demo project unlimited compute and volume quotas', async () => {
    const q = await call<{ quota_set: { instances: number; cores: number; ram: number } }>(
      'GET',
      `${labEndpoint(demo, 'compute')}/os-quota-sets/${demo.projectId}`,
    );
    expect(q.json.quota_set).toMatchObject({ instances: -1, cores: -1, ram: -1 });
    const v = await call<{ quota_set: { volumes: number; gigabytes: number } }>(
      'GET',
      `${labEndpoint(demo, 'volumev3')}/os-quota-sets/${demo.projectId}`,
    );
    expect(v.json.quota_set).toMatchObject({ volumes: -1, gigabytes: -1 });
  });

  it('has the shared networks lab-net and lab-db-net with their subnets, pools from .100', async () => {
    const neutron = labEndpoint(demo, 'network');
    const nets = await call<{ networks: { id: string; name: string; shared: boolean; subnets: string[] }[] }>(
      'GET',
      `${neutron}/v2.0/networks`,
    );
    const subnets = await call<{
      subnets: {
        network_id: string;
        cidr: string;
        gateway_ip: string | null;
        allocation_pools: { start: string; end: string }[];
      }[];
    }>('GET', `${neutron}/v2.0/subnets`);
    // the pools leave .2-.99 to the static addresses tests keep (win2022-static01: .41, .42)
    for (const [name, cidr, gateway, prefix] of [
      ['lab-net', '192.0.2.0/24', '192.0.2.1', '192.0.2.'],
      ['lab-db-net', '198.51.100.0/24', null, '198.51.100.'],
    ] as const) {
      const net = nets.json.networks.find((n) => n.name === name);
      expect(net, name).toBeDefined();
      expect(net!.shared).toBe(true);
      const sub = subnets.json.subnets.find((s) => s.network_id === net!.id);
      expect(sub?.cidr).toBe(cidr);
      expect(sub?.gateway_ip).toBe(gateway);
      expect(sub?.allocation_pools).toEqual([{ start: `${prefix}100`, end: `${prefix}250` }]);
    }
  });

  it('offers glance-direct import and a volume type', async () => {
    const info = await call<{ 'import-methods': { value: string[] } }>(
      'GET',
      `${labEndpoint(demo, 'image')}/v2/info/import`,
    );
    expect(info.json['import-methods'].value).toContain('glance-direct');
    const types = await call<{ volume_types: { name: string }[] }>(
      'GET',
      `${labEndpoint(demo, 'volumev3')}/types`,
    );
    expect(types.json.volume_types.map((t) => t.name)).toContain('lab');
  });

  it('uploads a tiny image and boots a server on lab-net to ACTIVE', async () => {
    const glance = labEndpoint(demo, 'image');
    const nova = labEndpoint(demo, 'compute');
    const img = await call<{ id: string }>('POST', `${glance}/v2/images`, {
      name: `${PREFIX}tiny`,
      disk_format: 'raw',
      container_format: 'bare',
    });
    expect(img.status).toBe(201);
    const data = Buffer.alloc(1 << 20, 0x5a);
    const put = await fetch(`${glance}/v2/images/${img.json.id}/file`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': demo.token, 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expect(put.status).toBe(204);
    const image = await call<{ status: string; size: number }>('GET', `${glance}/v2/images/${img.json.id}`);
    expect(image.json).toMatchObject({ status: 'active', size: data.length });

    const nets = await call<{ networks: { id: string }[] }>(
      'GET',
      `${labEndpoint(demo, 'network')}/v2.0/networks?name=lab-net`,
    );
    const flavors = await call<{ flavors: { id: string; name: string }[] }>('GET', `${nova}/flavors`);
    const created = await call<{ server: { id: string } }>(
      'POST',
      `${nova}/servers`,
      {
        server: {
          name: `${PREFIX}server`,
          imageRef: img.json.id,
          flavorRef: flavors.json.flavors.find((f) => f.name === 'm1.tiny')!.id,
          networks: [{ uuid: nets.json.networks[0].id }],
        },
      },
      NOVA,
    );
    expect(created.status).toBe(202);
    const server = await waitFor('server ACTIVE', async () => {
      const s = await call<{ server: { status: string; addresses: Record<string, { addr: string }[]> } }>(
        'GET',
        `${nova}/servers/${created.json.server.id}`,
        undefined,
        NOVA,
      );
      if (s.json.server.status === 'ERROR')
        throw new Error(`server went to ERROR: ${JSON.stringify(s.json)}`);
      return s.json.server.status === 'ACTIVE' ? s.json.server : undefined;
    });
    expect(server.addresses['lab-net'][0].addr).toMatch(/^192\.0\.2\./);
  });

  it('boots a UEFI/secure-boot/vTPM Windows image on win.small with a NIC on each lab network', async () => {
    const glance = labEndpoint(demo, 'image');
    const nova = labEndpoint(demo, 'compute');
    const img = await call<{ id: string }>('POST', `${glance}/v2/images`, {
      name: `${PREFIX}windows`,
      disk_format: 'raw',
      container_format: 'bare',
      os_type: 'windows',
      os_distro: 'windows',
      os_version: '11',
      hw_disk_bus: 'scsi',
      hw_scsi_model: 'virtio-scsi',
      hw_vif_model: 'virtio',
      hw_firmware_type: 'uefi',
      hw_machine_type: 'q35',
      os_secure_boot: 'required',
      hw_qemu_guest_agent: 'yes',
      hw_video_model: 'qxl',
      hw_tpm_version: '2.0',
      hw_tpm_model: 'tpm-crb',
    });
    expect(img.status).toBe(201);
    await fetch(`${glance}/v2/images/${img.json.id}/file`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': demo.token, 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(1 << 20, 2),
    });
    const neutron = labEndpoint(demo, 'network');
    const nets = await call<{ networks: { id: string; name: string }[] }>('GET', `${neutron}/v2.0/networks`);
    const netId = (name: string) => nets.json.networks.find((n) => n.name === name)!.id;
    const flavors = await call<{ flavors: { id: string; name: string }[] }>('GET', `${nova}/flavors`);
    // secure boot and vTPM become required placement traits: the lab's Nova driver reports them
    const created = await call<{ server: { id: string } }>(
      'POST',
      `${nova}/servers`,
      {
        server: {
          name: `${PREFIX}windows`,
          imageRef: img.json.id,
          flavorRef: flavors.json.flavors.find((f) => f.name === 'win.small')!.id,
          networks: [{ uuid: netId('lab-net') }, { uuid: netId('lab-db-net') }],
        },
      },
      NOVA,
    );
    expect(created.status).toBe(202);
    const server = await waitFor('windows server ACTIVE', async () => {
      const s = await call<{
        server: { status: string; fault?: unknown; addresses: Record<string, { addr: string }[]> };
      }>('GET', `${nova}/servers/${created.json.server.id}`, undefined, NOVA);
      if (s.json.server.status === 'ERROR') throw new Error(`ERROR: ${JSON.stringify(s.json.server.fault)}`);
      return s.json.server.status === 'ACTIVE' ? s.json.server : undefined;
    });
    expect(server.addresses['lab-net'][0].addr).toMatch(/^192\.0\.2\./);
    expect(server.addresses['lab-db-net'][0].addr).toMatch(/^198\.51\.100\./);
  });

  it('imports a qcow2 image with glance-direct and converts it to raw (image_conversion)', async () => {
    const glance = labEndpoint(demo, 'image');
    const dir = mkdtempSync(join(tmpdir(), 'v2o-lab-'));
    try {
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'd.qcow2'), '16M']);
      const img = await call<{ id: string }>('POST', `${glance}/v2/images`, {
        name: `${PREFIX}import`,
        disk_format: 'qcow2',
        container_format: 'bare',
      });
      const stage = await fetch(`${glance}/v2/images/${img.json.id}/stage`, {
        method: 'PUT',
        headers: { 'X-Auth-Token': demo.token, 'Content-Type': 'application/octet-stream' },
        body: readFileSync(join(dir, 'd.qcow2')),
      });
      expect(stage.status).toBe(204);
      const imp = await call('POST', `${glance}/v2/images/${img.json.id}/import`, {
        method: { name: 'glance-direct' },
      });
      expect(imp.status).toBe(202);
      const done = await waitFor('image import', async () => {
        const r = await call<{ status: string; disk_format: string; virtual_size: number }>(
          'GET',
          `${glance}/v2/images/${img.json.id}`,
        );
        return ['uploading', 'importing'].includes(r.json.status) ? undefined : r.json;
      });
      expect(done).toMatchObject({ status: 'active', disk_format: 'raw', virtual_size: 16 << 20 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('boots a win.bfv server from a volume made from an image', async () => {
    const glance = labEndpoint(demo, 'image');
    const cinder = labEndpoint(demo, 'volumev3');
    const nova = labEndpoint(demo, 'compute');
    const img = await call<{ id: string }>('POST', `${glance}/v2/images`, {
      name: `${PREFIX}bfv-image`,
      disk_format: 'raw',
      container_format: 'bare',
    });
    await fetch(`${glance}/v2/images/${img.json.id}/file`, {
      method: 'PUT',
      headers: { 'X-Auth-Token': demo.token, 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(1 << 20, 1),
    });
    const vol = await call<{ volume: { id: string } }>('POST', `${cinder}/volumes`, {
      volume: { size: 1, name: `${PREFIX}bfv`, imageRef: img.json.id },
    });
    expect(vol.status).toBe(202);
    await waitFor('volume available', async () => {
      const v = await call<{ volume: { status: string } }>('GET', `${cinder}/volumes/${vol.json.volume.id}`);
      if (v.json.volume.status === 'error') throw new Error('volume from image went to error');
      return v.json.volume.status === 'available' ? true : undefined;
    });
    const flavors = await call<{ flavors: { id: string; name: string }[] }>('GET', `${nova}/flavors`);
    const created = await call<{ server: { id: string } }>(
      'POST',
      `${nova}/servers`,
      {
        server: {
          name: `${PREFIX}bfv`,
          flavorRef: flavors.json.flavors.find((f) => f.name === 'win.bfv')!.id,
          networks: 'none',
          block_device_mapping_v2: [
            {
              boot_index: 0,
              uuid: vol.json.volume.id,
              source_type: 'volume',
              destination_type: 'volume',
              delete_on_termination: false,
            },
          ],
        },
      },
      NOVA,
    );
    expect(created.status).toBe(202);
    await waitFor('bfv server ACTIVE', async () => {
      const s = await call<{ server: { status: string; fault?: unknown } }>(
        'GET',
        `${nova}/servers/${created.json.server.id}`,
        undefined,
        NOVA,
      );
      if (s.json.server.status === 'ERROR') throw new Error(`ERROR: ${JSON.stringify(s.json.server.fault)}`);
      return s.json.server.status === 'ACTIVE' ? true : undefined;
    });
    const v = await call<{ volume: { status: string } }>('GET', `${cinder}/volumes/${vol.json.volume.id}`);
    expect(v.json.volume.status).toBe('in-use');
  });

  it('reset deletes what carries the prefix and keeps the rest', async () => {
    const neutron = labEndpoint(demo, 'network');
    const nets = await call<{ networks: { id: string }[] }>(
      'GET',
      `${neutron}/v2.0/networks?name=lab-db-net`,
    );
    const port = await call<{ port: { id: string } }>('POST', `${neutron}/v2.0/ports`, {
      port: {
        network_id: nets.json.networks[0].id,
        name: `${PREFIX}port`,
        mac_address: 'fa:16:3e:00:00:01',
        fixed_ips: [{ ip_address: '198.51.100.10' }],
      },
    });
    // the demo user may choose MAC and IP: the lab networks belong to the demo project
    expect(port.status).toBe(201);
    const keep = await call<{ port: { id: string } }>('POST', `${neutron}/v2.0/ports`, {
      port: { network_id: nets.json.networks[0].id, name: 'keep-lab-reset-port' },
    });
    expect(keep.status).toBe(201);
    const cinder = labEndpoint(demo, 'volumev3');
    const vol = await call<{ volume: { id: string } }>('POST', `${cinder}/volumes`, {
      volume: { size: 1, name: `${PREFIX}volume` },
    });
    expect(vol.status).toBe(202);

    try {
      expect(resetOpenStackLab({ prefix: PREFIX })).toMatch(/deleted [1-9]\d* servers, [1-9]\d* ports/);

      const named = (xs: { name?: string }[]) => xs.filter((x) => x.name?.startsWith(PREFIX));
      const servers = await call<{ servers: { name: string }[] }>(
        'GET',
        `${labEndpoint(demo, 'compute')}/servers`,
      );
      expect(named(servers.json.servers)).toEqual([]);
      const ports = await call<{ ports: { id: string; name: string }[] }>(
        'GET',
        `${neutron}/v2.0/ports?project_id=${demo.projectId}`,
      );
      expect(named(ports.json.ports)).toEqual([]);
      expect(ports.json.ports.map((p) => p.id)).toContain(keep.json.port.id);
      const vols = await call<{ volumes: { name: string }[] }>('GET', `${cinder}/volumes`);
      expect(named(vols.json.volumes)).toEqual([]);
      const imgs = await call<{ images: { name: string }[] }>(
        'GET',
        `${labEndpoint(demo, 'image')}/v2/images?owner=${demo.projectId}`,
      );
      expect(named(imgs.json.images)).toEqual([]);
    } finally {
      await call('DELETE', `${neutron}/v2.0/ports/${keep.json.port.id}`);
    }
  });
});
