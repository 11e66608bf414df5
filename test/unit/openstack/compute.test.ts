// Nova: server body builder, waiting (ERROR with the fault), microversions;
// plus the Cinder and Neutron pure builders and the volume error reason.
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  listVolumes,
  toVolumeCreateBody,
  VolumeError,
  waitForVolumeStatus,
} from '../../../src/openstack/block-storage/volumes/requests.js';
import { openCloud } from '../../../src/openstack/cloud.js';
import {
  ServerFaultError,
  toServerCreateBody,
  waitForServerStatus,
} from '../../../src/openstack/compute/servers/requests.js';
import { toPortCreateBody } from '../../../src/openstack/network/ports/requests.js';
import { CINDER, mockAuth, mockVersions, NOVA, noSleep, PROJECT_ID, testConfig } from './fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('toServerCreateBody', () => {
  it('boot from volume with ports, metadata, tags, AZ', () => {
    expect(
      toServerCreateBody({
        name: 'web01',
        flavorRef: 'f-bfv',
        blockDevices: [
          {
            sourceType: 'volume',
            destinationType: 'volume',
            uuid: 'vol-1',
            bootIndex: 0,
            deleteOnTermination: false,
          },
          { sourceType: 'blank', destinationType: 'volume', volumeSize: 10, bootIndex: -1, diskBus: 'scsi' },
        ],
        networks: [{ port: 'port-1' }, { uuid: 'net-2', fixedIp: '192.0.2.10' }],
        metadata: { v2o_run_id: 'r1' },
        tags: ['v2o', 'run-r1'],
        availabilityZone: 'nova',
        userData: 'hello',
      }),
    ).toEqual({
      server: {
        name: 'web01',
        flavorRef: 'f-bfv',
        block_device_mapping_v2: [
          {
            source_type: 'volume',
            destination_type: 'volume',
            uuid: 'vol-1',
            boot_index: 0,
            delete_on_termination: false,
          },
          {
            source_type: 'blank',
            destination_type: 'volume',
            volume_size: 10,
            boot_index: -1,
            disk_bus: 'scsi',
          },
        ],
        networks: [{ port: 'port-1' }, { uuid: 'net-2', fixed_ip: '192.0.2.10' }],
        metadata: { v2o_run_id: 'r1' },
        tags: ['v2o', 'run-r1'],
        availability_zone: 'nova',
        user_data: Buffer.from('hello').toString('base64'),
      },
    });
  });

  it('from an image with networks none; refuses what Nova would refuse', () => {
    expect(toServerCreateBody({ name: 'a', flavorRef: 'f', imageRef: 'i', networks: 'none' })).toEqual({
      server: { name: 'a', flavorRef: 'f', imageRef: 'i', networks: 'none' },
    });
    expect(() => toServerCreateBody({ name: 'a', flavorRef: 'f', networks: 'none' })).toThrow(ConfigError);
    expect(() =>
      toServerCreateBody({ name: 'a', flavorRef: 'f', imageRef: 'i', networks: 'none', tags: ['a/b'] }),
    ).toThrow(/server tag 'a\/b'/);
    expect(() =>
      toServerCreateBody({
        name: 'a',
        flavorRef: 'f',
        imageRef: 'i',
        networks: 'none',
        metadata: { k: 'x'.repeat(256) },
      }),
    ).toThrow(/longer than 255/);
  });
});

describe('waitForServerStatus', () => {
  it('ERROR carries the fault', async () => {
    const auth = mockAuth(1);
    mockVersions();
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    const scope = nock(NOVA)
      .get('/v2.1/servers/s1')
      .reply(200, { server: { id: 's1', name: 'w', status: 'BUILD', 'OS-EXT-STS:task_state': 'scheduling' } })
      .get('/v2.1/servers/s1')
      .reply(200, {
        server: {
          id: 's1',
          name: 'w',
          status: 'ERROR',
          fault: {
            code: 500,
            message: 'No valid host was found. There are not enough hosts available.',
            created: '2026-01-01T00:00:00Z',
          },
        },
      });
    const err = await waitForServerStatus(cloud.compute, 's1', 'ACTIVE', { sleep: noSleep }).catch((e) => e);
    expect(err).toBeInstanceOf(ServerFaultError);
    expect(err.message).toBe(
      'server s1 went to ERROR while waiting for ACTIVE: No valid host was found. There are not enough hosts available. (code 500)',
    );
    expect(err.fault.code).toBe(500);
    expect(err.hint).toMatch(/no compute host/);
    expect(scope.isDone() && auth.isDone()).toBe(true);
  });
});

