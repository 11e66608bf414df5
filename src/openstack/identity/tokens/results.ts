// Keystone v3 token responses. The token id itself comes in the X-Subject-Token header.
import { z } from 'zod';

const endpointSchema = z.looseObject({
  id: z.string().optional(),
  interface: z.string(),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
  url: z.string(),
});

const serviceSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  id: z.string().optional(),
  endpoints: z.array(endpointSchema),
});

const named = z.looseObject({ id: z.string(), name: z.string().optional() });

export const tokenBodySchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    methods: z.array(z.string()).optional(),
    user: named.extend({ domain: named.optional() }),
    project: named.extend({ domain: named.optional() }).optional(),
    domain: named.optional(),
    roles: z.array(named).optional(),
    catalog: z.array(serviceSchema).optional(),
  }),
});

export type CatalogService = z.infer<typeof serviceSchema>;

export interface Token {
  /** The secret: travels only in X-Auth-Token, never logged. */
  id: string;
  expiresAt: Date;
  issuedAt?: Date;
  user: { id: string; name?: string; domainId?: string };
  project?: { id: string; name?: string; domainId?: string };
  domain?: { id: string; name?: string };
  roles: string[];
  catalog: CatalogService[];
}

export function toToken(id: string, body: unknown): Token {
  const t = tokenBodySchema.parse(body).token;
  return {
    id,
    expiresAt: new Date(t.expires_at),
    issuedAt: t.issued_at ? new Date(t.issued_at) : undefined,
    user: { id: t.user.id, name: t.user.name, domainId: t.user.domain?.id },
    project: t.project
      ? { id: t.project.id, name: t.project.name, domainId: t.project.domain?.id }
      : undefined,
    domain: t.domain ? { id: t.domain.id, name: t.domain.name } : undefined,
    roles: (t.roles ?? []).map((r) => r.name ?? r.id),
    catalog: t.catalog ?? [],
  };
}
