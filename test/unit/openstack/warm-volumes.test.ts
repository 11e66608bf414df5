// The target side of warm migration: blank bootable volumes in an AZ, os-extend at 3.42, attach and
// detach through Nova with waits, and the conversion host found by the metadata service or by name.
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { OpenStackTarget } from '../../../src/migration/target-openstack.js';
import { openCloud } from '../../../src/openstack/cloud.js';
import { MetadataServiceError } from '../../../src/openstack/metadata/instance/requests.js';
import { CINDER, mockAuth, mockVersions, NOVA, noSleep, PROJECT_ID, testConfig } from './fixtures.js';
import {
  actionPath,
  attachedTo,
  HOST_ID,
  META_DATA,
  server,
  VOL_ID,
  volPath,
  volume,
} from './volume-fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

const MD_URL = 'http://169.254.169.254/openstack/latest/meta_data.json';

async function target() {
  mockAuth(1);
  mockVersions();
  return new OpenStackTarget(await openCloud(testConfig(), { sleep: noSleep }));
}

describe('warm-migration volumes', () => {
  it('creates a blank bootable volume in the AZ and reports encrypted, bootable, AZ, attachments', async () => {
    const t = await target();
    const scope = nock(CINDER)
      .post(`/v3/${PROJECT_ID}/volumes`, {
        volume: {
          size: 2,
          name: 'c-test-disk0',
          volume_type: 'encrypted-luks',
          availability_zone: 'az-2',
          metadata: { v2o_run: 'r1', v2o_disk: '2000' },
        },
      })
      .reply(202, volume({ status: 'creating', size: 2 }))
      .get(volPath())
      .reply(200, volume({ size: 2, encrypted: true }))
      .post(actionPath(), { 'os-set_bootable': { bootable: true } })
      .reply(200)
      .get(volPath())
      .reply(200, volume({ size: 2, encrypted: true, bootable: 'true' }));
    const v = await t.createEmptyVolume({
      name: 'c-test-disk0',
      sizeGiB: 2,
      volumeType: 'encrypted-luks',
      availabilityZone: 'az-2',
      bootable: true,
      metadata: { v2o_run: 'r1', v2o_disk: '2000' },
    });
    expect(v).toMatchObject({
      id: VOL_ID,
      sizeGiB: 2,
      encrypted: true,
      bootable: true,
      availabilityZone: 'az-2',
      attachedServerIds: [],
    });
    expect(scope.isDone()).toBe(true);
  });

  it('extends with os-extend at microversion 3.42 and waits until the size shows', async () => {
    const t = await target();
    const scope = nock(CINDER)
      .get(volPath())
      .reply(200, volume({ status: 'in-use', size: 1, attachments: attachedTo(HOST_ID) }))
      .post(actionPath(), { 'os-extend': { new_size: 3 } })
      .matchHeader('openstack-api-version', 'volume 3.42')
      .reply(202)
      .get(volPath())
      .reply(200, volume({ status: 'in-use', size: 3, attachments: attachedTo(HOST_ID) }));
    await t.extendVolume(VOL_ID, 3);
    expect(scope.isDone()).toBe(true);
  });

  it('does not extend a volume that is already that size', async () => {
    const t = await target();
    const scope = nock(CINDER)
      .get(volPath())
      .reply(200, volume({ size: 3 }));
    await t.extendVolume(VOL_ID, 3);
    expect(scope.isDone()).toBe(true);
  });

  it('attaches through os-volume_attachments and waits for in-use; an existing attachment is not made again', async () => {
    const t = await target();
    const cinder = nock(CINDER)
      .get(volPath())
      .reply(200, volume())
      .get(volPath())
      .reply(200, volume({ status: 'in-use', attachments: attachedTo(HOST_ID) }))
      .get(volPath())
      .reply(200, volume({ status: 'in-use', attachments: attachedTo(HOST_ID) }))
      .get(volPath())
      .reply(200, volume({ status: 'in-use', attachments: attachedTo(HOST_ID) }));
    const nova = nock(NOVA)
      .post(`/v2.1/servers/${HOST_ID}/os-volume_attachments`, { volumeAttachment: { volumeId: VOL_ID } })
      .once()
      .reply(200, {
        volumeAttachment: { id: VOL_ID, volumeId: VOL_ID, serverId: HOST_ID, device: '/dev/vdb' },
      });
    await t.attachVolume(HOST_ID, VOL_ID);
    await t.attachVolume(HOST_ID, VOL_ID); // a resume: no second POST (nock would refuse it)
    expect(cinder.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });

  it('detaches and waits for available; a volume not attached there is left alone', async () => {
    const t = await target();
    const cinder = nock(CINDER)
      .get(volPath())
      .reply(200, volume({ status: 'in-use', attachments: attachedTo(HOST_ID) }))
      .get(volPath())
      .reply(200, volume())
      .get(volPath())
      .reply(200, volume());
    const nova = nock(NOVA).delete(`/v2.1/servers/${HOST_ID}/os-volume_attachments/${VOL_ID}`).reply(202);
    await t.detachVolume(HOST_ID, VOL_ID);
    await t.detachVolume(HOST_ID, VOL_ID);
    expect(cinder.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });
});

describe('findConversionHost', () => {
  it('auto: the metadata service names this server; its AZ and attached volumes come from Nova', async () => {
    const t = await target();
    const md = nock('http://169.254.169.254').get('/openstack/latest/meta_data.json').reply(200, META_DATA);
    const nova = nock(NOVA)
      .get(`/v2.1/servers/${HOST_ID}`)
      .reply(200, server())
      .get(`/v2.1/servers/${HOST_ID}/os-volume_attachments`)
      .reply(200, {
        volumeAttachments: [{ id: VOL_ID, volumeId: VOL_ID, serverId: HOST_ID, device: '/dev/vdb' }],
      });
    expect(await t.findConversionHost({ server: 'auto', metadataUrl: MD_URL })).toEqual({
      id: HOST_ID,
      name: 'v2o-conversion-host',
      availabilityZone: 'az-2',
      attachedVolumeIds: [VOL_ID],
    });
    expect(md.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });

  it('auto: a server the target project does not have is a ConfigError with the fix', async () => {
    const t = await target();
    const md = nock('http://169.254.169.254').get('/openstack/latest/meta_data.json').reply(200, META_DATA);
    const nova = nock(NOVA)
      .get(`/v2.1/servers/${HOST_ID}`)
      .reply(404, { itemNotFound: { code: 404, message: 'Instance could not be found.' } });
    const err = await t.findConversionHost({ server: 'auto', metadataUrl: MD_URL }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).hint).toMatch(/conversionHost\.server/);
    expect(md.isDone()).toBe(true);
    expect(nova.isDone()).toBe(true);
  });

  it('auto off OpenStack: the metadata service does not answer', async () => {
    const t = await target();
    const md = nock('http://169.254.169.254')
      .get('/openstack/latest/meta_data.json')
      .replyWithError('ECONNREFUSED');
    const err = await t.findConversionHost({ server: 'auto', metadataUrl: MD_URL }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetadataServiceError);
    expect((err as MetadataServiceError).hint).toMatch(/conversionHost\.server/);
    expect(md.isDone()).toBe(true);
  });

  it('by name: exactly one server of that name; none is a ConfigError', async () => {
    const t = await target();
    const nova = nock(NOVA)
      .get('/v2.1/servers/detail')
      .query(true)
      .reply(200, { servers: [server().server] })
      .get(`/v2.1/servers/${HOST_ID}/os-volume_attachments`)
      .reply(200, { volumeAttachments: [] })
      .get('/v2.1/servers/detail')
      .query(true)
      .reply(200, { servers: [] });
    expect(await t.findConversionHost({ server: 'v2o-conversion-host', metadataUrl: MD_URL })).toMatchObject({
      id: HOST_ID,
      attachedVolumeIds: [],
    });
    const err = await t.findConversionHost({ server: 'nope', metadataUrl: MD_URL }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(nova.isDone()).toBe(true);
  });
});
