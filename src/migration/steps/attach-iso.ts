// Step 4: mount the ISO on the VM's CD-ROM (adding a drive when there is none), keeping the
// previous state so restore-cdrom (and a rollback) can put it back.
import { type Ctx, crashPoint, type MigrationStep, RECONFIG_RETRY, sourceMoref } from './common.js';
import type { UploadIsoOutput } from './upload-iso.js';

export interface AttachIsoOutput {
  datastorePath: string;
  /** Opaque state from the vSphere client, given back to restoreCdrom. */
  previous: unknown;
}

export const attachIso: MigrationStep<AttachIsoOutput> = {
  id: 'attach-iso',
  title: 'Attach the ISO to a CD-ROM',
  retry: RECONFIG_RETRY,
  timeoutMs: 5 * 60_000,
  plan: ({ params }) =>
    params.plan.drivers?.iso
      ? {
          summary:
            'mount the ISO on the first CD-ROM (add one if none); the previous state is kept and restored after shutdown',
        }
      : { summary: 'no ISO: skipped', skip: true },
  skipIf: (ctx) => !ctx.params.plan.drivers?.iso,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const up = ctx.outputOf<UploadIsoOutput>('upload-iso')!;
    // The state to restore is journaled before the VM changes: a re-run after a crash would see
    // our own ISO as "previous", so the first answer is kept.
    const saved = ctx.lastCheckpoint as { previous?: unknown } | undefined;
    const previous = await ctx.services.source.attachIso(sourceMoref(ctx), up.datastorePath, {
      signal: ctx.signal,
      beforeChange: (p) => {
        if (saved?.previous === undefined) ctx.checkpoint({ previous: p });
        crashPoint(ctx, 'mid');
      },
    });
    crashPoint(ctx, 'after');
    return { datastorePath: up.datastorePath, previous: saved?.previous ?? previous };
  },
  async compensate(ctx, output) {
    // Without an output the step stopped part-way (cancel --rollback after a crash): the journaled
    // state is what to put back, if the VM got as far as being changed.
    const previous = output?.previous ?? (ctx.lastCheckpoint as { previous?: unknown } | undefined)?.previous;
    if (previous === undefined) return;
    await ctx.services.source.restoreCdrom(sourceMoref(ctx), previous, { signal: ctx.signal });
  },
};
