// Helpers for integration tests against the OpenStack lab (test/lab/openstack): the lab's
// clouds from clouds.yaml, a plain Keystone token with its catalog, and a reset of the demo
// project. Deliberately independent of src/openstack, so the lab can be checked on its own.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { labEnv } from './lab-env.js';

export interface LabCloud {
  name: string;
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string;
}

interface CatalogEndpoint {
  interface: string;
  region_id: string;
  url: string;
}

export interface LabToken {
  token: string;
  projectId: string;
  roles: string[];
  catalog: { type: string; name: string; endpoints: CatalogEndpoint[] }[];
}

/** A cloud of the lab's clouds.yaml; default: OS_CLOUD from .lab/lab.env (demo user, demo project). */
export function labCloud(name?: string): LabCloud {
  const env = labEnv();
  const cloudName = name ?? env.OS_CLOUD;
  const file = env.OS_CLIENT_CONFIG_FILE;
  if (!cloudName || !file) throw new Error('OS_CLOUD/OS_CLIENT_CONFIG_FILE missing in .lab/lab.env');
  const doc = parse(readFileSync(file, 'utf8')) as {
    clouds: Record<string, { auth: Record<string, string>; region_name?: string }>;
  };
  const c = doc.clouds[cloudName];
  if (!c) throw new Error(`cloud ${cloudName} not in ${file}`);
  return {
    name: cloudName,
    authUrl: String(c.auth.auth_url).replace(/\/+$/, ''),
    username: String(c.auth.username),
    password: String(c.auth.password),
    projectName: String(c.auth.project_name),
    userDomainName: c.auth.user_domain_name ?? 'Default',
    projectDomainName: c.auth.project_domain_name ?? 'Default',
    regionName: c.region_name ?? 'RegionOne',
  };
}

/** The admin cloud of the lab (V2O_LAB_OS_ADMIN_CLOUD: admin user, admin project, admin role). */
export function labAdminCloud(): LabCloud {
  const name = labEnv().V2O_LAB_OS_ADMIN_CLOUD;
  if (!name) throw new Error('V2O_LAB_OS_ADMIN_CLOUD missing in .lab/lab.env');
  return labCloud(name);
}

/** POST /v3/auth/tokens with the cloud's password, scoped to its project. */
export async function labToken(cloud: LabCloud): Promise<LabToken> {
  const res = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: cloud.username, domain: { name: cloud.userDomainName }, password: cloud.password },
          },
        },
        scope: { project: { name: cloud.projectName, domain: { name: cloud.projectDomainName } } },
      },
    }),
  });
  if (res.status !== 201)
    throw new Error(`token issue for ${cloud.name}: HTTP ${res.status} ${await res.text()}`);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new Error('token issue: no X-Subject-Token header');
  const body = (await res.json()) as {
    token: { project: { id: string }; roles: { name: string }[]; catalog: LabToken['catalog'] };
  };
  return {
    token,
    projectId: body.token.project.id,
    roles: body.token.roles.map((r) => r.name),
    catalog: body.token.catalog,
  };
}

/** The public endpoint URL of a service type, from a token's catalog. */
export function labEndpoint(t: LabToken, type: string): string {
  const svc = t.catalog.find((s) => s.type === type);
  const ep = svc?.endpoints.find((e) => e.interface === 'public');
  if (!ep) throw new Error(`no public ${type} endpoint in the lab catalog`);
  return ep.url.replace(/\/+$/, '');
}

/**
 * Delete servers, ports, volume snapshots, volumes and images in the lab's demo project
 * (test/lab/openstack/reset.sh). Only this checkout's lab: it refuses anything but 127.0.0.1.
 * With `prefix`, only resources whose name starts with it (and the ports of those servers): prefer
 * that, as other test runs may use the shared lab at the same time. Returns the one-line summary.
 */
export function resetOpenStackLab(opts: { prefix?: string } = {}): string {
  const root = resolve(import.meta.dirname, '../..');
  // the same lab directory labEnv() reads
  const labDir = resolve(process.env.V2O_LAB_DIR ?? '.lab');
  const args = [resolve(root, 'test/lab/openstack/reset.sh')];
  if (opts.prefix !== undefined) {
    if (!opts.prefix)
      throw new Error('resetOpenStackLab: empty prefix; omit it to empty the whole demo project');
    args.push('--prefix', opts.prefix);
  }
  return execFileSync('bash', args, {
    env: { ...process.env, LAB_DIR: labDir, ROOT: root },
    encoding: 'utf8',
    timeout: 300_000,
  }).trim();
}
