// Step 10: export every disk through the HttpNfcLease and stream it into a Glance image
// (src/transfer does the bytes: format check, hashing, stall detection, checkpoints).
// Look before create: images of this run are found by its tag, so a resumed step reuses an
// active image, fills a queued one, and replaces one a crash left half-written in `saving`.

import pLimit from 'p-limit';
import { V2oError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import { sharedLimiter } from '../../transfer/limiter.js';
import type { PlannedDisk } from '../build-plan.js';
import { runTag, runTags } from '../params.js';
import type { UploadHash } from '../plan-file.js';
import type { DiskUploadResult, ExportSession, ImageInfo } from '../services.js';
import { type Ctx, crashPoint, type MigrationStep, sourceMoref } from './common.js';

/** What the transfer reported (hashes: none for a reused image), and which image it went to. */
export interface UploadedImage extends DiskUploadResult {
  index: number;
  name: string;
  id: string;
  reused: boolean;
}

export interface UploadImagesOutput {
  images: UploadedImage[];
  bytes: number;
  seconds: number;
}

interface Saved {
  /** Image id per disk index, recorded right after creation. */
  imageIds: Record<number, string>;
  /** src/transfer's checkpoint per disk index. */
  transfer: Record<number, unknown>;
  /** When the first attempt began (the rate covers retries too). */
  startedAt?: number;
  /** The export lease this step holds open; one a killed attempt left is aborted before a new one. */
  leaseRef?: string;
}

/** This attempt's journaled state, and how to save it. */
interface Attempt {
  saved: Saved;
  save: () => void;
  results: Map<number, UploadedImage>;
}

type Todo = { disk: PlannedDisk; image: ImageInfo };

export const uploadImages: MigrationStep<UploadImagesOutput> = {
  id: 'upload-images',
  title: 'Export disks and upload to Glance',
  retry: {
    attempts: 4,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 60_000,
    nonRetryable: ['UnsafeDiskError', 'ChecksumMismatchError'],
  },
  timeoutMs: 24 * 60 * 60_000,
  plan: ({ params }) => {
    const { settings } = params.plan;
    const disks = params.plan.disks.filter((d) => d.route !== 'volume');
    if (disks.length === 0)
      return { summary: 'every disk is written into a volume: nothing for Glance', skip: true };
    const formats = [...new Set(disks.map((d) => d.image.diskFormat))].join(', ');
    return {
      summary: `export ${disks.length} disk(s) ${settings.exportMethod === 'datastore' ? 'from their datastore files' : 'through the export lease'} and stream them to Glance as ${formats}; ${describeVerification(settings.uploadHashes)}; a copy with no bytes moving for ${settings.transferStallSeconds} s is resumed or retried`,
      details: {
        uploadHashes: settings.uploadHashes,
        transferStallSeconds: settings.transferStallSeconds,
        images: disks.map((d) => ({
          disk: d.label,
          sizeBytes: d.sizeBytes,
          route: d.route,
          resumesMidDisk: d.resumesMidDisk,
          ...d.image,
        })),
        localSpaceBytes: params.plan.localSpaceBytes,
      },
    };
  },
  // `volume`-route disks are written into attached volumes (copy-volumes), never through Glance.
  skipIf: (ctx) => imageDisks(ctx).length === 0,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const saved: Saved = structuredClone(
      (ctx.lastCheckpoint as Saved | undefined) ?? { imageIds: {}, transfer: {} },
    );
    saved.startedAt ??= ctx.clock.now();
    const a: Attempt = { saved, save: () => ctx.checkpoint(saved), results: new Map() };
    const todo = await imagesToFill(ctx, a);
    if (todo.length > 0) await exportAndUpload(ctx, a, todo);
    crashPoint(ctx, 'after');
    const images = imageDisks(ctx).map((d) => a.results.get(d.index)!);
    const bytes = images.reduce((n, i) => n + i.bytes, 0);
    const seconds = (ctx.clock.now() - saved.startedAt) / 1000;
    ctx.progress.update({ message: `${formatBytes(bytes)} in ${seconds.toFixed(1)} s` });
    return { images, bytes, seconds };
  },
  async compensate(ctx) {
    for (const img of await ctx.services.target.findImagesByTag([runTag(ctx.runId)], {
      signal: ctx.signal,
    })) {
      await ctx.services.target.deleteImage(img.id, { signal: ctx.signal });
    }
  },
};

