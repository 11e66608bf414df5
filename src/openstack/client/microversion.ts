// Microversions from a service's version document (GET on the versioned root, no project id).
import { ConfigError } from '../../errors.js';
import type { ServiceClient } from './service-client.js';

export interface VersionInfo {
  id: string;
  status?: string;
  /** Highest microversion, e.g. '2.93'; '' when the service has none. */
  version: string;
  minVersion: string;
}

export function parseMicroversion(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  if (!m) throw new Error(`bad microversion '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

export function compareMicroversions(a: string, b: string): number {
  const [am, an] = parseMicroversion(a);
  const [bm, bn] = parseMicroversion(b);
  return am !== bm ? am - bm : an - bn;
}

/** http://h:8776/v3/<project> → http://h:8776/v3 (the version document lives there). */
export function versionRoot(endpoint: string): string {
  const m = /^(.*?\/v\d+(?:\.\d+)?)(?:\/.*)?$/.exec(endpoint.replace(/\/+$/, ''));
  return m ? m[1]! : endpoint;
}

/** Accepts {"version": {...}} (Nova at /v2.1) and {"versions": [...]} (Cinder at /v3/). */
export function parseVersionDocument(doc: unknown, endpoint: string): VersionInfo | undefined {
  const d = doc as {
    version?: Record<string, unknown>;
    versions?: Record<string, unknown>[] | { values?: Record<string, unknown>[] };
  };
  const list = d.version ? [d.version] : Array.isArray(d.versions) ? d.versions : (d.versions?.values ?? []);
  const major = /\/v(\d+)/.exec(endpoint)?.[1];
  const pick =
    list.find((v) => major && String(v.id ?? '').startsWith(`v${major}`) && v.version) ??
    list.find((v) => v.status === 'CURRENT') ??
    list[0];
  if (!pick) return undefined;
  return {
    id: String(pick.id ?? ''),
    status: pick.status as string | undefined,
    version: String(pick.version ?? ''),
    minVersion: String(pick.min_version ?? ''),
  };
}

export async function getVersionInfo(client: ServiceClient, signal?: AbortSignal): Promise<VersionInfo> {
  const root = versionRoot(client.endpoint);
  const doc = await client.get<unknown>(`${root}/`, { signal, okCodes: [200, 300] });
  const info = parseVersionDocument(doc, client.endpoint);
  if (!info) {
    throw new ConfigError(`${root}/ returned no version document for ${client.serviceType}`, {
      hint: 'check the endpoint registered in the catalog for this service',
    });
  }
  return info;
}

/**
 * The client with the highest microversion both sides support, up to `wanted`;
 * ConfigError when the service is older than `min`.
 */
export async function negotiateMicroversion(
  client: ServiceClient,
  wanted: string,
  opts: { min?: string; signal?: AbortSignal } = {},
): Promise<ServiceClient> {
  const info = await getVersionInfo(client, opts.signal);
  if (!info.version) {
    if (opts.min) {
      throw new ConfigError(
        `${client.serviceType} at ${client.endpoint} has no microversions; v2o needs ${opts.min}`,
        {
          hint: 'upgrade the service or use a cloud with a newer release',
        },
      );
    }
    return client.withMicroversion(undefined);
  }
  if (opts.min && compareMicroversions(info.version, opts.min) < 0) {
    throw new ConfigError(
      `${client.serviceType} at ${client.endpoint} supports microversions up to ${info.version}; v2o needs ${opts.min}`,
      { hint: 'use a cloud whose release supports it (Nova 2.52 = Queens, Cinder 3.50 = Rocky or newer)' },
    );
  }
  const chosen = compareMicroversions(info.version, wanted) < 0 ? info.version : wanted;
  client.log?.debug({ service: client.serviceType, max: info.version, chosen }, 'microversion negotiated');
  return client.withMicroversion(chosen);
}
