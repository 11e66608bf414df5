// Step 9: give the CD-ROM back its previous state, so the source VM is as it was (apart from the
// drivers, which are harmless on VMware) if it is ever powered on again.
import type { AttachIsoOutput } from './attach-iso.js';
import { type Ctx, crashPoint, type MigrationStep, RECONFIG_RETRY, sourceMoref } from './common.js';

export const restoreCdrom: MigrationStep<{ restored: boolean }> = {
  id: 'restore-cdrom',
  title: 'Restore the CD-ROM',
  retry: RECONFIG_RETRY,
  timeoutMs: 5 * 60_000,
  plan: ({ params }) =>
    params.plan.drivers?.iso
      ? { summary: 'put the CD-ROM back as it was (remove the drive if v2o added it)' }
      : { summary: 'no ISO was attached: skipped', skip: true },
  skipIf: (ctx) => !ctx.outputOf<AttachIsoOutput>('attach-iso'),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const attached = ctx.outputOf<AttachIsoOutput>('attach-iso')!;
    await ctx.services.source.restoreCdrom(sourceMoref(ctx), attached.previous, { signal: ctx.signal });
    crashPoint(ctx, 'after');
    return { restored: true };
  },
};
