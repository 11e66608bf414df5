// Keystone and configuration against the lab: clouds.yaml via OS_CLIENT_CONFIG_FILE/OS_CLOUD,
// token reuse and refresh, catalog lookup, and the bad-input errors as one line with a fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError } from '../../../src/cli/program.js';
import { ConfigError } from '../../../src/errors.js';
import type { Cloud } from '../../../src/openstack/cloud.js';
import { openCloud } from '../../../src/openstack/cloud.js';
import { listFlavors } from '../../../src/openstack/compute/flavors/requests.js';
import { loadCloudConfig } from '../../../src/openstack/config.js';
import { listImages } from '../../../src/openstack/image/images/requests.js';
import { labProcessEnv } from '../../helpers/lab-env.js';
import { openLab } from './helpers.js';

describe('identity against the lab', () => {
  let cloud: Cloud;
  beforeAll(async () => {
    cloud = await openLab();
  });
  afterAll(async () => cloud?.close());

  it('authenticates the demo user in the demo project and finds every endpoint', async () => {
    const t = await cloud.identity.authenticate();
    expect(t.project?.name).toBe('demo');
    expect(t.roles).toContain('member');
    // Ports follow the lab's (V2O_LAB_OS_PORT_OFFSET may move them); the paths are the catalog's.
    expect(cloud.compute.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2\.1$/);
    expect(cloud.image.endpoint).toMatch(/:\d+\/v2$/);
    expect(cloud.volume.endpoint).toMatch(new RegExp(`/v3/${t.project!.id}$`));
    expect(cloud.network.endpoint).toMatch(/\/v2\.0$/);
    // negotiated from the version documents (lab: compute 2.93, volume 3.70)
    expect(cloud.compute.microversion).toBe('2.79');
    expect(cloud.volume.microversion).toBe('3.60');
  });

  it('reuses its token across calls', async () => {
    const before = cloud.identity.issued;
    await listFlavors(cloud.compute);
    await listFlavors(cloud.compute);
    expect(cloud.identity.issued).toBe(before);
  });

  it('re-issues the token once when a service answers 401 (token revoked behind its back)', async () => {
    // A fresh client that only Glance will see: services cache token validations, so the revoke
    // must happen before Glance ever saw the token.
    const fresh = await openLab('demo', ['image']);
    const admin = await openLab('admin', []);
    try {
      const t = await fresh.identity.token();
      await admin.identityClient.request('DELETE', `${admin.identityClient.endpoint}/auth/tokens`, {
        okCodes: [204],
        headers: { 'X-Subject-Token': t },
      });
      expect(fresh.identity.issued).toBe(1);
      await listImages(fresh.image, { limit: 1 });
      expect(fresh.identity.issued).toBe(2);
      expect(await fresh.identity.token()).not.toBe(t);
    } finally {
      await fresh.close();
      await admin.close();
    }
  });

  function oneLineFix(err: unknown, pattern: RegExp): void {
    expect(err).toBeInstanceOf(ConfigError);
    const f = formatError(err, false);
    expect(f.exitCode).toBe(2);
    const lines = f.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(pattern);
    expect(lines[1]).toMatch(/^ {2}fix: /);
  }

  it('wrong password → ConfigError naming the user, without the password', async () => {
    const cfg = loadCloudConfig({ env: { ...labProcessEnv(), OS_PASSWORD: 'definitely-wrong' } });
    const err = await openCloud(cfg).catch((e) => e);
    oneLineFix(err, /Keystone \(v2o-lab\) rejected the credentials of user 'demo' for 'demo' \(401/);
    expect(formatError(err, false).message).not.toContain('definitely-wrong');
  });

  it('unknown cloud name → ConfigError listing the clouds', () => {
    let err: unknown;
    try {
      loadCloudConfig({ env: { ...labProcessEnv(), OS_CLOUD: 'no-such-cloud' } });
    } catch (e) {
      err = e;
    }
    oneLineFix(err, /cloud 'no-such-cloud' is not in .*clouds\.yaml \(it has: v2o-lab, v2o-lab-admin\)/);
  });

  it('missing endpoint (region not in the catalog) → ConfigError with what the catalog has', async () => {
    const cfg = loadCloudConfig({ env: { ...labProcessEnv(), OS_REGION_NAME: 'Atlantis' } });
    const err = await openCloud(cfg).catch((e) => e);
    oneLineFix(
      err,
      /has no 'image' endpoint \(interface public, region Atlantis\); it has: .*compute \(.*public@RegionOne/,
    );
  });

  it('TLS spoken to a plain-HTTP Keystone → ConfigError', async () => {
    const cfg = loadCloudConfig({ env: { ...labProcessEnv(), OS_AUTH_URL: 'https://127.0.0.1:5000/v3' } });
    const err = await openCloud(cfg, { connectTimeoutMs: 3000 }).catch((e) => e);
    oneLineFix(err, /^error: TLS to 127\.0\.0\.1:5000 failed/);
    expect(err.hint).toMatch(/use http:\/\//);
  });
});
