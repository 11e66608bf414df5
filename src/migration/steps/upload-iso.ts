// Step 3: put the ISO on a datastore the VM can mount, unless the same file is already there.
// "Same" = same size and a `.sha256` sidecar holding the same hash: datastores offer no checksums,
// and reading a few hundred MiB back to hash them would cost more than uploading again.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ConfigError } from '../../errors.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import type { FetchIsoOutput } from './fetch-virtio-iso.js';

export interface UploadIsoOutput {
  datastore: string;
  path: string;
  /** `[datastore] path`, what a CD-ROM backing names. */
  datastorePath: string;
  skipped: boolean;
}

/** The guest (and the lab) recognise the ISO by a name starting with virtio-win. */
export function isoDatastoreFile(sha256: string): string {
  return `v2o/virtio-win-${sha256.slice(0, 16)}.iso`;
}

export const uploadIso: MigrationStep<UploadIsoOutput> = {
  id: 'upload-iso',
  title: 'Upload the ISO to the datastore',
  retry: { attempts: 5, initialDelayMs: 2_000, backoff: 2, maxDelayMs: 30_000 },
  timeoutMs: 60 * 60_000,
  async plan({ params, services }) {
    const iso = params.plan.drivers?.iso;
    if (!iso) return { summary: 'no ISO: skipped', skip: true };
    if (!iso.sha256 || !iso.datastore) {
      return {
        summary: `upload to [${iso.datastore}] v2o/virtio-win-<sha256>.iso (skipped when the same file is there)`,
        details: { datastore: iso.datastore },
      };
    }
    const path = isoDatastoreFile(iso.sha256);
    // Read-only look: with a known sha256 the plan can say whether the upload will be skipped.
    const there = services
      ? (
          await services.source.datastoreReadText(iso.datastore, `${path}.sha256`).catch(() => undefined)
        )?.trim() === iso.sha256
      : false;
    return {
      summary: there
        ? `[${iso.datastore}] ${path} is already there: skipped`
        : `upload to [${iso.datastore}] ${path}`,
      details: { datastore: iso.datastore, path },
      skip: there,
    };
  },
  skipIf: (ctx) => !ctx.params.plan.drivers?.iso,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const local = ctx.outputOf<FetchIsoOutput>('fetch-virtio-iso');
    const datastore = ctx.params.plan.drivers?.iso?.datastore;
    if (!local || !datastore) {
      throw new ConfigError('no ISO to upload (the fetch step has no output, or no datastore is known)', {
        hint: 'set isoDatastore in the plan',
      });
    }
    const path = isoDatastoreFile(local.sha256);
    const sidecar = `${path}.sha256`;
    const out = { datastore, path, datastorePath: `[${datastore}] ${path}` };
    const { source } = ctx.services;
    const [stat, mark] = await Promise.all([
      source.datastoreStat(datastore, path, { signal: ctx.signal }),
      source.datastoreReadText(datastore, sidecar, { signal: ctx.signal }),
    ]);
    if (stat?.size === local.size && mark?.trim() === local.sha256) {
      ctx.log.info(out, 'the ISO is already on the datastore');
      ctx.progress.update({ message: 'already there' });
      crashPoint(ctx, 'after');
      return { ...out, skipped: true };
    }
    await source.datastoreUpload(
      datastore,
      path,
      { open: () => createReadStream(local.localPath), size: local.size },
      {
        signal: ctx.signal,
        onProgress: (done) => {
          ctx.progress.update({ done, total: local.size, unit: 'bytes' });
          if (done >= local.size / 2) crashPoint(ctx, 'mid');
        },
      },
    );
    // The sidecar goes last: its presence means the ISO upload completed.
    const text = `${local.sha256}\n`;
    await source.datastoreUpload(
      datastore,
      sidecar,
      { open: () => Readable.from([Buffer.from(text)]), size: Buffer.byteLength(text) },
      { signal: ctx.signal },
    );
    crashPoint(ctx, 'after');
    return { ...out, skipped: false };
  },
};
