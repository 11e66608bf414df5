// OpenStackTarget over nock: the raw Nova/Cinder limits documents become the plan's remaining amounts
// (max − used, unlimited = undefined), and disabled flavors are not offered to planning.
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackTarget } from '../../../src/migration/target-openstack.js';
import { openCloud } from '../../../src/openstack/cloud.js';
import {
  CINDER,
  mockAuth,
  mockVersions,
  NEUTRON,
  NOVA,
  noSleep,
  PROJECT_ID,
  testConfig,
} from '../openstack/fixtures.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

async function target(): Promise<OpenStackTarget> {
  mockAuth(1);
  mockVersions();
  return new OpenStackTarget(await openCloud(testConfig(), { sleep: noSleep }));
}

describe('OpenStackTarget', () => {
  it('quota: what is left of each limit; -1 (unlimited) and absent limits are undefined', async () => {
    const t = await target();
    const scope = nock(NOVA)
      .get('/v2.1/limits')
      .reply(200, {
        limits: {
          absolute: {
            maxTotalInstances: 10,
            totalInstancesUsed: 10,
            maxTotalCores: -1,
            totalCoresUsed: 5,
            maxTotalRAMSize: 8192,
            totalRAMUsed: 1024,
          },
        },
      });
    const cinder = nock(CINDER)
      .get(`/v3/${PROJECT_ID}/limits`)
      .reply(200, {
        limits: { absolute: { maxTotalVolumes: 4, totalVolumesUsed: 5, maxTotalVolumeGigabytes: 1000 } },
      });
    expect(await t.quota()).toEqual({
      instances: 0,
      cores: undefined,
      ramMiB: 7168,
      volumes: 0,
      volumeGiB: 1000,
    });
    expect(scope.isDone() && cinder.isDone()).toBe(true);
  });

  it('quota without Cinder limits still reports Nova’s', async () => {
    const t = await target();
    const scope = nock(NOVA)
      .get('/v2.1/limits')
      .reply(200, { limits: { absolute: { maxTotalCores: 20, totalCoresUsed: 18 } } });
    const cinder = nock(CINDER)
      .get(`/v3/${PROJECT_ID}/limits`)
      .reply(403, { forbidden: { message: 'no' } });
    expect(await t.quota()).toEqual({
      instances: undefined,
      cores: 2,
      ramMiB: undefined,
      volumes: undefined,
      volumeGiB: undefined,
    });
    expect(scope.isDone() && cinder.isDone()).toBe(true);
  });

  it('listFlavors leaves out disabled flavors', async () => {
    const t = await target();
    const scope = nock(NOVA)
      .get('/v2.1/flavors/detail')
      .query({ is_public: 'None' })
      .reply(200, {
        flavors: [
          { id: 'f1', name: 'win.small', vcpus: 2, ram: 4096, disk: 60 },
          { id: 'f2', name: 'old', vcpus: 2, ram: 4096, disk: 60, 'OS-FLV-DISABLED:disabled': true },
        ],
      });
    expect(await t.listFlavors()).toEqual([
      { id: 'f1', name: 'win.small', vcpus: 2, ramMiB: 4096, diskGiB: 60 },
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it('addressesInUse: one listing of ids and fixed IPs, every address to its port', async () => {
    const t = await target();
    const scope = nock(NEUTRON)
      .get('/v2.0/ports')
      .query({ fields: ['id', 'fixed_ips'] })
      .reply(200, {
        ports: [
          { id: 'p1', fixed_ips: [{ subnet_id: 's1', ip_address: '192.0.2.41' }] },
          {
            id: 'p2',
            fixed_ips: [
              { subnet_id: 's1', ip_address: '192.0.2.100' },
              { subnet_id: 's6', ip_address: '2001:db8::5' },
            ],
          },
        ],
      });
    expect(await t.addressesInUse()).toEqual({
      '192.0.2.41': 'p1',
      '192.0.2.100': 'p2',
      '2001:db8::5': 'p2',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('createPort sends every fixed IP and the allowed address pairs', async () => {
    const t = await target();
    const scope = nock(NEUTRON)
      .post('/v2.0/ports', {
        port: {
          network_id: 'net-1',
          admin_state_up: true,
          name: 'vm-nic-0',
          description: 'v2o-run-r1',
          mac_address: '00:50:56:a1:30:01',
          fixed_ips: [
            { subnet_id: 'sub-1', ip_address: '192.0.2.41' },
            { subnet_id: 'sub-1', ip_address: '192.0.2.42' },
          ],
          allowed_address_pairs: [{ ip_address: '172.16.5.9' }],
        },
      })
      .reply(201, {
        port: {
          id: 'p1',
          name: 'vm-nic-0',
          network_id: 'net-1',
          mac_address: '00:50:56:a1:30:01',
          fixed_ips: [
            { subnet_id: 'sub-1', ip_address: '192.0.2.41' },
            { subnet_id: 'sub-1', ip_address: '192.0.2.42' },
          ],
          allowed_address_pairs: [{ ip_address: '172.16.5.9', mac_address: '00:50:56:a1:30:01' }],
        },
      })
      .put('/v2.0/ports/p1/tags', { tags: ['v2o', 'v2o-run-r1'] })
      .reply(200, { tags: ['v2o', 'v2o-run-r1'] });
    const p = await t.createPort({
      name: 'vm-nic-0',
      networkId: 'net-1',
      macAddress: '00:50:56:a1:30:01',
      fixedIps: [
        { subnetId: 'sub-1', ipAddress: '192.0.2.41' },
        { subnetId: 'sub-1', ipAddress: '192.0.2.42' },
      ],
      allowedAddressPairs: [{ ipAddress: '172.16.5.9' }],
      tags: ['v2o', 'v2o-run-r1'],
    });
    expect(p.fixedIps.map((f) => f.ipAddress)).toEqual(['192.0.2.41', '192.0.2.42']);
    expect(p.allowedAddressPairs).toEqual([{ ipAddress: '172.16.5.9' }]);
    expect(scope.isDone()).toBe(true);
  });
});
