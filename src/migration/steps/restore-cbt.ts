// Warm only, after the final copy: changeTrackingEnabled back to what it was before the run
// (enable-cbt journaled it), so the source VM is left as it was found.
import { isWarm } from '../copy/routes.js';
import { type Ctx, crashPoint, type MigrationStep, RECONFIG_RETRY } from './common.js';
import { type EnableCbtOutput, restoreChangeTracking } from './enable-cbt.js';

export const restoreCbt: MigrationStep<{ enabled: boolean }> = {
  id: 'restore-cbt',
  title: 'Restore the CBT setting',
  retry: RECONFIG_RETRY,
  timeoutMs: 5 * 60_000,
  plan: ({ params }) =>
    params.plan.settings.migration === 'warm'
      ? { summary: 'changeTrackingEnabled back to the VM’s own setting' }
      : { summary: 'cold migration: CBT not used', skip: true },
  skipIf: (ctx) => !isWarm(ctx) || !ctx.outputOf<EnableCbtOutput>('enable-cbt'),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const previous = ctx.outputOf<EnableCbtOutput>('enable-cbt')!.previous;
    await restoreChangeTracking(ctx, previous);
    crashPoint(ctx, 'after');
    return { enabled: previous };
  },
};
