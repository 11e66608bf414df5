// Glance v2 image calls: create, get, list/find, update (JSON patch), tags, delete, and waiting for a
// status. The data upload is imagedata/, the interoperable import imageimport/ and tasks/. Which
// properties a migrated Windows image needs is the migration's (src/migration/image-properties.ts).
import { V2oError } from '../../../errors.js';
import { parseJson, type ServiceClient } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';
import { poll, type WaitOptions } from '../../util/wait.js';
import { type Image, type ImageStatus, toImage } from './results.js';
import { imagesUrl, imageTagUrl, imageUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export interface CreateImageOptions {
  name: string;
  diskFormat: 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'iso' | 'ploop' | 'aki' | 'ari' | 'ami';
  containerFormat?: 'bare' | 'ovf' | 'ova' | 'docker' | 'compressed';
  /** Client-chosen id (lets a resumed step find its image even if the create response was lost). */
  id?: string;
  visibility?: 'private' | 'shared' | 'community' | 'public';
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  tags?: string[];
  /** Free-form properties (values are strings in Glance). */
  properties?: Record<string, string | number | boolean>;
}

/** POST /v2/images body (pure). */
export function toImageCreateBody(o: CreateImageOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.properties ?? {})) body[k] = String(v);
  body.name = o.name;
  body.disk_format = o.diskFormat;
  body.container_format = o.containerFormat ?? 'bare';
  if (o.id) body.id = o.id;
  if (o.visibility) body.visibility = o.visibility;
  if (o.minDisk !== undefined) body.min_disk = o.minDisk;
  if (o.minRam !== undefined) body.min_ram = o.minRam;
  if (o.protected !== undefined) body.protected = o.protected;
  if (o.tags?.length) body.tags = o.tags;
  return body;
}

export async function createImage(
  image: ServiceClient,
  opts: CreateImageOptions,
  o: Sig = {},
): Promise<Image> {
  const raw = await image.post<Record<string, unknown>>(imagesUrl(image), toImageCreateBody(opts), {
    okCodes: [201],
    signal: o.signal,
  });
  return toImage(raw);
}

export async function getImage(image: ServiceClient, id: string, o: Sig = {}): Promise<Image> {
  return toImage(await image.get<Record<string, unknown>>(imageUrl(image, id), { signal: o.signal }));
}

export interface ListImagesOptions {
  name?: string;
  status?: ImageStatus;
  /** Every tag must be present. */
  tags?: string[];
  /** Every property must equal (filtered by Glance and checked again here). */
  properties?: Record<string, string>;
  visibility?: 'private' | 'shared' | 'community' | 'public' | 'all';
  /** Page size; all pages are followed. */
  limit?: number;
}

export async function listImages(
  image: ServiceClient,
  opts: ListImagesOptions = {},
  o: Sig = {},
): Promise<Image[]> {
  const query: Record<string, string | number | string[] | undefined> = {
    name: opts.name,
    status: opts.status,
    tag: opts.tags,
    visibility: opts.visibility,
    limit: opts.limit ?? 100,
    ...(opts.properties ?? {}),
  };
  const out: Image[] = [];
  let url: string | undefined = imagesUrl(image);
  let first = true;
  while (url) {
    const page: { images: Record<string, unknown>[]; next?: string } = await image.get(url, {
      signal: o.signal,
      query: first ? query : undefined,
    });
    first = false;
    out.push(...page.images.map(toImage));
    // `next` is relative to the Glance root (/v2/images?marker=...), which may sit under a path prefix.
    url = page.next ? `${image.endpoint.replace(/\/v2$/, '')}${page.next}` : undefined;
  }
  return out.filter(
    (i) =>
      (opts.tags ?? []).every((t) => i.tags.includes(t)) &&
      Object.entries(opts.properties ?? {}).every(([k, v]) => i.properties[k] === v),
  );
}

/** The one image with these tags/properties, undefined when none; an error when several match. */
export async function findImage(
  image: ServiceClient,
  opts: ListImagesOptions,
  o: Sig = {},
): Promise<Image | undefined> {
  const found = await listImages(image, opts, o);
  if (found.length > 1) {
    throw new V2oError(
      `${found.length} images match ${JSON.stringify(opts)}: ${found.map((i) => i.id).join(', ')}`,
      {
        hint: 'delete the duplicates (openstack image delete <id>) and resume',
      },
    );
  }
  return found[0];
}

export interface UpdateImageOptions {
  /** Properties to add or replace (also core ones like name, min_disk). */
  set?: Record<string, string | number | boolean>;
  remove?: string[];
}

/** JSON patch operations (pure). */
export function toImagePatch(u: UpdateImageOptions): { op: string; path: string; value?: unknown }[] {
  const ptr = (k: string) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  const numeric = new Set(['min_disk', 'min_ram']);
  return [
    ...Object.entries(u.set ?? {}).map(([k, v]) => ({
      op: 'add',
      path: ptr(k),
      value: numeric.has(k) ? Number(v) : k === 'protected' ? Boolean(v) : String(v),
    })),
    ...(u.remove ?? []).map((k) => ({ op: 'remove', path: ptr(k) })),
  ];
}

export async function updateImage(
  image: ServiceClient,
  id: string,
  u: UpdateImageOptions,
  o: Sig = {},
): Promise<Image> {
  const res = await image.request('PATCH', imageUrl(image, id), {
    okCodes: [200],
    json: toImagePatch(u),
    contentType: 'application/openstack-images-v2.1-json-patch',
    // The patch is absolute (add/replace/remove to fixed values): repeating it is harmless.
    idempotent: true,
    signal: o.signal,
  });
  return toImage(parseJson(res));
}

export async function addImageTag(image: ServiceClient, id: string, tag: string, o: Sig = {}): Promise<void> {
  await image.request('PUT', imageTagUrl(image, id, tag), { okCodes: [204], signal: o.signal });
}

/** Delete; with ignoreMissing a 404 counts as done (for compensations). */
export async function deleteImage(
  image: ServiceClient,
  id: string,
  o: Sig & { ignoreMissing?: boolean } = {},
): Promise<void> {
  await image.request('DELETE', imageUrl(image, id), {
    okCodes: o.ignoreMissing ? [204, 404] : [204],
    signal: o.signal,
  });
}

/** Wait for a status ('active' after an upload); killed/deleted fail at once. */
export async function waitForImageStatus(
  image: ServiceClient,
  id: string,
  status: ImageStatus,
  opts: WaitOptions = {},
): Promise<Image> {
  return poll<Image>(
    async () => {
      let img: Image;
      try {
        img = await getImage(image, id, { signal: opts.signal });
      } catch (err) {
        if (status === 'deleted' && isStatus(err, 404)) return { done: true, value: undefined as never };
        throw err;
      }
      if (img.status === status) return { done: true, value: img };
      if (img.status === 'killed' || (img.status === 'deleted' && status !== 'deleted')) {
        throw new V2oError(`image ${id} went to ${img.status} while waiting for ${status}`, {
          hint: 'delete the image and resume to upload it again',
        });
      }
      return { done: false, seen: img.status };
    },
    `image ${id} to be ${status}`,
    { intervalMs: 500, ...opts },
  );
}
