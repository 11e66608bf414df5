// Nova flavors: list with details, get. Which flavor fits a VM is planning's (pickFlavor).
import type { ServiceClient } from '../../client/service-client.js';
import { type Flavor, toFlavor } from './results.js';
import { flavorsDetailUrl, flavorUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export async function listFlavors(
  compute: ServiceClient,
  opts: { isPublic?: boolean | 'all'; minRamMiB?: number; minDiskGiB?: number } & Sig = {},
): Promise<Flavor[]> {
  const r = await compute.get<{ flavors: Record<string, unknown>[] }>(flavorsDetailUrl(compute), {
    signal: opts.signal,
    query: {
      is_public:
        opts.isPublic === undefined ? undefined : opts.isPublic === 'all' ? 'None' : String(opts.isPublic),
      minRam: opts.minRamMiB,
      minDisk: opts.minDiskGiB,
    },
  });
  return r.flavors.map(toFlavor);
}

export async function getFlavor(compute: ServiceClient, id: string, o: Sig = {}): Promise<Flavor> {
  return toFlavor(await compute.getOne(flavorUrl(compute, id), 'flavor', o));
}
