// Step 14: the summary (ids, times, bytes, rate). The source stays powered off unless the plan
// says sourceAfter: power-on (for a test migration that keeps the original in service).
import { formatBytes } from '../../format-bytes.js';
import { type Ctx, crashPoint, type MigrationStep, sourceMoref } from './common.js';
import type { CreateVolumesOutput } from './create-volumes.js';
import type { LaunchOutput } from './launch.js';
import type { UploadImagesOutput } from './upload-images.js';
import type { VerifyBootOutput } from './verify-boot.js';

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
  /** What verify-boot heard from Windows (absent for runs journaled before it existed). */
  boot?: {
    outcome: VerifyBootOutput['outcome'];
    bus: string;
    attempts: number;
    marker?: VerifyBootOutput['marker'];
    warning?: string;
  };
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
    const boot = ctx.outputOf<VerifyBootOutput>('verify-boot');
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
      // After a SATA fallback the server that booted is verify-boot's, not launch's.
      server: { id: boot?.serverId ?? l.serverId, name: l.name, status: l.status },
      ports: l.ports,
      images: (up?.images ?? [])
        .filter((i) => !volumeImages.has(i.id))
        .map((i) => ({ id: i.id, name: i.name })),
      volumes: (vols?.volumes ?? []).map((v) => ({ id: v.id, name: v.name })),
      bytes,
      transferSeconds: seconds,
      rateMBps: seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 10) / 10 : 0,
      source,
      boot: boot && {
        outcome: boot.outcome,
        bus: boot.bus,
        attempts: boot.attempts.length,
        marker: boot.marker,
        warning: boot.warning,
      },
    };
    ctx.log.info(summary, 'migration finished');
    if (boot?.warning) ctx.log.warn(boot.warning);
    ctx.progress.update({
      // The fallback's warning goes on the screen, not only into the run log.
      message: `server ${summary.server.id} ${bootText(boot)}; ${formatBytes(bytes)} at ${summary.rateMBps} MB/s${boot?.warning ? `\nwarning: ${boot.warning}` : ''}`,
    });
    return summary;
  },
};

function bootText(boot: VerifyBootOutput | undefined): string {
  if (!boot) return 'ACTIVE';
  if (boot.outcome === 'unchecked') return 'ACTIVE (boot not verified: bootCheck: none)';
  return `booted on ${boot.bus}${boot.attempts.length > 1 ? ' after the SATA fallback' : ''} (Windows build ${boot.marker?.osBuild}, ${boot.marker?.hostname})`;
}