describe('microversions', () => {
  it('uses the service maximum when it is lower than wanted', async () => {
    mockAuth(1);
    mockVersions('2.60', '3.40');
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    expect(cloud.compute.microversion).toBe('2.60');
    expect(cloud.volume.microversion).toBe('3.40');
    expect(cloud.compute.withMicroversion('2.74').microversion).toBe('2.74');
    expect(cloud.compute.microversion).toBe('2.60');
  });

  it('a Nova older than 2.52 is a ConfigError', async () => {
    mockAuth(1);
    mockVersions('2.38');
    const err = await openCloud(testConfig(), { sleep: noSleep }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/supports microversions up to 2.38; v2o needs 2.52/);
  });
});

describe('Cinder and Neutron', () => {
  it('volume error status fails with Cinder’s user message', async () => {
    mockAuth(1);
    mockVersions();
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    const scope = nock(CINDER)
      .get(`/v3/${PROJECT_ID}/volumes/v1`)
      .reply(200, { volume: { id: 'v1', status: 'creating', size: 1 } })
      .get(`/v3/${PROJECT_ID}/volumes/v1`)
      .reply(200, { volume: { id: 'v1', status: 'error', size: 1 } })
      .get(`/v3/${PROJECT_ID}/messages`)
      .query({ resource_uuid: 'v1' })
      .reply(200, {
        messages: [{ user_message: 'create volume from image: image download failed.', created_at: '2026' }],
      });
    const err = await waitForVolumeStatus(cloud.volume, 'v1', 'available', { sleep: noSleep }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(VolumeError);
    expect(err.message).toBe(
      'volume v1 went to error while waiting for available: create volume from image: image download failed.',
    );
    expect(scope.isDone()).toBe(true);
  });

  it('lists by metadata on Cinder, or filters here when the cloud refuses the filter', async () => {
    mockAuth(1);
    mockVersions();
    const cloud = await openCloud(testConfig(), { sleep: noSleep });
    const vols = [
      { id: 'a', status: 'available', size: 1, metadata: { run: 'r1' } },
      { id: 'b', status: 'available', size: 1, metadata: { run: 'r2' } },
    ];
    const scope = nock(CINDER)
      .get(`/v3/${PROJECT_ID}/volumes/detail`)
      .query({ metadata: '{"run":"r1"}', limit: '200' })
      .reply(400, {
        badRequest: { code: 400, message: 'Invalid filters metadata are found in query options.' },
      })
      .get(`/v3/${PROJECT_ID}/volumes/detail`)
      .query({ limit: '200' })
      .reply(200, { volumes: vols });
    const found = await listVolumes(cloud.volume, { metadata: { run: 'r1' } });
    expect(found.map((v) => v.id)).toEqual(['a']);
    expect(scope.isDone()).toBe(true);
  });

  it('volume and port bodies', () => {
    expect(
      toVolumeCreateBody({ size: 40, imageRef: 'i', name: 'boot', metadata: { v2o_run_id: 'r' } }),
    ).toEqual({
      volume: { size: 40, imageRef: 'i', name: 'boot', metadata: { v2o_run_id: 'r' } },
    });
    expect(() => toVolumeCreateBody({ size: 0.5 })).toThrow(ConfigError);
    expect(
      toPortCreateBody({
        networkId: 'n',
        macAddress: '00-50-56-AB-CD-EF',
        fixedIps: [{ subnetId: 's', ipAddress: '192.0.2.5' }],
        description: 'v2o run r nic 0',
      }),
    ).toEqual({
      port: {
        network_id: 'n',
        admin_state_up: true,
        mac_address: '00:50:56:ab:cd:ef',
        fixed_ips: [{ subnet_id: 's', ip_address: '192.0.2.5' }],
        description: 'v2o run r nic 0',
      },
    });
    // Issue 13: every captured address, and outside ones as allowed address pairs.
    expect(
      toPortCreateBody({
        networkId: 'n',
        fixedIps: [
          { subnetId: 's', ipAddress: '192.0.2.41' },
          { subnetId: 's', ipAddress: '192.0.2.42' },
        ],
        allowedAddressPairs: [
          { ipAddress: '172.16.5.9' },
          { ipAddress: '172.16.5.10', macAddress: 'fa:16:3e:00:00:01' },
        ],
      }),
    ).toEqual({
      port: {
        network_id: 'n',
        admin_state_up: true,
        fixed_ips: [
          { subnet_id: 's', ip_address: '192.0.2.41' },
          { subnet_id: 's', ip_address: '192.0.2.42' },
        ],
        allowed_address_pairs: [
          { ip_address: '172.16.5.9' },
          { ip_address: '172.16.5.10', mac_address: 'fa:16:3e:00:00:01' },
        ],
      },
    });
    expect(toPortCreateBody({ networkId: 'n', allowedAddressPairs: [] })).toEqual({
      port: { network_id: 'n', admin_state_up: true },
    });
    expect(() => toPortCreateBody({ networkId: 'n', macAddress: '01:00:5e:00:00:01' })).toThrow(
      /not a unicast MAC/,
    );
  });
});
