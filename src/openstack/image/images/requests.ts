// Glance v2 image calls: create, get, list/find, update (JSON patch), tags, delete, data upload
// (PUT /file) with on-the-fly hashes, interoperable import (stage + glance-direct) with task polling,
// and waiting for a status.
import type { Readable } from 'node:stream';
import { V2oError } from '../../../errors.js';
import { parseJson, type ServiceClient, streamBody } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';
import { poll, type WaitOptions } from '../../util/wait.js';
import { HashingStream, hashed, type UploadProgress } from './hashing.js';
import {
  type Image,
  type ImageStatus,
  type ImageTask,
  toImage,
  toImageTask,
  type UploadDigests,
  type UploadResult,
} from './results.js';
import {
  imageFileUrl,
  imageImportUrl,
  imageStageUrl,
  imagesUrl,
  imageTagUrl,
  imageTasksUrl,
  imageUrl,
  importInfoUrl,
} from './urls.js';

type Sig = { signal?: AbortSignal };

/** The Windows guest properties Nova and libvirt read from an image. */
export interface WindowsImageProperties {
  osType?: 'windows' | 'linux';
  osDistro?: string;
  /** e.g. '2019', '2022', '10', '11'. */
  osVersion?: string;
  hwDiskBus?: 'scsi' | 'virtio' | 'sata' | 'ide';
  hwScsiModel?: 'virtio-scsi' | 'lsilogic' | 'buslogic' | 'lsisas1068' | 'vmpvscsi';
  hwVifModel?: 'virtio' | 'e1000' | 'e1000e' | 'rtl8139' | 'vmxnet3';
  hwFirmwareType?: 'bios' | 'uefi';
  /** e.g. 'q35', 'pc'. */
  hwMachineType?: string;
  osSecureBoot?: 'required' | 'disabled' | 'optional';
  hwQemuGuestAgent?: boolean;
  hwVideoModel?: 'vga' | 'cirrus' | 'vmvga' | 'xen' | 'qxl' | 'virtio' | 'gop' | 'none' | 'bochs';
}

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
  windows?: WindowsImageProperties;
  /** Free-form properties (values are strings in Glance). */
  properties?: Record<string, string | number | boolean>;
}

/** hw_* / os_* properties as Glance stores them (all strings). */
export function windowsImageProperties(w: WindowsImageProperties): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (k: string, v: string | boolean | undefined) => {
    if (v === undefined) return;
    out[k] = typeof v === 'boolean' ? (v ? 'yes' : 'no') : v;
  };
  set('os_type', w.osType);
  set('os_distro', w.osDistro);
  set('os_version', w.osVersion);
  set('hw_disk_bus', w.hwDiskBus);
  set('hw_scsi_model', w.hwScsiModel);
  set('hw_vif_model', w.hwVifModel);
  set('hw_firmware_type', w.hwFirmwareType);
  set('hw_machine_type', w.hwMachineType);
  set('os_secure_boot', w.osSecureBoot);
  set('hw_qemu_guest_agent', w.hwQemuGuestAgent);
  set('hw_video_model', w.hwVideoModel);
  return out;
}

/** POST /v2/images body (pure). */
export function toImageCreateBody(o: CreateImageOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.properties ?? {})) body[k] = String(v);
  Object.assign(body, o.windows ? windowsImageProperties(o.windows) : {});
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

export class ImageHashMismatchError extends V2oError {}
export class ImageImportError extends V2oError {
  constructor(
    message: string,
    readonly imageId: string,
    readonly task?: ImageTask,
    hint?: string,
  ) {
    super(message, { hint });
  }
}

export interface UploadOptions extends Sig {
  /** Bytes in all, when known: sent as Content-Length (else chunked) and used for progress. */
  size?: number;
  onProgress?: (p: UploadProgress) => void;
  /** Compute sha512 too (Glance's default os_hash_algo). Default true. */
  sha512?: boolean;
  /** When the source's sha256 is known, a mismatch fails the upload. */
  expectedSha256?: string;
  /** Compare Glance's checksum/os_hash_value/size with ours afterwards. Default true. */
  verify?: boolean;
  /** Socket inactivity limit (default 10 min: Glance may pause while writing to its store). */
  timeoutMs?: number;
}

/**
 * PUT /v2/images/{id}/file from a stream, hashing on the fly, then verify Glance's hashes.
 * `open` is called once per attempt: a 401 (re-auth) or a retried failure restarts the data from
 * a fresh stream, so it must return the data from the beginning each time.
 */
export async function uploadImageData(
  image: ServiceClient,
  id: string,
  open: () => Readable,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const digests = await sendData(image, imageFileUrl(image, id), open, opts);
  const after = await getImage(image, id, { signal: opts.signal });
  if (opts.verify !== false) verifyDigests(after, digests);
  return { ...digests, image: after };
}

