// Which cloud to talk to and how, resolved like the openstack CLI does: clouds.yaml (+ secure.yaml)
// from OS_CLIENT_CONFIG_FILE or the standard locations, the cloud named by OS_CLOUD, and OS_* variables
// (which, as with the CLI's --os-* defaults, override the named cloud's values).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface CloudAuth {
  authUrl: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  /** Domain scope (a domain token) when no project is given. */
  domainName?: string;
  domainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
}

export interface CloudConfig {
  /** The cloud's name in clouds.yaml, or 'envvars' when only OS_* variables were used. */
  name: string;
  authType: 'password' | 'v3applicationcredential';
  auth: CloudAuth;
  regionName?: string;
  interface: EndpointInterface;
  /** PEM bundle to trust for TLS (cacert / OS_CACERT). */
  cacert?: string;
  /** Skip TLS verification (verify: false / OS_INSECURE=true). Test clouds only. */
  insecure: boolean;
  /** Endpoint overrides by catalog service type (`compute_endpoint_override` ...). */
  endpointOverrides: Record<string, string>;
  /** Where it came from (file paths or 'environment'), for messages. */
  source: string;
}

export interface LoadCloudConfigOptions {
  /** Cloud name; defaults to OS_CLOUD. */
  cloud?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

const authSchema = z.looseObject({
  auth_url: z.string().optional(),
  username: z.string().optional(),
  user_id: z.string().optional(),
  password: z.union([z.string(), z.number()]).optional(),
  user_domain_name: z.string().optional(),
  user_domain_id: z.string().optional(),
  project_name: z.string().optional(),
  project_id: z.string().optional(),
  tenant_name: z.string().optional(),
  tenant_id: z.string().optional(),
  project_domain_name: z.string().optional(),
  project_domain_id: z.string().optional(),
  domain_name: z.string().optional(),
  domain_id: z.string().optional(),
  default_domain: z.string().optional(),
  application_credential_id: z.string().optional(),
  application_credential_name: z.string().optional(),
  application_credential_secret: z.union([z.string(), z.number()]).optional(),
});

const boolish = z.union([z.boolean(), z.string()]).optional();

const cloudSchema = z.looseObject({
  auth: authSchema.optional(),
  auth_type: z.string().optional(),
  region_name: z.string().optional(),
  interface: z.string().optional(),
  endpoint_type: z.string().optional(),
  cacert: z.string().optional(),
  verify: boolish,
  insecure: boolish,
  identity_api_version: z.union([z.string(), z.number()]).optional(),
});

const fileSchema = z.looseObject({
  clouds: z.record(z.string(), cloudSchema).optional(),
});

type RawCloud = z.infer<typeof cloudSchema>;

/** Where the CLI looks, in order (first file found wins). */
export function configSearchPath(kind: 'clouds' | 'secure', cwd: string, home: string): string[] {
  const dirs = [cwd, join(home, '.config', 'openstack'), '/etc/openstack'];
  return dirs.flatMap((d) => [join(d, `${kind}.yaml`), join(d, `${kind}.yml`)]);
}

/** Resolve the cloud to use. Throws ConfigError with a fix when it cannot. */
export function loadCloudConfig(opts: LoadCloudConfigOptions = {}): CloudConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? env.HOME ?? homedir();
  const cloudName = opts.cloud ?? nonEmpty(env.OS_CLOUD);

  let raw: RawCloud = {};
  let source = 'environment';
  let name = 'envvars';
  if (cloudName) {
    const cloudsFile = findFile(env.OS_CLIENT_CONFIG_FILE, configSearchPath('clouds', cwd, home));
    if (!cloudsFile) {
      throw new ConfigError(
        `cloud '${cloudName}' was asked for (OS_CLOUD) but no clouds.yaml was found (looked at ${
          env.OS_CLIENT_CONFIG_FILE ?? configSearchPath('clouds', cwd, home).join(', ')
        })`,
        {
          hint: 'set OS_CLIENT_CONFIG_FILE to your clouds.yaml, or put it in ~/.config/openstack/clouds.yaml',
        },
      );
    }
    const clouds = readClouds(cloudsFile);
    const secureFile = findFile(env.OS_CLIENT_SECURE_FILE, configSearchPath('secure', cwd, home));
    const secure = secureFile ? readClouds(secureFile) : {};
    const base = clouds[cloudName];
    if (!base) {
      const known = Object.keys(clouds);
      throw new ConfigError(
        `cloud '${cloudName}' is not in ${cloudsFile} (it has: ${known.length ? known.join(', ') : 'no clouds'})`,
        {
          hint: known.length
            ? `set OS_CLOUD (or --cloud) to one of: ${known.join(', ')}`
            : `add a 'clouds: ${cloudName}:' entry to ${cloudsFile}`,
        },
      );
    }
    raw = deepMerge(base, secure[cloudName] ?? {}) as RawCloud;
    source = secureFile && secure[cloudName] ? `${cloudsFile} + ${secureFile}` : cloudsFile;
    name = cloudName;
  }