/**
 * Records the run's active images as results and returns the disks that still need bytes, each
 * with a queued image: found by id or name, or created (its id journaled before a byte moves).
 */
async function imagesToFill(ctx: Ctx, a: Attempt): Promise<Todo[]> {
  const { target } = ctx.services;
  const { saved } = a;
  const mine = await target.findImagesByTag([runTag(ctx.runId)], { signal: ctx.signal });
  const todo: Todo[] = [];
  for (const disk of imageDisks(ctx)) {
    let image =
      mine.find((i) => i.id === saved.imageIds[disk.index]) ?? mine.find((i) => i.name === disk.image.name);
    if (image && image.status === 'active') {
      a.results.set(disk.index, {
        index: disk.index,
        name: image.name,
        id: image.id,
        bytes: image.size ?? 0,
        hashes: {},
        checksum: image.checksum,
        osHashAlgo: image.osHashAlgo,
        osHashValue: image.osHashValue,
        reused: true,
      });
      continue;
    }
    if (image && image.status !== 'queued') {
      // `saving` after a crash mid-upload cannot take data again; killed/deleted are dead.
      ctx.log.warn(
        { imageId: image.id, status: image.status },
        'replacing an image a previous attempt left unfinished',
      );
      await target.deleteImage(image.id, { signal: ctx.signal });
      delete saved.transfer[disk.index];
      image = undefined;
    }
    if (!image) {
      image = await target.createImage(
        { ...disk.image, tags: [...runTags(ctx.runId), `v2o-disk-${disk.index}`] },
        { signal: ctx.signal },
      );
      saved.imageIds[disk.index] = image.id;
      delete saved.transfer[disk.index];
      a.save(); // the id is in the journal before a byte moves
      ctx.event('image.created', { imageId: image.id, name: image.name });
    }
    todo.push({ disk, image });
  }
  return todo;
}

/** Opens the export once for all disks, keeps it alive, uploads, then completes or aborts it. */
/**
 * The export session holds a per-source-host slot for as long as it is open (the plan's
 * perSourceHost, counted by the VM's ESXi host; fleet-wide on PostgreSQL): vSphere limits NFC
 * sessions per host, and a lease counts from its creation, not only while bytes flow.
 */
async function exportAndUpload(ctx: Ctx, a: Attempt, todo: Todo[]): Promise<void> {
  const host = ctx.params.plan.source?.host;
  const limits = ctx.params.options.transferLimits;
  if (!host || !limits) return exportAndUploadHeld(ctx, a, todo);
  return sharedLimiter(limits).runSource(host, () => exportAndUploadHeld(ctx, a, todo), ctx.signal);
}

async function exportAndUploadHeld(ctx: Ctx, a: Attempt, todo: Todo[]): Promise<void> {
  const { source } = ctx.services;
  if (a.saved.leaseRef) {
    await source.abortExportLease(a.saved.leaseRef, `v2o run ${ctx.runId}: an earlier attempt's export`, {
      signal: ctx.signal,
    });
    ctx.event('lease.aborted', { lease: a.saved.leaseRef, why: 'left open by an earlier attempt' });
    delete a.saved.leaseRef;
    a.save();
  }
  const lease =
    ctx.params.plan.settings.exportMethod === 'datastore'
      ? await source.datastoreDisks(sourceMoref(ctx), { signal: ctx.signal })
      : await source.exportVm(sourceMoref(ctx), { signal: ctx.signal });
  if (lease.ref) {
    a.saved.leaseRef = lease.ref;
    await ctx.checkpoint(a.saved); // durable before a byte moves: a kill from here on leaves it known
  }
  // Bytes of the export stream; a disk's stream size (streamOptimized: much less than its
  // capacity) replaces the capacity estimate as soon as the source tells it.
  const totals = new Map(todo.map((t) => [t.disk.index, t.disk.sizeBytes]));
  const done = new Map<number, number>();
  let lastPct = -1;
  const report = (index: number, bytes: number, streamTotal?: number) => {
    if (streamTotal) totals.set(index, streamTotal);
    done.set(index, bytes);
    const sum = [...done.values()].reduce((x, y) => x + y, 0);
    const total = [...totals.values()].reduce((x, y) => x + y, 0);
    ctx.progress.update({ done: sum, total, unit: 'bytes' });
    const pct = Math.min(99, Math.floor((sum / Math.max(1, total)) * 100));
    if (pct !== lastPct) {
      lastPct = pct;
      lease.progress(pct).catch((err) => ctx.log.warn({ err }, 'lease progress failed'));
    }
  };
  // The lease expires without progress calls, even while bytes flow.
  const keepAlive = lease.startKeepAlive(() => Math.max(0, lastPct));
  try {
    const limit = pLimit(Math.max(1, ctx.params.options.disksInParallel));
    await Promise.all(todo.map((t) => limit(() => uploadDisk(ctx, a, lease, t, report))));
    // The data is in Glance and its hashes matched: a lease that cannot be completed only
    // times out on the vCenter side, so this is worth a warning, not a failed step.
    await lease
      .complete()
      .catch((err) => ctx.log.warn({ err }, 'completing the export lease failed; it will time out'));
  } catch (err) {
    await lease.abort((err as Error).message).catch(() => {});
    throw err;
  } finally {
    keepAlive.stop();
    if (a.saved.leaseRef) {
      delete a.saved.leaseRef; // completed or aborted: nothing for a later attempt to abort
      a.save();
    }
  }
}

