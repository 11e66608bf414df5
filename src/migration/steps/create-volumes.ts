// Step 11: Cinder volumes from the images of the data disks (and of the boot disk when booting
// from a volume). Found by the run's metadata before creating; ids recorded right after creation.
// Once a volume is available its image has served its purpose and is deleted, so each disk ends
// as exactly one image (boot from image) or one volume.
import { V2oError } from '../../errors.js';
import { runMetadata } from '../params.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import type { UploadImagesOutput } from './upload-images.js';

export interface CreatedVolume {
  index: number;
  name: string;
  id: string;
  sizeGiB: number;
  bootable: boolean;
  fromImageId: string;
}

export interface CreateVolumesOutput {
  volumes: CreatedVolume[];
}

/** Image → volume copies run at disk speed on the Cinder host; allow a minute per GiB, at least 10. */
const timeoutFor = (gib: number) => Math.max(10, gib) * 60_000;

export const createVolumes: MigrationStep<CreateVolumesOutput> = {
  id: 'create-volumes',
  title: 'Create volumes',
  retry: { attempts: 3, initialDelayMs: 5_000, backoff: 2, maxDelayMs: 60_000 },
  plan: ({ params }) => {
    const vols = params.plan.disks.filter((d) => d.volume && d.route !== 'volume');
    if (vols.length === 0)
      return {
        summary: params.plan.disks.some((d) => d.route === 'volume')
          ? 'no volumes from images: every volume is written on the conversion host (attach-volumes)'
          : 'no volumes (the boot disk boots from its image, no data disks)',
        skip: true,
      };
    return {
      summary: vols
        .map((d) => `${d.volume!.name} (${d.volume!.sizeGiB} GiB${d.volume!.bootable ? ', bootable' : ''})`)
        .join(', '),
      details: { volumes: vols.map((d) => ({ disk: d.label, ...d.volume })) },
    };
  },
  // Volume-route disks have theirs from attach-volumes already.
  skipIf: (ctx) => !ctx.params.plan.disks.some((d) => d.volume && d.route !== 'volume'),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { target } = ctx.services;
    const images = ctx.outputOf<UploadImagesOutput>('upload-images')?.images ?? [];
    const meta = runMetadata(ctx.runId);
    const mine = await target.findVolumesByMetadata({ v2o_run: ctx.runId }, { signal: ctx.signal });
    const saved = { ...((ctx.lastCheckpoint as Record<number, string> | undefined) ?? {}) };
    const out: CreatedVolume[] = [];
    for (const disk of ctx.params.plan.disks) {
      const v = disk.volume;
      if (!v || disk.route === 'volume') continue;
      const image = images.find((i) => i.index === disk.index);
      let vol = mine.find((x) => x.id === saved[disk.index]) ?? mine.find((x) => x.name === v.name);
      if (vol && (vol.status === 'error' || vol.status === 'error_deleting')) {
        ctx.log.warn({ volumeId: vol.id, status: vol.status }, 'replacing a failed volume');
        await target.deleteVolume(vol.id, { signal: ctx.signal });
        vol = undefined;
      }
      if (!vol) {
        if (!image) {
          throw new V2oError(`no image for ${disk.label} to create volume ${v.name} from`, {
            hint: `the upload step's output is missing it; cancel with \`v2o cancel ${ctx.runId} --rollback\` and migrate again`,
          });
        }
        vol = await target.createVolumeFromImage(
          {
            name: v.name,
            sizeGiB: v.sizeGiB,
            imageId: image.id,
            volumeType: v.volumeType,
            metadata: { ...meta, v2o_disk: String(disk.index) },
          },
          { signal: ctx.signal },
        );
        saved[disk.index] = vol.id;
        ctx.checkpoint(saved);
        ctx.event('volume.created', { volumeId: vol.id, name: v.name });
      }
      ctx.progress.update({ message: `${v.name}: waiting for available` });
      vol = await target.waitVolume(vol.id, 'available', timeoutFor(v.sizeGiB), { signal: ctx.signal });
      crashPoint(ctx, 'mid');
      if (image) {
        // Its data now lives in the volume (and its properties in volume_image_metadata).
        await target.deleteImage(image.id, { signal: ctx.signal });
      }
      out.push({
        index: disk.index,
        name: v.name,
        id: vol.id,
        sizeGiB: v.sizeGiB,
        bootable: v.bootable,
        fromImageId: image?.id ?? '',
      });
    }
    crashPoint(ctx, 'after');
    return { volumes: out };
  },
  async compensate(ctx) {
    const { target } = ctx.services;
    const saved = Object.values((ctx.lastCheckpoint as Record<number, string> | undefined) ?? {});
    for (const v of await target.findVolumesByMetadata({ v2o_run: ctx.runId }, { signal: ctx.signal })) {
      // The attached ones are attach-volumes' to detach and delete.
      const imageRoute =
        ctx.params.plan.disks.find((d) => String(d.index) === v.metadata.v2o_disk)?.route !== 'volume';
      if (imageRoute || saved.includes(v.id)) await target.deleteVolume(v.id, { signal: ctx.signal });
    }
  },
};
