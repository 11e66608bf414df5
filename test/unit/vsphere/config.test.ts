import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { normalizeThumbprint, parseVSphereUrl, vsphereConfigFromEnv } from '../../../src/vsphere/config.js';

describe('vSphere config from govc variables', () => {
  it('parses GOVC_URL with credentials, default scheme and /sdk', () => {
    const p = parseVSphereUrl('admin%40vsphere.local:p%40ss@vc.example.com');
    expect(p.url.href).toBe('https://vc.example.com/sdk');
    expect(p.username).toBe('admin@vsphere.local');
    expect(p.password).toBe('p@ss');
    expect(parseVSphereUrl('https://10.0.0.1:8443/sdk').url.href).toBe('https://10.0.0.1:8443/sdk');
  });

  it('takes flags over variables, the password only from the environment, and normalizes pins', async () => {
    const c = await vsphereConfigFromEnv(
      {
        GOVC_URL: 'https://u:urlpass@vc.example.com/sdk',
        GOVC_USERNAME: 'envuser',
        GOVC_PASSWORD: 'envpass',
        GOVC_INSECURE: '1',
        GOVC_TLS_CA_CERTS: '/a.pem:/b.pem',
        GOVC_THUMBPRINT: `${'AB:'.repeat(31)}AB`,
      },
      { username: 'flaguser' },
    );
    expect(c.username).toBe('flaguser');
    expect(c.password).toBe('envpass');
    expect(c.insecure).toBe(true);
    expect(c.caFiles).toEqual(['/a.pem', '/b.pem']);
    expect(c.thumbprint).toBe('ab'.repeat(32));
    expect(c.url.username).toBe('');
  });

  it('asks the prompt when no password is set, and fails with a hint without one', async () => {
    const env = { GOVC_URL: 'vc', GOVC_USERNAME: 'u' };
    const c = await vsphereConfigFromEnv(env, {}, async () => 'typed');
    expect(c.password).toBe('typed');
    await expect(vsphereConfigFromEnv(env)).rejects.toMatchObject({ name: 'ConfigError', exitCode: 2 });
    await expect(vsphereConfigFromEnv({})).rejects.toBeInstanceOf(ConfigError);
  });

  it('rejects malformed thumbprints', () => {
    expect(() => normalizeThumbprint('zz')).toThrow(ConfigError);
    expect(normalizeThumbprint('aa'.repeat(20))).toHaveLength(40);
  });
});
