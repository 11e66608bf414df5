// Connection settings from govc's variables (GOVC_URL, GOVC_USERNAME, GOVC_PASSWORD, GOVC_INSECURE,
// GOVC_TLS_CA_CERTS, GOVC_THUMBPRINT) and CLI flags. Flags win over variables.
import { ConfigError } from '../errors.js';
import { redactUrl } from '../redaction.js';

export interface VSphereConfig {
  /** SDK endpoint, e.g. https://vcenter.example.com/sdk (no credentials in it). */
  url: URL;
  username: string;
  /** Never logged. */
  password: string;
  /** Skip certificate verification (GOVC_INSECURE=1 / --insecure). */
  insecure?: boolean;
  /** PEM files with the CA (or the server certificate itself) to trust instead of the system store. */
  caFiles?: string[];
  /** Pinned certificate fingerprint: SHA-256 (64 hex digits) or SHA-1 (40), colons optional. */
  thumbprint?: string;
  /** Per-request timeout of SOAP calls (ms). Default 120 000. */
  requestTimeoutMs?: number;
}

export interface VSphereFlags {
  url?: string;
  username?: string;
  insecure?: boolean;
  caFile?: string;
  thumbprint?: string;
}

function truthy(v: string | undefined): boolean {
  return !!v && /^(1|true|yes|on)$/i.test(v.trim());
}

/** Parses GOVC_URL-style input: `host`, `host:port`, `https://user:pass@host/sdk` … */
export function parseVSphereUrl(input: string): { url: URL; username?: string; password?: string } {
  let s = input.trim();
  if (!s)
    throw new ConfigError('the vSphere URL is empty', {
      hint: 'set GOVC_URL or pass --url https://HOST/sdk',
    });
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `https://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError(`the vSphere URL is not a URL: ${redactUrl(input)}`, {
      hint: 'set GOVC_URL to https://HOST/sdk (or just HOST)',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`unsupported scheme in the vSphere URL: ${url.protocol}`, {
      hint: 'use https://HOST/sdk',
    });
  }
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  url.username = '';
  url.password = '';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/sdk';
  url.search = '';
  url.hash = '';
  return { url, username, password };
}

export function normalizeThumbprint(t: string): string {
  const hex = t.replace(/[:\s-]/g, '').toLowerCase();
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(hex)) {
    throw new ConfigError(`invalid certificate thumbprint: ${t}`, {
      hint: 'give the SHA-256 fingerprint as 64 hex digits (colons allowed), e.g. from `openssl x509 -noout -fingerprint -sha256`',
    });
  }
  return hex;
}

/** Colon-separated upper-case form, as openssl and vSphere print it. */
export function formatThumbprint(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}

/**
 * Builds the configuration from flags and govc variables. The password comes only from the
 * environment (GOVC_PASSWORD or the URL) or from `promptPassword`, never from a flag.
 */
export async function vsphereConfigFromEnv(
  env: NodeJS.ProcessEnv,
  flags: VSphereFlags = {},
  promptPassword?: (username: string, url: URL) => Promise<string>,
): Promise<VSphereConfig> {
  const rawUrl = flags.url ?? env.GOVC_URL;
  if (!rawUrl) {
    throw new ConfigError('no vSphere URL', {
      hint: 'set GOVC_URL (e.g. https://vcenter.example.com/sdk) or pass --url',
    });
  }
  const parsed = parseVSphereUrl(rawUrl);
  const username = flags.username ?? env.GOVC_USERNAME ?? parsed.username;
  if (!username)
    throw new ConfigError('no vSphere user name', { hint: 'set GOVC_USERNAME or pass --username' });
  let password = env.GOVC_PASSWORD ?? parsed.password;
  if (password === undefined) {
    if (!promptPassword) {
      throw new ConfigError(`no password for ${username}`, {
        hint: 'set GOVC_PASSWORD (passwords are never taken from flags)',
      });
    }
    password = await promptPassword(username, parsed.url);
  }
  const caEnv = flags.caFile ?? env.GOVC_TLS_CA_CERTS;
  const thumb = flags.thumbprint ?? env.GOVC_THUMBPRINT;
  return {
    url: parsed.url,
    username,
    password,
    insecure: flags.insecure ?? truthy(env.GOVC_INSECURE),
    // govc takes a path list here (files separated by the OS path separator).
    caFiles: caEnv ? caEnv.split(':').filter(Boolean) : undefined,
    thumbprint: thumb ? normalizeThumbprint(thumb) : undefined,
  };
}