/** Compare what Glance computed with what we sent; throws ImageHashMismatchError. */
export function verifyDigests(img: Image, d: UploadDigests): void {
  const problems: string[] = [];
  if (img.size !== undefined && img.size !== d.bytes) problems.push(`size ${img.size} != sent ${d.bytes}`);
  if (img.checksum && img.checksum !== d.md5) problems.push(`checksum (md5) ${img.checksum} != ${d.md5}`);
  if (img.osHashValue && img.osHashAlgo) {
    const ours = img.osHashAlgo === 'sha512' ? d.sha512 : img.osHashAlgo === 'sha256' ? d.sha256 : undefined;
    if (ours && ours !== img.osHashValue) {
      problems.push(`os_hash_value (${img.osHashAlgo}) ${img.osHashValue} != ${ours}`);
    }
  }
  if (problems.length) {
    throw new ImageHashMismatchError(
      `image ${img.id} data differs from what was sent: ${problems.join('; ')}`,
      {
        hint: `delete the image (openstack image delete ${img.id}) and resume to upload it again`,
      },
    );
  }
}

async function sendData(
  image: ServiceClient,
  url: string,
  open: () => Readable,
  opts: UploadOptions,
): Promise<UploadDigests> {
  let hasher: HashingStream | undefined;
  const body = streamBody(() => {
    hasher = new HashingStream({ sha512: opts.sha512, onProgress: opts.onProgress, total: opts.size });
    return hashed(open(), hasher);
  }, opts.size);
  await image.request('PUT', url, {
    okCodes: [204],
    body,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs ?? 10 * 60_000,
  });
  const d = hasher!.digests();
  if (opts.size !== undefined && d.bytes !== opts.size) {
    throw new ImageHashMismatchError(`the source gave ${d.bytes} bytes, ${opts.size} were announced`);
  }
  if (opts.expectedSha256 && d.sha256 !== opts.expectedSha256) {
    throw new ImageHashMismatchError(
      `the data sent has sha256 ${d.sha256}, the source announced ${opts.expectedSha256}`,
      {
        hint: 'the source changed or was read wrongly: resume to read and upload it again',
      },
    );
  }
  return d;
}

/** PUT /v2/images/{id}/stage (interoperable import, step 1). Returns the digests of what was staged. */
export async function stageImageData(
  image: ServiceClient,
  id: string,
  open: () => Readable,
  opts: Omit<UploadOptions, 'verify'> = {},
): Promise<UploadDigests> {
  return sendData(image, imageStageUrl(image, id), open, opts);
}

export interface ImportOptions extends Sig {
  method?: 'glance-direct' | 'web-download' | 'copy-image';
  /** For web-download. */
  uri?: string;
  stores?: string[];
  allStoresMustSucceed?: boolean;
}

/** POST /v2/images/{id}/import body (pure). */
export function toImportBody(o: ImportOptions): Record<string, unknown> {
  const method: Record<string, unknown> = { name: o.method ?? 'glance-direct' };
  if (o.uri) method.uri = o.uri;
  const body: Record<string, unknown> = { method };
  if (o.stores) body.stores = o.stores;
  if (o.allStoresMustSucceed !== undefined) body.all_stores_must_succeed = o.allStoresMustSucceed;
  return body;
}

/** Start the import (202). Not retried: a second import of the same image is refused (409). */
export async function importImage(image: ServiceClient, id: string, opts: ImportOptions = {}): Promise<void> {
  await image.request('POST', imageImportUrl(image, id), {
    okCodes: [202],
    json: toImportBody(opts),
    signal: opts.signal,
  });
}

/** GET /v2/images/{id}/tasks (Image API 2.12+), newest first. */
export async function listImageTasks(image: ServiceClient, id: string, o: Sig = {}): Promise<ImageTask[]> {
  const r = await image.get<{ tasks: Record<string, unknown>[] }>(imageTasksUrl(image, id), {
    signal: o.signal,
  });
  return r.tasks.map(toImageTask).sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}

/** GET /v2/info/import: the import methods this Glance enables. */
export async function getImportMethods(image: ServiceClient, o: Sig = {}): Promise<string[]> {
  const r = await image.get<{ 'import-methods'?: { value?: string[] } }>(importInfoUrl(image), {
    signal: o.signal,
  });
  return r['import-methods']?.value ?? [];
}

/**
 * Wait for an imported image to become active. A failed import leaves the image in `importing`
 * (or back in `uploading`/`queued`); the failure shows only in its tasks, so both are polled.
 * `since` (ISO time) ignores tasks of earlier import attempts.
 */
export async function waitForImport(
  image: ServiceClient,
  id: string,
  opts: WaitOptions & { since?: string } = {},
): Promise<Image> {
  return poll<Image>(
    async () => {
      const img = await getImage(image, id, { signal: opts.signal });
      if (img.status === 'active') return { done: true, value: img };
      if (img.status === 'killed' || img.status === 'deleted') {
        throw new ImageImportError(`image ${id} import ended in status ${img.status}`, id);
      }
      const tasks = (await listImageTasks(image, id, { signal: opts.signal })).filter(
        (t) =>
          t.type === 'api_image_import' && (!opts.since || (t.createdAt ?? '') >= opts.since.slice(0, 19)),
      );
      const failed = tasks.find((t) => t.status === 'failure');
      if (failed) {
        throw new ImageImportError(
          `import of image ${id} failed (task ${failed.id}): ${failed.message ?? 'no message'}`,
          id,
          failed,
          'the image data was refused by the import plugins (unsafe or unsupported format?): check the source disk, delete the image and resume',
        );
      }
      const t = tasks[0];
      return { done: false, seen: `image ${img.status}${t ? `, task ${t.status}` : ''}` };
    },
    `image ${id} import`,
    { intervalMs: 1000, ...opts },
  );
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
