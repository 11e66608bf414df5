// Cinder v3 against the lab, and boot from volume: a volume made from an image (bytes really
// copied), image metadata on the volume, list by metadata, a win.bfv server booted from it, limits,
// and deletion; plus a volume that goes to error (bigger image than volume).
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getVolumeLimits } from '../../../src/openstack/block-storage/limits/requests.js';
import {
  createVolume,
  deleteVolume,
  getVolume,
  listVolumes,
  setVolumeImageMetadata,
  VolumeError,
  waitForVolumeDeleted,
  waitForVolumeStatus,
} from '../../../src/openstack/block-storage/volumes/requests.js';
import type { Cloud } from '../../../src/openstack/cloud.js';
import { listFlavors } from '../../../src/openstack/compute/flavors/requests.js';
import {
  createServer,
  deleteServer,
  waitForServerDeleted,
  waitForServerStatus,
} from '../../../src/openstack/compute/servers/requests.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import { createImage, deleteImage } from '../../../src/openstack/image/images/requests.js';
import { findNetwork } from '../../../src/openstack/network/networks/requests.js';
import { LAB_NET, openLab, quietly, runTag } from './helpers.js';

describe('Cinder volumes and boot from volume', () => {
  let cloud: Cloud;
  const tag = runTag('v2o-it-volume');
  let imageId: string;
  const volumes: string[] = [];
  let serverId: string | undefined;

  beforeAll(async () => {
    cloud = await openLab();
    const img = await createImage(cloud.image, {
      name: `${tag}-boot`,
      diskFormat: 'raw',
      tags: [tag],
      properties: {
        os_type: 'windows',
        hw_firmware_type: 'uefi',
        hw_disk_bus: 'scsi',
        hw_scsi_model: 'virtio-scsi',
      },
    });
    await uploadImageData(cloud.image, img.id, () => Readable.from([Buffer.alloc(4 << 20, 0x42)]));
    imageId = img.id;
  });
  afterAll(async () => {
    if (serverId) {
      await quietly(() => deleteServer(cloud.compute, serverId!, { ignoreMissing: true }));
      await quietly(() => waitForServerDeleted(cloud.compute, serverId!, { timeoutMs: 60_000 }));
    }
    for (const v of volumes) {
      await quietly(async () => {
        await waitForVolumeStatus(cloud.volume, v, 'available', { timeoutMs: 60_000 }).catch(() => undefined);
        await deleteVolume(cloud.volume, v, { ignoreMissing: true });
      });
    }
    await quietly(() => deleteImage(cloud.image, imageId, { ignoreMissing: true }));
    await cloud?.close();
  });

  it('reads the raw volume limits for preflight', async () => {
    const l = await getVolumeLimits(cloud.volume);
    // the lab sets unlimited quotas
    expect(l.maxTotalVolumeGigabytes).toBe(-1);
    expect(l.maxTotalVolumes).toBe(-1);
  });

  it('creates a volume from an image with metadata and waits until available', async () => {
    const v = await createVolume(cloud.volume, {
      size: 1,
      name: `${tag}-root`,
      imageRef: imageId,
      metadata: { v2o_run_id: tag, v2o_disk: 'disk-0' },
    });
    volumes.push(v.id);
    const ready = await waitForVolumeStatus(cloud.volume, v.id, 'available', { timeoutMs: 180_000 });
    expect(ready).toMatchObject({ bootable: true, size: 1, metadata: { v2o_disk: 'disk-0' } });
    // Cinder copies the image's properties to the volume's image metadata.
    expect(ready.imageMetadata).toMatchObject({ image_id: imageId, hw_firmware_type: 'uefi' });
  });

  it('sets volume image metadata (what Nova reads when booting from it)', async () => {
    const id = volumes[0]!;
    await setVolumeImageMetadata(cloud.volume, id, { hw_vif_model: 'virtio', hw_qemu_guest_agent: 'yes' });
    const v = await getVolume(cloud.volume, id);
    expect(v.imageMetadata).toMatchObject({
      hw_vif_model: 'virtio',
      hw_qemu_guest_agent: 'yes',
      hw_disk_bus: 'scsi',
    });
  });

  it('lists volumes by metadata', async () => {
    const found = await listVolumes(cloud.volume, { metadata: { v2o_run_id: tag, v2o_disk: 'disk-0' } });
    expect(found.map((v) => v.id)).toEqual([volumes[0]]);
    expect(await listVolumes(cloud.volume, { metadata: { v2o_run_id: tag, v2o_disk: 'disk-9' } })).toEqual(
      [],
    );
  });

  it('boots a win.bfv server from the volume (block_device_mapping_v2) to ACTIVE', async () => {
    // Which flavor a VM gets is planning's (pickFlavor, test/unit/migration/build-plan.test.ts).
    const flavor = (await listFlavors(cloud.compute)).find((f) => f.name === 'win.bfv');
    expect(flavor?.disk).toBe(0);
    const net = await findNetwork(cloud.network, LAB_NET);
    const { id } = await createServer(cloud.compute, {
      name: `${tag}-bfv`,
      flavorRef: flavor!.id,
      blockDevices: [
        {
          sourceType: 'volume',
          destinationType: 'volume',
          uuid: volumes[0]!,
          bootIndex: 0,
          deleteOnTermination: false,
        },
      ],
      networks: [{ uuid: net.id }],
      tags: [tag],
    });
    serverId = id;
    const s = await waitForServerStatus(cloud.compute, id, 'ACTIVE', { timeoutMs: 180_000 });
    expect(s.volumesAttached).toEqual([volumes[0]]);
    expect(s.imageId).toBeUndefined();
    expect((await getVolume(cloud.volume, volumes[0]!)).status).toBe('in-use');
    await deleteServer(cloud.compute, id);
    await waitForServerDeleted(cloud.compute, id, { timeoutMs: 120_000 });
    serverId = undefined;
    await waitForVolumeStatus(cloud.volume, volumes[0]!, 'available', { timeoutMs: 120_000 });
  });

  it('deletes a volume and waits until it is gone', async () => {
    const id = volumes.shift()!;
    await deleteVolume(cloud.volume, id);
    await waitForVolumeDeleted(cloud.volume, id, { timeoutMs: 120_000 });
    await expect(getVolume(cloud.volume, id)).rejects.toMatchObject({ status: 404 });
  });

  it('a volume that cannot be made goes to error, and the wait fails at once', async () => {
    // Bytes that claim to be qcow2 but are not: Glance's PUT takes them, the API accepts the
    // request, and cinder-volume fails the copy, so the volume ends in `error`.
    const bad = await createImage(cloud.image, { name: `${tag}-notqcow2`, diskFormat: 'qcow2', tags: [tag] });
    try {
      await uploadImageData(cloud.image, bad.id, () => Readable.from([Buffer.alloc(1 << 20, 0x17)]));
      const v = await createVolume(cloud.volume, { size: 1, imageRef: bad.id, name: `${tag}-broken` });
      volumes.push(v.id);
      const err = await waitForVolumeStatus(cloud.volume, v.id, 'available', { timeoutMs: 180_000 }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(VolumeError);
      expect(err.message).toMatch(new RegExp(`^volume ${v.id} went to error while waiting for available`));
    } finally {
      await quietly(() => deleteImage(cloud.image, bad.id, { ignoreMissing: true }));
    }
  });
});
