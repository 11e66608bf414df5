// Nova flavors: list with details, get, and the pure best-match used by planning.
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
  const r = await compute.get<{ flavor: Record<string, unknown> }>(flavorUrl(compute, id), {
    signal: o.signal,
  });
  return toFlavor(r.flavor);
}

export interface FlavorRequirements {
  vcpus: number;
  ramMiB: number;
  /** Root disk needed in GiB; ignored when bootFromVolume. */
  diskGiB?: number;
  /** The root disk is a Cinder volume: prefer flavors with disk 0 (their size does not matter). */
  bootFromVolume?: boolean;
  /** Only flavors whose name matches (e.g. /^win\./). */
  namePattern?: RegExp;
}

/**
 * The smallest enabled flavor that fits: fewest extra vCPUs, then least extra RAM, then least extra
 * disk, then name (so the choice is stable). Undefined when none fits. Pure.
 */
export function bestFlavor(flavors: Flavor[], req: FlavorRequirements): Flavor | undefined {
  const disk = req.bootFromVolume ? 0 : (req.diskGiB ?? 0);
  const fits = flavors.filter(
    (f) =>
      !f.disabled &&
      f.vcpus >= req.vcpus &&
      f.ram >= req.ramMiB &&
      // Nova lets only admins boot an image onto a 0-disk flavor (zero_disk_flavor policy).
      (req.bootFromVolume || (f.disk > 0 && f.disk >= disk)) &&
      (!req.namePattern || req.namePattern.test(f.name)),
  );
  const extraDisk = (f: Flavor) => (req.bootFromVolume ? f.disk : f.disk - disk);
  fits.sort(
    (a, b) =>
      a.vcpus - b.vcpus || a.ram - b.ram || extraDisk(a) - extraDisk(b) || a.name.localeCompare(b.name),
  );
  return fits[0];
}