  const a = raw.auth ?? {};
  const str = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
  // OS_* variables win over the file, as the CLI's argparse defaults do.
  const pick = (envKey: string, fileVal: unknown) => nonEmpty(env[envKey]) ?? str(fileVal);
  const auth: CloudAuth = {
    authUrl: pick('OS_AUTH_URL', a.auth_url) ?? '',
    username: pick('OS_USERNAME', a.username),
    userId: pick('OS_USER_ID', a.user_id),
    password: pick('OS_PASSWORD', a.password),
    userDomainName: pick('OS_USER_DOMAIN_NAME', a.user_domain_name),
    userDomainId: pick('OS_USER_DOMAIN_ID', a.user_domain_id),
    projectName: pick('OS_PROJECT_NAME', a.project_name) ?? pick('OS_TENANT_NAME', a.tenant_name),
    projectId: pick('OS_PROJECT_ID', a.project_id) ?? pick('OS_TENANT_ID', a.tenant_id),
    projectDomainName: pick('OS_PROJECT_DOMAIN_NAME', a.project_domain_name),
    projectDomainId: pick('OS_PROJECT_DOMAIN_ID', a.project_domain_id),
    domainName: pick('OS_DOMAIN_NAME', a.domain_name),
    domainId: pick('OS_DOMAIN_ID', a.domain_id),
    applicationCredentialId: pick('OS_APPLICATION_CREDENTIAL_ID', a.application_credential_id),
    applicationCredentialName: pick('OS_APPLICATION_CREDENTIAL_NAME', a.application_credential_name),
    applicationCredentialSecret: pick('OS_APPLICATION_CREDENTIAL_SECRET', a.application_credential_secret),
  };
  // default_domain fills both domains when neither is given (keystoneauth's behaviour).
  const defaultDomain = pick('OS_DEFAULT_DOMAIN', a.default_domain);
  if (defaultDomain) {
    if (!auth.userDomainName && !auth.userDomainId) auth.userDomainId = defaultDomain;
    if (!auth.projectDomainName && !auth.projectDomainId) auth.projectDomainId = defaultDomain;
  }

  const authTypeRaw = (pick('OS_AUTH_TYPE', raw.auth_type) ?? '').toLowerCase();
  let authType: CloudConfig['authType'];
  if (
    ['v3applicationcredential', 'applicationcredential', 'v3_application_credential'].includes(authTypeRaw)
  ) {
    authType = 'v3applicationcredential';
  } else if (['', 'password', 'v3password'].includes(authTypeRaw)) {
    authType = auth.applicationCredentialSecret && !auth.password ? 'v3applicationcredential' : 'password';
  } else {
    throw new ConfigError(`auth_type '${authTypeRaw}' of cloud '${name}' is not supported`, {
      hint: 'use auth_type password or v3applicationcredential',
    });
  }

