// Cinder v3 volumes: create (blank or from an image), wait until available (with the reason on
// error, from the user messages API), image metadata, list by metadata, delete.
import { ConfigError, V2oError } from '../../../errors.js';
import { listAllPages } from '../../client/pagination.js';
import type { ServiceClient } from '../../client/service-client.js';
import { isStatus } from '../../errors.js';
import { poll, type WaitOptions, waitUntilGone } from '../../util/wait.js';
import { toVolume, type Volume } from './results.js';
import { messagesUrl, volumeActionUrl, volumesDetailUrl, volumesUrl, volumeUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export interface CreateVolumeOptions {
  /** GiB */
  size: number;
  name?: string;
  description?: string;
  /** Create from this Glance image (bytes are copied by Cinder). */
  imageRef?: string;
  volumeType?: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
}

/** POST /volumes body (pure). */
export function toVolumeCreateBody(o: CreateVolumeOptions): Record<string, unknown> {
  if (!Number.isInteger(o.size) || o.size < 1) {
    throw new ConfigError(`volume size must be a whole number of GiB ≥ 1, got ${o.size}`);
  }
  const v: Record<string, unknown> = { size: o.size };
  if (o.name) v.name = o.name;
  if (o.description) v.description = o.description;
  if (o.imageRef) v.imageRef = o.imageRef;
  if (o.volumeType) v.volume_type = o.volumeType;
  if (o.availabilityZone) v.availability_zone = o.availabilityZone;
  if (o.metadata && Object.keys(o.metadata).length) v.metadata = o.metadata;
  return { volume: v };
}

/** Create (202). Not retried: look for the volume by metadata before creating again. */
export async function createVolume(
  volume: ServiceClient,
  opts: CreateVolumeOptions,
  o: Sig = {},
): Promise<Volume> {
  const r = await volume.post<{ volume: Record<string, unknown> }>(
    volumesUrl(volume),
    toVolumeCreateBody(opts),
    {
      okCodes: [202],
      signal: o.signal,
    },
  );
  return toVolume(r.volume);
}

export async function getVolume(volume: ServiceClient, id: string, o: Sig = {}): Promise<Volume> {
  return toVolume(await volume.getOne(volumeUrl(volume, id), 'volume', o));
}

export interface ListVolumesOptions {
  name?: string;
  status?: string;
  /** Every key must equal (Cinder filters, and it is checked again here). */
  metadata?: Record<string, string>;
  limit?: number;
}

export async function listVolumes(
  volume: ServiceClient,
  opts: ListVolumesOptions = {},
  o: Sig = {},
): Promise<Volume[]> {
  const filtered = opts.name !== undefined || opts.status !== undefined || opts.metadata !== undefined;
  let found: Volume[];
  try {
    found = await listVolumePages(volume, opts, true, o);
  } catch (err) {
    // Cinder accepts only the filters in its resource_filters.json (3.33+); a cloud without them
    // answers 400 "Invalid filters ...": list everything and filter here instead.
    if (!filtered || !isStatus(err, 400)) throw err;
    found = await listVolumePages(volume, opts, false, o);
  }
  return found.filter(
    (v) =>
      (!opts.name || v.name === opts.name) &&
      (!opts.status || v.status === opts.status) &&
      Object.entries(opts.metadata ?? {}).every(([k, val]) => v.metadata[k] === val),
  );
}

async function listVolumePages(
  volume: ServiceClient,
  opts: ListVolumesOptions,
  serverFilters: boolean,
  o: Sig,
): Promise<Volume[]> {
  const found = await listAllPages(
    volume,
    volumesDetailUrl(volume),
    'volumes',
    {
      name: serverFilters ? opts.name : undefined,
      status: serverFilters ? opts.status : undefined,
      metadata: serverFilters && opts.metadata ? JSON.stringify(opts.metadata) : undefined,
    },
    { signal: o.signal, limit: opts.limit },
  );
  return found.map(toVolume);
}

export class VolumeError extends V2oError {}

/** The newest user message Cinder recorded for a resource (why a volume went to error). */
export async function getVolumeErrorReason(
  volume: ServiceClient,
  id: string,
  o: Sig = {},
): Promise<string | undefined> {
  try {
    const r = await volume.get<{ messages: { user_message?: string; created_at?: string }[] }>(
      messagesUrl(volume),
      {
        signal: o.signal,
        query: { resource_uuid: id },
        retry: false,
      },
    );
    const m = [...r.messages].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0];
    return m?.user_message;
  } catch {
    return undefined; // the messages API needs 3.3; the status alone still tells the story
  }
}

