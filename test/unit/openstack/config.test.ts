import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatError } from '../../../src/cli/program.js';
import { ConfigError } from '../../../src/errors.js';
import { loadCloudConfig, redactCloudConfig } from '../../../src/openstack/config.js';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'v2o-os-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const CLOUDS = `
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
    compute_endpoint_override: http://nova.example/v2.1
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.example/v3
      application_credential_id: ac1
      application_credential_secret: acsecret
    verify: false
`;
const SECURE = `
clouds:
  lab:
    auth:
      password: from-secure
`;

describe('loadCloudConfig', () => {
  it('merges secure.yaml into the cloud named by OS_CLOUD from OS_CLIENT_CONFIG_FILE', () => {
    const d = dir({ 'c/clouds.yaml': CLOUDS, 'c/secure.yaml': SECURE });
    const cfg = loadCloudConfig({
      env: { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: join(d, 'c/clouds.yaml') },
      cwd: join(d, 'c'),
      home: d,
    });
    expect(cfg).toMatchObject({
      name: 'lab',
      authType: 'password',
      interface: 'internal',
      regionName: 'RegionOne',
      insecure: false,
      endpointOverrides: { compute: 'http://nova.example/v2.1' },
      auth: { username: 'demo', password: 'from-secure', projectName: 'demo', userDomainName: 'Default' },
    });
    expect(cfg.source).toContain('secure.yaml');
    expect(JSON.stringify(redactCloudConfig(cfg))).not.toContain('from-secure');
  });

  it('finds ~/.config/openstack/clouds.yaml and lets OS_* variables override the file', () => {
    const d = dir({ 'home/.config/openstack/clouds.yaml': CLOUDS });
    const cfg = loadCloudConfig({
      env: { OS_CLOUD: 'lab', OS_PASSWORD: 'from-env', OS_REGION_NAME: 'R2', OS_INTERFACE: 'publicURL' },
      cwd: join(d, 'nowhere'),
      home: join(d, 'home'),
    });
    expect(cfg.auth.password).toBe('from-env');
    expect(cfg.regionName).toBe('R2');
    expect(cfg.interface).toBe('public');
  });

  it('prefers ./clouds.yaml over the home directory one', () => {
    const d = dir({
      'cwd/clouds.yaml': CLOUDS.replace('username: demo', 'username: from-cwd'),
      'home/.config/openstack/clouds.yaml': CLOUDS,
    });
    const cfg = loadCloudConfig({
      env: { OS_CLOUD: 'lab', OS_PASSWORD: 'x' },
      cwd: join(d, 'cwd'),
      home: join(d, 'home'),
    });
    expect(cfg.auth.username).toBe('from-cwd');
  });

  it('reads application credentials and verify: false', () => {
    const d = dir({ 'clouds.yaml': CLOUDS });
    const cfg = loadCloudConfig({ cloud: 'appcred', env: {}, cwd: d, home: d });
    expect(cfg.authType).toBe('v3applicationcredential');
    expect(cfg.insecure).toBe(true);
    expect(cfg.auth).toMatchObject({
      applicationCredentialId: 'ac1',
      applicationCredentialSecret: 'acsecret',
    });
  });

  it('uses the OS_* variables alone when no cloud is named (openrc style)', () => {
    const cfg = loadCloudConfig({
      env: {
        OS_AUTH_URL: 'http://k:5000/v3',
        OS_USERNAME: 'u',
        OS_PASSWORD: 'p',
        OS_PROJECT_ID: 'pid',
        OS_USER_DOMAIN_NAME: 'Default',
        OS_INSECURE: 'true',
      },
      cwd: '/nonexistent',
      home: '/nonexistent',
    });
    expect(cfg).toMatchObject({
      name: 'envvars',
      insecure: true,
      auth: { projectId: 'pid', userDomainName: 'Default' },
    });
  });

  it('application credential from OS_APPLICATION_CREDENTIAL_ID/SECRET', () => {
    const cfg = loadCloudConfig({
      env: {
        OS_AUTH_URL: 'http://k/v3',
        OS_APPLICATION_CREDENTIAL_ID: 'id1',
        OS_APPLICATION_CREDENTIAL_SECRET: 's',
      },
      cwd: '/nonexistent',
      home: '/nonexistent',
    });
    expect(cfg.authType).toBe('v3applicationcredential');
  });

  it('an unknown cloud name is a ConfigError listing the known clouds, exit 2 through formatError', () => {
    const d = dir({ 'clouds.yaml': CLOUDS });
    let err: unknown;
    try {
      loadCloudConfig({ env: { OS_CLOUD: 'nope' }, cwd: d, home: d });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const f = formatError(err, false);
    expect(f.exitCode).toBe(2);
    expect(f.message).toMatch(
      /^error: cloud 'nope' is not in .*clouds\.yaml \(it has: lab, appcred\)\n {2}fix: set OS_CLOUD/,
    );
    expect(f.message.split('\n')).toHaveLength(2);
  });

  it('nothing configured, missing password, bad YAML and a missing cacert are ConfigErrors with a fix', () => {
    const none = () => loadCloudConfig({ env: {}, cwd: '/nonexistent', home: '/nonexistent' });
    expect(none).toThrow(/OS_CLOUD and OS_AUTH_URL are both unset/);
    const d = dir({ 'clouds.yaml': CLOUDS, 'bad/clouds.yaml': 'clouds: [1, 2' });
    expect(() => loadCloudConfig({ env: { OS_CLOUD: 'lab' }, cwd: d, home: d })).toThrow(
      /has no password for user 'demo'/,
    );
    expect(() => loadCloudConfig({ env: { OS_CLOUD: 'lab' }, cwd: join(d, 'bad'), home: d })).toThrow(
      ConfigError,
    );
    expect(() =>
      loadCloudConfig({
        env: { OS_CLOUD: 'lab', OS_PASSWORD: 'p', OS_CACERT: '/nonexistent/ca.pem' },
        cwd: d,
        home: d,
      }),
    ).toThrow(/cacert \/nonexistent\/ca.pem .* does not exist/);
  });
});
