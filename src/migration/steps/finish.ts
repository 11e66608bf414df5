// Step 14: the summary (ids, times, bytes, rate). The source stays powered off unless the plan
// says sourceAfter: power-on (for a test migration that keeps the original in service).
import { formatBytes } from '../../format-bytes.js';
import { type Ctx, crashPoint, type MigrationStep, sourceMoref } from './common.js';
import type { CopyVolumesOutput } from './copy-volumes.js';
import type { CreateVolumesOutput } from './create-volumes.js';
import type { DetachVolumesOutput } from './detach-volumes.js';
import type { LaunchOutput } from './launch.js';
import type { PrecopyOutput } from './precopy.js';
import type { ShutdownOutput } from './shutdown.js';
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
  /**
   * The source's downtime: shutdown start → boot verified, in seconds, with its parts; and the
   * bytes and seconds of the copy done while it was down (warm: the final pass) beside the last
   * pass made while it ran. Absent for runs journaled before issue 14.
   */
  downtime?: {
    seconds: number;
    parts: { shutdown: number; copy: number; launch: number; boot: number };
    copyBytes: number;
    lastPrecopyPass?: { pass: number; bytes: number; seconds: number };
  };
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
    const created = ctx.outputOf<CreateVolumesOutput>('create-volumes')?.volumes ?? [];
    const written = ctx.outputOf<DetachVolumesOutput>('detach-volumes')?.volumes ?? [];
    const vols = { volumes: [...created, ...written] };
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
    const copied = ctx.outputOf<CopyVolumesOutput>('copy-volumes')?.pass;
    const bytes = (up?.bytes ?? 0) + (copied?.bytes ?? 0);
    const seconds = (up?.seconds ?? 0) + (copied?.seconds ?? 0);
    const downtime = downtimeOf(ctx, l, boot);
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
      ...(downtime ? { downtime } : {}),
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
      message: `server ${summary.server.id} ${bootText(boot)}; ${formatBytes(bytes)} at ${summary.rateMBps} MB/s${downtime ? `; ${downtimeText(downtime)}` : ''}${boot?.warning ? `\nwarning: ${boot.warning}` : ''}`,
    });
    return summary;
  },
};

/** Shutdown start → boot verified (or ACTIVE when the boot is not checked), from the steps' times. */
function downtimeOf(
  ctx: Ctx,
  l: LaunchOutput,
  boot: VerifyBootOutput | undefined,
): MigrationSummary['downtime'] {
  const down = ctx.outputOf<ShutdownOutput>('shutdown');
  if (!down?.startedAt || !down.endedAt || !l.startedAt || !l.endedAt) return undefined;
  const bootedAt = boot?.attempts.at(-1)?.endedAt ?? l.endedAt;
  const s = (ms: number) => Math.max(0, Math.round(ms / 100) / 10);
  const copied = ctx.outputOf<CopyVolumesOutput>('copy-volumes')?.pass;
  const up = ctx.outputOf<UploadImagesOutput>('upload-images');
  const last = ctx.outputOf<PrecopyOutput>('precopy')?.passes.at(-1);
  return {
    seconds: s(bootedAt - down.startedAt),
    parts: {
      shutdown: s(down.endedAt - down.startedAt),
      // Everything between the source going off and the server being asked for: copies, images, volumes.
      copy: s(l.startedAt - down.endedAt),
      launch: s(l.endedAt - l.startedAt),
      boot: s(bootedAt - l.endedAt),
    },
    copyBytes: (copied?.bytes ?? 0) + (up?.bytes ?? 0),
    ...(last ? { lastPrecopyPass: { pass: last.pass, bytes: last.bytes, seconds: last.seconds } } : {}),
  };
}

function downtimeText(d: NonNullable<MigrationSummary['downtime']>): string {
  const p = d.parts;
  const last = d.lastPrecopyPass
    ? `; last precopy pass ${formatBytes(d.lastPrecopyPass.bytes)} in ${d.lastPrecopyPass.seconds.toFixed(1)} s`
    : '';
  return `downtime ${d.seconds} s (shutdown ${p.shutdown} s, copy ${p.copy} s of ${formatBytes(d.copyBytes)}, launch ${p.launch} s, boot ${p.boot} s)${last}`;
}

function bootText(boot: VerifyBootOutput | undefined): string {
  if (!boot) return 'ACTIVE';
  if (boot.outcome === 'unchecked') return 'ACTIVE (boot not verified: bootCheck: none)';
  return `booted on ${boot.bus}${boot.attempts.length > 1 ? ' after the SATA fallback' : ''} (Windows build ${boot.marker?.osBuild}, ${boot.marker?.hostname})`;
}
