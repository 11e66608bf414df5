// Nova and Neutron against the lab: flavors, a port with a chosen MAC and fixed IP on lab-net, a
// server on that port reaching ACTIVE with tags and metadata, lists, console log, volume attach,
// limits, and delete (waiting until gone).
import { randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { ipInCidr } from '../../../src/migration/plan/plan-ports.js';
import {
  createVolume,
  deleteVolume,
  waitForVolumeDeleted,
  waitForVolumeStatus,
} from '../../../src/openstack/block-storage/volumes/requests.js';
import type { Cloud } from '../../../src/openstack/cloud.js';
import { getFlavor, listFlavors } from '../../../src/openstack/compute/flavors/requests.js';
import { getComputeLimits } from '../../../src/openstack/compute/limits/requests.js';
import {
  createServer,
  deleteServer,
  getConsoleOutput,
  getServer,
  listServers,
  waitForServerDeleted,
  waitForServerStatus,
} from '../../../src/openstack/compute/servers/requests.js';
import {
  attachVolume,
  detachVolume,
  listVolumeAttachments,
} from '../../../src/openstack/compute/volume-attachments/requests.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import { createImage, deleteImage } from '../../../src/openstack/image/images/requests.js';
import { findNetwork } from '../../../src/openstack/network/networks/requests.js';
import { createPort, deletePort, getPort, listPorts } from '../../../src/openstack/network/ports/requests.js';
import { findSubnet, listSubnets } from '../../../src/openstack/network/subnets/requests.js';
import { LAB_NET, openLab, quietly, runTag } from './helpers.js';

describe('servers on lab-net with a chosen MAC', () => {
  let cloud: Cloud;
  const tag = runTag('v2o-it-compute');
  const mac = `fa:16:3e:${[0, 0, 0].map(() => randomInt(256).toString(16).padStart(2, '0')).join(':')}`;
  const ip = `192.0.2.${randomInt(150, 250)}`;
  let imageId: string;
  let portId: string;
  let serverId: string;
  let volumeId: string | undefined;

  beforeAll(async () => {
    cloud = await openLab();
    const img = await createImage(cloud.image, { name: `${tag}-img`, diskFormat: 'raw', tags: [tag] });
    await uploadImageData(cloud.image, img.id, () => Readable.from([Buffer.alloc(1 << 20, 3)]));
    imageId = img.id;
  });
  afterAll(async () => {
    if (serverId) {
      await quietly(() => deleteServer(cloud.compute, serverId, { ignoreMissing: true }));
      await quietly(() => waitForServerDeleted(cloud.compute, serverId, { timeoutMs: 60_000 }));
    }
    if (volumeId) await quietly(() => deleteVolume(cloud.volume, volumeId!, { ignoreMissing: true }));
    if (portId) await quietly(() => deletePort(cloud.network, portId, { ignoreMissing: true }));
    if (imageId) await quietly(() => deleteImage(cloud.image, imageId, { ignoreMissing: true }));
    await cloud?.close();
  });

  it('lists flavors with details and gets one', async () => {
    const flavors = await listFlavors(cloud.compute);
    const names = flavors.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['m1.tiny', 'win.bfv']));
    expect(flavors.find((f) => f.name === 'win.bfv')?.disk).toBe(0);
    const tiny = flavors.find((f) => f.name === 'm1.tiny')!;
    expect((await getFlavor(cloud.compute, tiny.id)).ram).toBe(tiny.ram);
  });

  it('reads the raw limits for preflight', async () => {
    const l = await getComputeLimits(cloud.compute);
    // the lab sets unlimited quotas
    expect(l.maxTotalInstances).toBe(-1);
    expect(l.maxTotalCores).toBe(-1);
    expect(typeof l.totalInstancesUsed).toBe('number');
  });

  it('finds lab-net and its subnet by name; an unknown network is a ConfigError', async () => {
    const net = await findNetwork(cloud.network, LAB_NET);
    expect((await findNetwork(cloud.network, net.id)).name).toBe(LAB_NET);
    const subnets = await listSubnets(cloud.network, { networkId: net.id });
    expect(subnets.length).toBeGreaterThan(0);
    expect((await findSubnet(cloud.network, subnets[0]!.name, { networkId: net.id })).id).toBe(
      subnets[0]!.id,
    );
    await expect(findNetwork(cloud.network, 'no-such-net')).rejects.toBeInstanceOf(ConfigError);
  });

  it('creates a port with a chosen MAC and fixed IP, tagged and described', async () => {
    const net = await findNetwork(cloud.network, LAB_NET);
    const subnet = (await listSubnets(cloud.network, { networkId: net.id, ipVersion: 4 }))[0]!;
    expect(ipInCidr(ip, subnet.cidr)).toBe(true);
    const port = await createPort(cloud.network, {
      networkId: net.id,
      name: `${tag}-nic0`,
      description: `v2o ${tag} nic 0`,
      macAddress: mac,
      fixedIps: [{ subnetId: subnet.id, ipAddress: ip }],
      tags: [tag, 'v2o'],
    });
    portId = port.id;
    expect(port).toMatchObject({ macAddress: mac, fixedIps: [{ subnetId: subnet.id, ipAddress: ip }] });
    expect(port.tags.sort()).toEqual([tag, 'v2o'].sort());
    expect((await listPorts(cloud.network, { tags: [tag] })).map((p) => p.id)).toEqual([port.id]);
    expect((await listPorts(cloud.network, { description: `v2o ${tag} nic 0` })).map((p) => p.id)).toEqual([
      port.id,
    ]);
    expect((await listPorts(cloud.network, { macAddress: mac.toUpperCase() })).map((p) => p.id)).toEqual([
      port.id,
    ]);
  });

  it('boots a server on that port to ACTIVE, with tags and metadata', async () => {
    const tiny = (await listFlavors(cloud.compute)).find((f) => f.name === 'm1.tiny')!;
    const { id } = await createServer(cloud.compute, {
      name: `${tag}-vm`,
      flavorRef: tiny.id,
      imageRef: imageId,
      networks: [{ port: portId }],
      metadata: { v2o_run_id: tag, v2o_vm: 'vm-7' },
      tags: [tag],
      availabilityZone: 'nova',
    });
    serverId = id;
    const s = await waitForServerStatus(cloud.compute, id, 'ACTIVE', { timeoutMs: 120_000 });
    expect(s.tags).toEqual([tag]);
    expect(s.metadata).toMatchObject({ v2o_vm: 'vm-7' });
    expect(s.addresses[LAB_NET]).toEqual([expect.objectContaining({ addr: ip, macAddr: mac })]);
    const port = await getPort(cloud.network, portId);
    expect(port.deviceId).toBe(id);
    expect(port.status).toBe('ACTIVE');
  });

  it('lists servers by tag, by metadata and by exact name', async () => {
    expect((await listServers(cloud.compute, { tags: [tag] })).map((s) => s.id)).toEqual([serverId]);
    expect((await listServers(cloud.compute, { metadata: { v2o_run_id: tag } })).map((s) => s.id)).toEqual([
      serverId,
    ]);
    expect((await listServers(cloud.compute, { name: `${tag}-vm` })).map((s) => s.id)).toEqual([serverId]);
    expect(await listServers(cloud.compute, { name: `${tag}-v` })).toEqual([]);
  });

  it('reads the console log', async () => {
    const out = await getConsoleOutput(cloud.compute, serverId, { lines: 10 });
    expect(out.length).toBeGreaterThan(0);
  });

  it('attaches and detaches a blank volume', async () => {
    const v = await createVolume(cloud.volume, {
      size: 1,
      name: `${tag}-data`,
      metadata: { v2o_run_id: tag },
    });
    volumeId = v.id;
    await waitForVolumeStatus(cloud.volume, v.id, 'available', { timeoutMs: 120_000 });
    const att = await attachVolume(cloud.compute, serverId, v.id);
    expect(att.volumeId).toBe(v.id);
    await waitForVolumeStatus(cloud.volume, v.id, 'in-use', { timeoutMs: 120_000 });
    expect((await listVolumeAttachments(cloud.compute, serverId)).map((a) => a.volumeId)).toContain(v.id);
    expect((await getServer(cloud.compute, serverId)).volumesAttached).toContain(v.id);
    await detachVolume(cloud.compute, serverId, v.id);
    await waitForVolumeStatus(cloud.volume, v.id, 'available', { timeoutMs: 120_000 });
    await deleteVolume(cloud.volume, v.id);
    await waitForVolumeDeleted(cloud.volume, v.id, { timeoutMs: 120_000 });
    volumeId = undefined;
  });

  it('deletes the server and waits until it is gone; the port survives and is deleted', async () => {
    await deleteServer(cloud.compute, serverId);
    await waitForServerDeleted(cloud.compute, serverId, { timeoutMs: 120_000 });
    await expect(getServer(cloud.compute, serverId)).rejects.toMatchObject({ status: 404 });
    serverId = '';
    await deletePort(cloud.network, portId);
    expect(await listPorts(cloud.network, { tags: [tag] })).toEqual([]);
    portId = '';
  });
});
