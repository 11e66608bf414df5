// Warm only: the gate between the precopy passes and the shutdown. It waits for `v2o cutover`
// (which may name a time) unless warm.cutoverAt has come; skipped for cold migrations, which have
// nothing to cut over.
import { isWarm } from '../copy/routes.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import type { PrecopyOutput } from './precopy.js';

export interface CutoverOutput {
  /** When the cutover began (ms since the epoch): the downtime is measured from the shutdown. */
  at: number;
  by: string;
  passes: number;
}

export const cutover: MigrationStep<CutoverOutput> = {
  id: 'cutover',
  title: 'Cutover',
  plan: ({ params }) => {
    if (params.plan.settings.migration !== 'warm')
      return { summary: 'cold migration: nothing to cut over', skip: true };
    const at = params.plan.settings.warm.cutoverAt;
    return {
      summary: at
        ? `at ${at} (warm.cutoverAt), or earlier with \`v2o cutover <run>\`: shutdown, final changed areas, launch from the volumes`
        : 'waits for `v2o cutover <run> [--at TIME]`: then shutdown, final changed areas, launch from the volumes',
    };
  },
  skipIf: (ctx) => !isWarm(ctx),
  gate(ctx) {
    const at = ctx.params.plan.settings.warm.cutoverAt;
    if (at && Date.parse(at) <= ctx.clock.now()) return undefined;
    const pre = ctx.outputOf<PrecopyOutput>('precopy');
    return {
      message: `${pre?.warning ? `${pre.warning}. ` : ''}the volumes are in sync up to the last precopy pass; cut over with \`v2o cutover ${ctx.runId}\` (or --at HH:MM)`,
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const approval = ctx.approvalOf('cutover');
    const passes = ctx.outputOf<PrecopyOutput>('precopy')?.passes.length ?? 0;
    return { at: ctx.clock.now(), by: approval?.by ?? 'warm.cutoverAt', passes };
  },
};
