// Glance v2 interoperable import: stage the data (PUT /stage), start the import, and which import
// methods the cloud enables. Waiting for the import's outcome is tasks/requests.ts (waitForImport).
import type { ServiceClient, UploadData } from '../../client/service-client.js';
import type { UploadImageDataOptions } from '../imagedata/requests.js';
import { imageImportUrl, imageStageUrl, importInfoUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

/** PUT /v2/images/{id}/stage (import, step 1); a function as `data` is re-opened after a 401. */
export async function stageImageData(
  image: ServiceClient,
  id: string,
  data: UploadData,
  o: UploadImageDataOptions = {},
): Promise<void> {
  await image.upload('PUT', imageStageUrl(image, id), data, {
    okCodes: [204],
    size: o.size,
    signal: o.signal,
    timeoutMs: o.timeoutMs ?? 10 * 60_000,
  });
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

/** GET /v2/info/import: the import methods this Glance enables. */
export async function getImportMethods(image: ServiceClient, o: Sig = {}): Promise<string[]> {
  const r = await image.get<{ 'import-methods'?: { value?: string[] } }>(importInfoUrl(image), {
    signal: o.signal,
  });
  return r['import-methods']?.value ?? [];
}
