// Step 12: the summary (ids, times, bytes, rate). The source stays powered off unless the plan
// says sourceAfter: power-on (for a test migration that keeps the original in service).
import { type Ctx, crashPoint, fmtBytes, type MigrationStep, sourceMoref } from './common.js';
import type { CreateVolumesOutput } from './create-volumes.js';
import type { LaunchOutput } from './launch.js';
import type { UploadImagesOutput } from './upload-images.js';

export interface MigrationSummary {
  vm: string;
  runId: string;
  server: { id: string; name: string; status: string };
  ports: LaunchOutput['ports'];
  images: { id: string; name: string }[];
  volumes: { id: string; name: string }[];
  bytes: number;
  transferSeconds: number;
  rateMBps: number;
  source: 'kept powered off' | 'powered on again';
}

export const finish: MigrationStep<MigrationSummary> = {
  id: 'finish',
  title: 'Finish',
  plan: ({ params }) => ({
    summary: `print the summary; the source VM ${params.plan.sourceAfter === 'power-on' ? 'is powered on again' : 'stays powered off'}`,
  }),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const up = ctx.outputOf<UploadImagesOutput>('upload-images');
    const vols = ctx.outputOf<CreateVolumesOutput>('create-volumes');
    const l = ctx.outputOf<LaunchOutput>('launch')!;
    let source: MigrationSummary['source'] = 'kept powered off';
    if (ctx.params.plan.sourceAfter === 'power-on') {
      const vm = sourceMoref(ctx);
      if ((await ctx.services.source.powerState(vm, { signal: ctx.signal })) !== 'poweredOn') {
        await ctx.services.source.powerOn(vm, { signal: ctx.signal });
      }
      source = 'powered on again';
    }
    const volumeImages = new Set((vols?.volumes ?? []).map((v) => v.fromImageId));
    const bytes = up?.bytes ?? 0;
    const seconds = up?.seconds ?? 0;
    const summary: MigrationSummary = {
      vm: ctx.params.vm,
      runId: ctx.runId,
      server: { id: l.serverId, name: l.name, status: l.status },
      ports: l.ports,
      images: (up?.images ?? [])
        .filter((i) => !volumeImages.has(i.id))
        .map((i) => ({ id: i.id, name: i.name })),
      volumes: (vols?.volumes ?? []).map((v) => ({ id: v.id, name: v.name })),
      bytes,
      transferSeconds: seconds,
      rateMBps: seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 10) / 10 : 0,
      source,
    };
    ctx.log.info(summary, 'migration finished');
    ctx.progress.update({
      message: `server ${l.serverId} ACTIVE; ${fmtBytes(bytes)} at ${summary.rateMBps} MB/s`,
    });
    return summary;
  },
};
