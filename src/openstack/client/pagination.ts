// Marker paging as Nova and Cinder do it (gophercloud's pagination.MarkerPage): ask for `limit`
// items, then again from the last id, until a short page. One loop for every list call.
type Sig = { signal?: AbortSignal };

import type { Query, ServiceClient } from './service-client.js';

export async function listAllPages(
  client: ServiceClient,
  url: string,
  /** The envelope's key: `servers`, `volumes`, … */
  key: string,
  query: Query,
  o: Sig & { limit?: number } = {},
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const limit = o.limit ?? 200;
  let marker: string | undefined;
  for (;;) {
    const r = await client.get<Record<string, Record<string, unknown>[]>>(url, {
      signal: o.signal,
      query: { ...query, limit, marker },
    });
    const page = r[key] ?? [];
    out.push(...page);
    if (page.length < limit) return out;
    marker = String(page[page.length - 1]!.id);
  }
}