  const where = name === 'envvars' ? 'the OS_* variables' : `cloud '${name}' (${source})`;
  if (!auth.authUrl) {
    throw new ConfigError(
      name === 'envvars'
        ? 'no OpenStack cloud is configured: OS_CLOUD and OS_AUTH_URL are both unset'
        : `${where} has no auth.auth_url`,
      {
        hint:
          name === 'envvars'
            ? 'set OS_CLOUD to a cloud in clouds.yaml, or source an openrc file (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME ...)'
            : `add auth.auth_url (the Keystone URL, e.g. https://keystone.example:5000/v3) to cloud '${name}'`,
      },
    );
  }
  try {
    const u = new URL(auth.authUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch (cause) {
    throw new ConfigError(`auth_url '${auth.authUrl}' of ${where} is not an http(s) URL`, {
      cause,
      hint: 'set auth_url to the Keystone URL, e.g. https://keystone.example:5000/v3',
    });
  }
  if (authType === 'password') {
    if (!auth.username && !auth.userId) {
      throw new ConfigError(`${where} has no username`, { hint: 'set auth.username (or OS_USERNAME)' });
    }
    if (!auth.password) {
      throw new ConfigError(`${where} has no password for user '${auth.username ?? auth.userId}'`, {
        hint: 'set auth.password in clouds.yaml or secure.yaml, or OS_PASSWORD',
      });
    }
    // Keystone needs a domain for a user name; 'default' is what every single-domain cloud uses.
    if (auth.username && !auth.userId && !auth.userDomainName && !auth.userDomainId)
      auth.userDomainId = 'default';
    if (auth.projectName && !auth.projectId && !auth.projectDomainName && !auth.projectDomainId) {
      auth.projectDomainId = auth.userDomainId ?? 'default';
      if (auth.userDomainName) {
        auth.projectDomainId = undefined;
        auth.projectDomainName = auth.userDomainName;
      }
    }
  } else {
    if (!auth.applicationCredentialSecret) {
      throw new ConfigError(`${where} uses an application credential but has no secret`, {
        hint: 'set auth.application_credential_secret (or OS_APPLICATION_CREDENTIAL_SECRET)',
      });
    }
    if (
      !auth.applicationCredentialId &&
      !(auth.applicationCredentialName && (auth.username || auth.userId))
    ) {
      throw new ConfigError(`${where} needs application_credential_id (or a name and the user)`, {
        hint: 'set auth.application_credential_id (or OS_APPLICATION_CREDENTIAL_ID)',
      });
    }
    if (auth.applicationCredentialName && auth.username && !auth.userDomainName && !auth.userDomainId) {
      auth.userDomainId = 'default';
    }
  }

  const ifaceRaw = (pick('OS_INTERFACE', raw.interface ?? raw.endpoint_type) ?? 'public').toLowerCase();
  const iface = ifaceRaw.replace(/url$/, '');
  if (!['public', 'internal', 'admin'].includes(iface)) {
    throw new ConfigError(`interface '${ifaceRaw}' of ${where} is not public, internal or admin`, {
      hint: 'set interface (or OS_INTERFACE) to public, internal or admin',
    });
  }

  const insecureEnv = nonEmpty(env.OS_INSECURE);
  let insecure = false;
  if (insecureEnv !== undefined) insecure = truthy(insecureEnv);
  else if (raw.insecure !== undefined) insecure = truthy(raw.insecure);
  else if (raw.verify !== undefined) insecure = !truthy(raw.verify);

  const cacertRaw = pick('OS_CACERT', raw.cacert);
  const cacert = cacertRaw ? resolve(cwd, cacertRaw.replace(/^~(?=\/)/, home)) : undefined;
  if (cacert && !existsSync(cacert)) {
    throw new ConfigError(`cacert ${cacert} of ${where} does not exist`, {
      hint: 'point cacert (or OS_CACERT) at the PEM bundle of the CA that signed the cloud’s certificates',
    });
  }

  const endpointOverrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const m = /^([a-z0-9_-]+)_endpoint_override$/.exec(k);
    if (m && typeof v === 'string') endpointOverrides[m[1]!.replace(/_/g, '-')] = v;
  }

  return {
    name,
    authType,
    auth,
    regionName: pick('OS_REGION_NAME', raw.region_name),
    interface: iface as EndpointInterface,
    cacert,
    insecure,
    endpointOverrides,
    source,
  };
}

/** A copy safe to log or show: secrets replaced. */
export function redactCloudConfig(c: CloudConfig): CloudConfig {
  return {
    ...c,
    auth: {
      ...c.auth,
      password: c.auth.password ? '***' : undefined,
      applicationCredentialSecret: c.auth.applicationCredentialSecret ? '***' : undefined,
    },
  };
}

function readClouds(file: string): Record<string, RawCloud> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`cannot read ${file}: ${(cause as Error).message.split('\n')[0]}`, {
      cause,
      hint: 'fix the YAML syntax (clouds: <name>: auth: ...)',
    });
  }
  const parsed = fileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${file} is not a valid clouds.yaml: ${issue?.path.join('.')}: ${issue?.message}`, {
      hint: 'see https://docs.openstack.org/openstacksdk/latest/user/config/configuration.html',
    });
  }
  return parsed.data.clouds ?? {};
}

function findFile(explicit: string | undefined, candidates: string[]): string | undefined {
  if (nonEmpty(explicit)) {
    if (!existsSync(explicit!)) {
      throw new ConfigError(`${explicit} does not exist`, {
        hint: 'fix OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE or unset it to use the standard locations',
      });
    }
    return explicit;
  }
  return candidates.find((f) => existsSync(f));
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (!isPlain(a) || !isPlain(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v));
}
