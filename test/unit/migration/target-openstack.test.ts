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
});
