// Glance v2 image tasks (Image API 2.12+) and waiting on them: an import's failure shows only there.
import { V2oError } from '../../../errors.js';
import type { ServiceClient } from '../../client/service-client.js';
import { poll, type WaitOptions } from '../../util/wait.js';
import { getImage } from '../images/requests.js';
import type { Image } from '../images/results.js';
import { type ImageTask, toImageTask } from './results.js';
import { imageTasksUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

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

/** GET /v2/images/{id}/tasks, newest first. */
export async function listImageTasks(image: ServiceClient, id: string, o: Sig = {}): Promise<ImageTask[]> {
  const r = await image.get<{ tasks: Record<string, unknown>[] }>(imageTasksUrl(image, id), {
    signal: o.signal,
  });
  return r.tasks.map(toImageTask).sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
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
