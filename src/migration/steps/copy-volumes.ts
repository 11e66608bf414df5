// After the shutdown, into the attached volumes: warm → the final pass (the areas changed since
// the last precopy pass, asked of vSphere without a snapshot since the VM is off); cold → every
// volume-route disk copied whole from its flat extent. Either way checkpointed per extent, so a
// killed copy continues where it stopped (a Glance PUT would start the disk again).
import { formatBytes } from '../../format-bytes.js';
import { volumesOnThisHost } from '../copy/host.js';
import { newPass, type PassRecord, type PassState, removeLeftoverSnapshots, runPass } from '../copy/pass.js';
import { isWarm, volumeDisks } from '../copy/routes.js';
import { COPY_RETRY } from './base-copy.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import type { PrecopyOutput } from './precopy.js';

export interface CopyVolumesOutput {
  pass: PassRecord;
}

interface Saved {
  v: 1;
  pass: PassState;
}

export const copyVolumes: MigrationStep<CopyVolumesOutput> = {
  id: 'copy-volumes',
  title: 'Copy to the volumes',
  retry: COPY_RETRY,
  timeoutMs: 7 * 24 * 60 * 60_000,
  plan: ({ params }) => {
    const disks = params.plan.disks.filter((d) => d.route === 'volume');
    if (disks.length === 0) return { summary: 'no disk takes the volume route', skip: true };
    const warm = params.plan.settings.migration === 'warm';
    return {
      summary: warm
        ? `final pass with the VM off: the areas changed since the last precopy pass of ${disks.length} disk(s)`
        : `${disks.map((d) => `${d.label} (${formatBytes(d.sizeBytes)})`).join(', ')} copied whole from the flat extent into the attached volume, resumable mid-disk`,
      details: {
        disks: disks.map((d) => ({
          disk: d.label,
          route: d.route,
          resumesMidDisk: d.resumesMidDisk,
          flatExtent: d.layout?.flatExtent,
        })),
      },
    };
  },
  skipIf: (ctx) => volumeDisks(ctx).length === 0,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const attached = await volumesOnThisHost(ctx);
    const warm = isWarm(ctx);
    const last = ctx.lastCheckpoint as Saved | undefined;
    const saved: Saved =
      last?.v === 1 ? structuredClone(last) : { v: 1, pass: newPass(ctx, -1, warm ? 'final' : 'cold') };
    const { record } = await runPass(ctx, {
      state: saved.pass,
      save: () => ctx.checkpoint(saved),
      attached,
      ...(warm ? { baseline: ctx.outputOf<PrecopyOutput>('precopy')?.disks } : {}),
    });
    ctx.progress.update({ message: `${formatBytes(record.bytes)} in ${record.seconds.toFixed(1)} s` });
    crashPoint(ctx, 'after');
    return { pass: record };
  },
  async compensate(ctx) {
    await removeLeftoverSnapshots(ctx);
  },
};
