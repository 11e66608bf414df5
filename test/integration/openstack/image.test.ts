// Glance v2 against the lab: create with Windows properties and tags, streamed upload (Glance's
// hashes are those of the bytes sent), find by tag and property, JSON-patch update, glance-direct import (success and a failure
// that shows only in the tasks), wait, delete.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../../../src/openstack/cloud.js';
import { isStatus } from '../../../src/openstack/errors.js';
import { uploadImageData } from '../../../src/openstack/image/imagedata/requests.js';
import {
  getImportMethods,
  importImage,
  stageImageData,
} from '../../../src/openstack/image/imageimport/requests.js';
import {
  addImageTag,
  createImage,
  deleteImage,
  findImage,
  getImage,
  listImages,
  updateImage,
  waitForImageStatus,
} from '../../../src/openstack/image/images/requests.js';
import {
  ImageImportError,
  listImageTasks,
  waitForImport,
} from '../../../src/openstack/image/tasks/requests.js';
import { openLab, quietly, runTag } from './helpers.js';

describe('Glance images against the lab', () => {
  let cloud: Cloud;
  const tag = runTag('v2o-it-image');
  const dir = mkdtempSync(join(tmpdir(), 'v2o-it-image-'));
  beforeAll(async () => {
    cloud = await openLab('demo', ['image']);
  });
  afterAll(async () => {
    for (const img of await listImages(cloud.image, { tags: [tag] })) {
      await quietly(() => deleteImage(cloud.image, img.id, { ignoreMissing: true }));
    }
    rmSync(dir, { recursive: true, force: true });
    await cloud?.close();
  });

  it('creates a Windows image, uploads a stream, and Glance’s hashes match ours', async () => {
    const img = await createImage(cloud.image, {
      name: `${tag}-win`,
      diskFormat: 'raw',
      tags: [tag, 'v2o'],
      properties: {
        v2o_run_id: tag,
        v2o_vm: 'vm-42',
        os_type: 'windows',
        os_distro: 'windows',
        os_version: '2022',
        hw_disk_bus: 'scsi',
        hw_scsi_model: 'virtio-scsi',
        hw_vif_model: 'virtio',
        hw_firmware_type: 'uefi',
        hw_machine_type: 'q35',
        os_secure_boot: 'required',
        hw_qemu_guest_agent: 'yes',
        hw_video_model: 'virtio',
      },
    });
    expect(img.status).toBe('queued');
    expect(img.properties).toMatchObject({
      os_type: 'windows',
      hw_firmware_type: 'uefi',
      os_secure_boot: 'required',
      hw_qemu_guest_agent: 'yes',
    });
    const data = Buffer.alloc(5 * 1024 * 1024 + 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    let opened = 0;
    await uploadImageData(
      cloud.image,
      img.id,
      () => {
        opened++;
        return Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]);
      },
      { size: data.length },
    );
    expect(opened).toBe(1);
    expect(await getImage(cloud.image, img.id)).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: createHash('md5').update(data).digest('hex'),
      osHashAlgo: 'sha512',
      osHashValue: createHash('sha512').update(data).digest('hex'),
    });
  });

  it('finds by tag and by property; updates properties with a JSON patch; adds a tag', async () => {
    const found = await findImage(cloud.image, { tags: [tag], properties: { v2o_vm: 'vm-42' } });
    expect(found?.name).toBe(`${tag}-win`);
    expect(await findImage(cloud.image, { tags: [tag], properties: { v2o_vm: 'other' } })).toBeUndefined();
    const updated = await updateImage(cloud.image, found!.id, {
      set: { hw_video_model: 'vga', v2o_state: 'uploaded', min_disk: 40 },
      remove: ['v2o_vm'],
    });
    expect(updated.properties).toMatchObject({ hw_video_model: 'vga', v2o_state: 'uploaded' });
    expect(updated.properties.v2o_vm).toBeUndefined();
    expect(updated.minDisk).toBe(40);
    await addImageTag(cloud.image, found!.id, `${tag}-extra`);
    expect((await getImage(cloud.image, found!.id)).tags).toContain(`${tag}-extra`);
  });

  it('imports a qcow2 with stage + glance-direct and waits for active (converted to raw)', async () => {
    expect(await getImportMethods(cloud.image)).toContain('glance-direct');
    const file = join(dir, 'd.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
    const img = await createImage(cloud.image, { name: `${tag}-import`, diskFormat: 'qcow2', tags: [tag] });
    await stageImageData(cloud.image, img.id, () => createReadStream(file), { size: statSync(file).size });
    const since = new Date().toISOString();
    await importImage(cloud.image, img.id);
    const done = await waitForImport(cloud.image, img.id, { timeoutMs: 120_000, since });
    expect(done).toMatchObject({ status: 'active', diskFormat: 'raw', virtualSize: 16 << 20 });
    const tasks = await listImageTasks(cloud.image, img.id);
    expect(tasks[0]).toMatchObject({ type: 'api_image_import', status: 'success' });
  });

  it('an unsafe VMDK import fails: the image stays importing/queued, the task says why, the wait fails', async () => {
    // A flat descriptor whose extent is a host file: a plain PUT would accept it (see the recipe).
    const vmdk = join(dir, 'evil.vmdk');
    writeFileSync(
      vmdk,
      [
        '# Disk DescriptorFile',
        'version=1',
        'CID=fffffffe',
        'parentCID=ffffffff',
        'createType="monolithicFlat"',
        'RW 8 FLAT "/etc/passwd" 0',
        'ddb.adapterType = "lsilogic"',
        '',
      ].join('\n'),
    );
    const img = await createImage(cloud.image, { name: `${tag}-evil`, diskFormat: 'vmdk', tags: [tag] });
    await stageImageData(cloud.image, img.id, () => createReadStream(vmdk));
    await importImage(cloud.image, img.id);
    const err: ImageImportError = await waitForImport(cloud.image, img.id, { timeoutMs: 120_000 }).then(
      () => {
        throw new Error('the import succeeded');
      },
      (e: unknown) => e as ImageImportError,
    );
    expect(err).toBeInstanceOf(ImageImportError);
    expect(err.message).toMatch(/^import of image .* failed \(task .*\): /);
    expect(err.task?.status).toBe('failure');
    expect((await getImage(cloud.image, img.id)).status).not.toBe('active');
  });

  it('waits for active, deletes, and a deleted image is 404', async () => {
    const img = await createImage(cloud.image, { name: `${tag}-del`, diskFormat: 'raw', tags: [tag] });
    await uploadImageData(cloud.image, img.id, () => Readable.from([Buffer.alloc(4096, 7)]));
    await waitForImageStatus(cloud.image, img.id, 'active', { timeoutMs: 30_000 });
    await deleteImage(cloud.image, img.id);
    const err = await getImage(cloud.image, img.id).catch((e) => e);
    expect(isStatus(err, 404)).toBe(true);
    await deleteImage(cloud.image, img.id, { ignoreMissing: true });
  });
});