/** Poll until `status` (default 'available'); error statuses fail with Cinder's reason. */
export async function waitForVolumeStatus(
  volume: ServiceClient,
  id: string,
  status = 'available',
  opts: WaitOptions = {},
): Promise<Volume> {
  return poll<Volume>(
    async () => {
      const v = await getVolume(volume, id, { signal: opts.signal });
      if (v.status === status) return { done: true, value: v };
      if (/^error/.test(v.status)) {
        const reason = await getVolumeErrorReason(volume, id, opts);
        throw new VolumeError(
          `volume ${id} went to ${v.status} while waiting for ${status}${reason ? `: ${reason}` : ''}`,
          {
            hint: 'see `openstack volume show` and `openstack volume message list`; delete the volume and resume',
          },
        );
      }
      return { done: false, seen: v.status };
    },
    `volume ${id} to be ${status}`,
    { intervalMs: 1000, ...opts },
  );
}

/** os-set_image_metadata: image properties (hw_*, os_*) Nova reads when booting from this volume. */
export async function setVolumeImageMetadata(
  volume: ServiceClient,
  id: string,
  metadata: Record<string, string>,
  o: Sig = {},
): Promise<Record<string, string>> {
  const r = await volume.post<{ metadata: Record<string, string> }>(
    volumeActionUrl(volume, id),
    { 'os-set_image_metadata': { metadata } },
    // Setting fixed values twice is harmless.
    { okCodes: [200], idempotent: true, signal: o.signal },
  );
  return r?.metadata ?? {};
}

/** os-unset_image_metadata: drops one key of the volume's image metadata (404 when it is not there). */
export async function unsetVolumeImageMetadata(
  volume: ServiceClient,
  id: string,
  key: string,
  o: Sig = {},
): Promise<void> {
  await volume.post(
    volumeActionUrl(volume, id),
    { 'os-unset_image_metadata': { key } },
    { okCodes: [200], idempotent: true, signal: o.signal },
  );
}

/** os-set_bootable: marks a blank volume as one Nova may boot from (200). Setting it twice is harmless. */
export async function setVolumeBootable(
  volume: ServiceClient,
  id: string,
  bootable: boolean,
  o: Sig = {},
): Promise<void> {
  await volume.post(
    volumeActionUrl(volume, id),
    { 'os-set_bootable': { bootable } },
    { okCodes: [200], idempotent: true, signal: o.signal },
  );
}

/**
 * Microversion for os-extend of an attached volume: from 3.42 Cinder extends `in-use` volumes too
 * (Cinder API reference, "Extend a volume size": from microversion 3.42 the volume may be in-use).
 */
export const EXTEND_IN_USE_MICROVERSION = '3.42';

/** os-extend to `newSizeGiB` (202; the size shows once the volume leaves `extending`). */
export async function extendVolume(
  volume: ServiceClient,
  id: string,
  newSizeGiB: number,
  o: Sig = {},
): Promise<void> {
  await volume
    .withMicroversion(EXTEND_IN_USE_MICROVERSION)
    .post(
      volumeActionUrl(volume, id),
      { 'os-extend': { new_size: newSizeGiB } },
      { okCodes: [202], signal: o.signal },
    );
}

export async function deleteVolume(
  volume: ServiceClient,
  id: string,
  o: Sig & { ignoreMissing?: boolean; cascade?: boolean } = {},
): Promise<void> {
  await volume.request('DELETE', volumeUrl(volume, id), {
    okCodes: o.ignoreMissing ? [202, 404] : [202],
    query: o.cascade ? { cascade: true } : undefined,
    signal: o.signal,
  });
}

export async function waitForVolumeDeleted(
  volume: ServiceClient,
  id: string,
  opts: WaitOptions = {},
): Promise<void> {
  await waitUntilGone(
    (signal) => getVolume(volume, id, { signal }),
    (v) => {
      if (v.status === 'error_deleting') {
        throw new VolumeError(`volume ${id} failed to delete (error_deleting)`, {
          hint: 'an admin must reset its state: openstack volume set --state error <id>, then delete it again',
        });
      }
      return v.status;
    },
    `volume ${id} to be deleted`,
    { intervalMs: 500, ...opts },
  );
}
