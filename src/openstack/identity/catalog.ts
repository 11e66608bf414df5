// Service catalog → endpoint. Pure: the Identity client adds the ConfigError with what is there.
import type { EndpointInterface } from '../config.js';
import type { CatalogService } from './tokens/results.js';

/** Catalog type names a service is registered under, most specific first (service-types-authority). */
export const SERVICE_TYPE_ALIASES: Record<string, string[]> = {
  identity: ['identity'],
  compute: ['compute'],
  image: ['image'],
  network: ['network'],
  'block-storage': ['block-storage', 'volumev3', 'volume', 'block-store'],
  placement: ['placement'],
};

export interface EndpointQuery {
  serviceType: string;
  interface: EndpointInterface;
  region?: string;
  projectId?: string;
}

export function findEndpoint(catalog: CatalogService[], q: EndpointQuery): string | undefined {
  const types = SERVICE_TYPE_ALIASES[q.serviceType] ?? [q.serviceType];
  for (const type of types) {
    for (const svc of catalog.filter((s) => s.type === type)) {
      const ep = svc.endpoints.find(
        (e) =>
          e.interface.replace(/URL$/, '') === q.interface &&
          (!q.region || e.region_id === q.region || e.region === q.region),
      );
      if (!ep) continue;
      // A 'volume' entry may still be the v2 API, which v2o does not speak.
      if (type === 'volume' && /\/v[12](\/|$)/.test(ep.url)) continue;
      return substituteProject(ep.url, q.projectId);
    }
  }
  return undefined;
}

/** What the catalog offers, for the error message when a lookup fails. */
export function describeCatalog(catalog: CatalogService[]): string {
  return catalog
    .map((s) => {
      const where = [...new Set(s.endpoints.map((e) => `${e.interface}@${e.region_id ?? e.region ?? '-'}`))];
      return `${s.type} (${where.join(', ')})`;
    })
    .join('; ');
}

function substituteProject(url: string, projectId: string | undefined): string {
  if (!projectId) return url;
  return url.replace(/[$%]\((project_id|tenant_id)\)s/g, projectId);
}
