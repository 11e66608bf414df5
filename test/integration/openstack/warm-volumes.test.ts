// The warm-migration target calls against the lab's real Cinder and Nova: a blank bootable volume in
// an availability zone, os-extend (3.42) while attached, attach to a server on the fake driver and
// detach, each waited for, and the conversion host found by name. Everything made here is named
// c-test-<random> and deleted at the end.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackTarget } from '../../../src/migration/target-openstack.js';
import { deleteVolume } from '../../../src/openstack/block-storage/volumes/requests.js';
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
import { openLab, quietly, runTag } from './helpers.js';

describe('warm-migration volumes on the lab', () => {
  let cloud: Cloud;
  let target: OpenStackTarget;
  const tag = runTag('c-test');
  let imageId: string | undefined;
  let serverId: string | undefined;
  let volumeId: string | undefined;

  beforeAll(async () => {
    cloud = await openLab();
    target = new OpenStackTarget(cloud);
    const img = await createImage(cloud.image, { name: `${tag}-img`, diskFormat: 'raw', tags: [tag] });
    await uploadImageData(cloud.image, img.id, () => Readable.from([Buffer.alloc(1 << 20, 3)]));
    imageId = img.id;
    const tiny = (await listFlavors(cloud.compute)).find((f) => f.name === 'm1.tiny')!;
    const { id } = await createServer(cloud.compute, {
      name: `${tag}-host`,
      flavorRef: tiny.id,
      imageRef: img.id,
      networks: 'none',
      metadata: {},
      tags: [tag],
      availabilityZone: 'nova',
    });
    serverId = id;
    await waitForServerStatus(cloud.compute, id, 'ACTIVE', { timeoutMs: 120_000 });
  }, 180_000);

  afterAll(async () => {
    if (serverId && volumeId) await quietly(() => target.detachVolume(serverId!, volumeId!));
    if (serverId) {
      await quietly(() => deleteServer(cloud.compute, serverId!, { ignoreMissing: true }));
      await quietly(() => waitForServerDeleted(cloud.compute, serverId!, { timeoutMs: 60_000 }));
    }
    if (volumeId) await quietly(() => deleteVolume(cloud.volume, volumeId!, { ignoreMissing: true }));
    if (imageId) await quietly(() => deleteImage(cloud.image, imageId!, { ignoreMissing: true }));
    await cloud?.close();
  }, 180_000);

  it('finds the server by name with its availability zone', async () => {
    const host = await target.findConversionHost({
      server: `${tag}-host`,
      metadataUrl: 'http://127.0.0.1:9/',
    });
    expect(host).toEqual({
      id: serverId,
      name: `${tag}-host`,
      availabilityZone: 'nova',
      attachedVolumeIds: [],
    });
  });

  it('creates an empty bootable volume in the AZ', async () => {
    const v = await target.createEmptyVolume({
      name: `${tag}-disk0`,
      sizeGiB: 1,
      availabilityZone: 'nova',
      bootable: true,
      metadata: { v2o_run: tag, v2o_disk: '2000' },
    });
    volumeId = v.id;
    expect(v).toMatchObject({
      status: 'available',
      sizeGiB: 1,
      bootable: true,
      encrypted: false,
      availabilityZone: 'nova',
      attachedServerIds: [],
      metadata: { v2o_run: tag, v2o_disk: '2000' },
    });
  }, 120_000);

  it('attaches it to the server (twice is one attachment), extends it while attached, and detaches it', async () => {
    await target.attachVolume(serverId!, volumeId!);
    await target.attachVolume(serverId!, volumeId!);
    const attached = await target.getVolume(volumeId!);
    expect(attached).toMatchObject({ status: 'in-use', attachedServerIds: [serverId] });
    expect(
      (await target.findConversionHost({ server: serverId!, metadataUrl: 'http://127.0.0.1:9/' }))
        .attachedVolumeIds,
    ).toEqual([volumeId]);

    await target.extendVolume(volumeId!, 2);
    expect(await target.getVolume(volumeId!)).toMatchObject({ sizeGiB: 2, status: 'in-use' });

    await target.detachVolume(serverId!, volumeId!);
    expect(await target.getVolume(volumeId!)).toMatchObject({ status: 'available', attachedServerIds: [] });
    await target.detachVolume(serverId!, volumeId!); // not attached: nothing to do
  }, 300_000);
});