/** One disk into its image through the target, checked to be active afterwards. */
async function uploadDisk(
  ctx: Ctx,
  a: Attempt,
  lease: ExportSession,
  { disk, image }: Todo,
  report: (index: number, bytes: number, streamTotal?: number) => void,
): Promise<void> {
  const { target } = ctx.services;
  const { settings } = ctx.params.plan;
  let crashedMid = false;
  const r = await target.uploadDisk({
    source: findExported(lease, disk),
    imageId: image.id,
    format: disk.image.diskFormat,
    stagingDir: settings.stagingDir ?? `${ctx.services.stateDir}/staging/${ctx.runId}`,
    lastCheckpoint: a.saved.transfer[disk.index],
    checkpoint: (data) => {
      a.saved.transfer[disk.index] = data;
      a.save();
    },
    onProgress: (bytes, streamTotal) => {
      report(disk.index, bytes, streamTotal);
      if (!crashedMid && bytes > 0) {
        crashedMid = true;
        crashPoint(ctx, 'mid');
      }
    },
    hashes: settings.uploadHashes,
    stallTimeoutMs: settings.transferStallSeconds * 1000,
    limits: ctx.params.options.transferLimits,
    // The session holds the host's slot (above); its streams count under a key of their own.
    ...(ctx.params.plan.source?.host ? { sourceHost: `export:${ctx.runId}` } : {}),
    signal: ctx.signal,
  });
  report(disk.index, r.bytes, r.bytes);
  const after = await target.getImage(image.id, { signal: ctx.signal });
  if (after?.status !== 'active') {
    throw new V2oError(`image ${image.id} for ${disk.label} is ${after?.status ?? 'gone'} after its upload`, {
      hint: `check it with \`openstack image show ${image.id}\`; v2o resume ${ctx.runId} replaces it`,
    });
  }
  a.results.set(disk.index, {
    index: disk.index,
    name: image.name,
    id: image.id,
    bytes: r.bytes,
    hashes: r.hashes,
    checksum: r.checksum ?? after.checksum,
    osHashAlgo: r.osHashAlgo ?? after.osHashAlgo,
    osHashValue: r.osHashValue ?? after.osHashValue,
    reused: false,
  });
  ctx.event('image.uploaded', { imageId: image.id, bytes: r.bytes, ...r.hashes });
}

/** The disks that go through Glance (all of them for a run planned before issue 14). */
function imageDisks(ctx: Ctx): PlannedDisk[] {
  return ctx.params.plan.disks.filter((d) => d.route !== 'volume');
}

function describeVerification(hashes: UploadHash[]): string {
  if (hashes.length === 0) return 'checked by size only (uploadHashes: [])';
  const against = hashes.map((h) =>
    h === 'md5' ? 'md5 vs Glance checksum' : `${h} vs os_hash_value when Glance hashes with ${h}`,
  );
  return `verified: ${against.join(', ')}`;
}

function findExported(lease: ExportSession, disk: PlannedDisk) {
  const d = lease.disks.find((x) => x.key === disk.key) ?? lease.disks[disk.index];
  if (!d) {
    throw new V2oError(`the export lease offers no file for ${disk.label} (device key ${disk.key})`, {
      hint: 'the VM changed since the plan was made; cancel this run and migrate again',
    });
  }
  return d;
}
