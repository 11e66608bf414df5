// Warm only: the precopy passes. Each time the step runs it does at most one due pass (snapshot,
// the areas changed since the journaled changeId, copy, remove the snapshot, journal the new
// changeId), then waits in the journal until the next one (ctx.waitUntil: no process needed; a
// `v2o resume` or a worker runs it again then). It ends — and the run goes on to the cutover gate —
// when the cutover is due (`v2o cutover`, or warm.cutoverAt), or after warm.maxPasses passes
// (with a warning: the gate then waits for the operator).
import { formatBytes } from '../../format-bytes.js';
import { volumesOnThisHost } from '../copy/host.js';
import {
  type DiskBaseline,
  emitEstimate,
  newPass,
  type PassRecord,
  type PassState,
  removeLeftoverSnapshots,
  runPass,
} from '../copy/pass.js';
import { isWarm } from '../copy/routes.js';
import { type BaseCopyOutput, COPY_RETRY } from './base-copy.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';

export interface PrecopyOutput {
  passes: PassRecord[];
  /** Per disk key: where the final pass starts from. */
  disks: Record<number, DiskBaseline>;
  endedBy: 'cutover' | 'cutoverAt' | 'maxPasses';
  warning?: string;
}

interface Saved {
  v: 1;
  passes: PassRecord[];
  disks: Record<number, DiskBaseline>;
  nextPassAt: number;
  /** The pass in flight. */
  current?: PassState;
}

/** Why the cutover is due now, if it is: the operator's `v2o cutover` (its time reached) or warm.cutoverAt. */
export function cutoverDue(ctx: Ctx): 'cutover' | 'cutoverAt' | undefined {
  const now = ctx.clock.now();
  const a = ctx.approvalOf('cutover');
  if (a && (a.notBefore ?? a.at) <= now) return 'cutover';
  const at = ctx.params.plan.settings.warm.cutoverAt;
  if (at && Date.parse(at) <= now) return 'cutoverAt';
  return undefined;
}

/** The earliest time the cutover is asked for, if any (the wait never sleeps past it). */
function cutoverTime(ctx: Ctx): number | undefined {
  const a = ctx.approvalOf('cutover');
  const at = ctx.params.plan.settings.warm.cutoverAt;
  const times = [a ? (a.notBefore ?? a.at) : undefined, at ? Date.parse(at) : undefined].filter(
    (t): t is number => t !== undefined,
  );
  return times.length ? Math.min(...times) : undefined;
}

export const precopy: MigrationStep<PrecopyOutput> = {
  id: 'precopy',
  title: 'Precopy passes',
  retry: COPY_RETRY,
  timeoutMs: 7 * 24 * 60 * 60_000,
  plan: ({ params }) => {
    const w = params.plan.settings.warm;
    if (params.plan.settings.migration !== 'warm')
      return { summary: 'cold migration: no precopy', skip: true };
    return {
      summary: `a pass of changed areas every ${w.passIntervalMinutes} min, at most ${w.maxPasses}, the run waiting between them; until \`v2o cutover\`${w.cutoverAt ? ` or ${w.cutoverAt} (warm.cutoverAt)` : ''}`,
      details: { ...w },
    };
  },
  skipIf: (ctx) => !isWarm(ctx),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const w = ctx.params.plan.settings.warm;
    const intervalMs = w.passIntervalMinutes * 60_000;
    const attached = await volumesOnThisHost(ctx);
    const last = ctx.lastCheckpoint as Saved | undefined;
    let saved: Saved;
    if (last?.v === 1) saved = structuredClone(last);
    else {
      const base = ctx.outputOf<BaseCopyOutput>('base-copy')!;
      saved = {
        v: 1,
        passes: [],
        disks: Object.fromEntries(
          Object.entries(base.disks).map(([k, d]) => [
            k,
            { changeId: d.changeId, capacityBytes: d.capacityBytes },
          ]),
        ),
        nextPassAt: base.pass.endedAt + intervalMs,
      };
      ctx.checkpoint(saved);
    }
    const save = () => ctx.checkpoint(saved);
    const done = (endedBy: PrecopyOutput['endedBy'], warning?: string): PrecopyOutput => {
      crashPoint(ctx, 'after');
      return { passes: saved.passes, disks: saved.disks, endedBy, ...(warning ? { warning } : {}) };
    };
    const maxed = () => {
      const warning = `warm.maxPasses (${w.maxPasses}) reached: no more precopy passes; the run waits at the cutover gate (v2o cutover ${ctx.runId})`;
      ctx.log.warn(warning);
      ctx.event('precopy.max-passes', { maxPasses: w.maxPasses });
      return done('maxPasses', warning);
    };

    if (!saved.current) {
      // A kill between passes can leave nothing; a snapshot of this run here is not journaled.
      await removeLeftoverSnapshots(ctx);
      const due = cutoverDue(ctx);
      if (due) return done(due);
      if (saved.passes.length >= w.maxPasses) return maxed();
      if (ctx.clock.now() < saved.nextPassAt) return wait(ctx, saved);
      saved.current = newPass(ctx, saved.passes.length + 1, 'precopy');
      save();
    }
    const { record, baseline } = await runPass(ctx, {
      state: saved.current,
      save,
      attached,
      baseline: saved.disks,
    });
    saved.passes.push(record);
    saved.disks = baseline;
    saved.current = undefined;
    saved.nextPassAt = record.endedAt + intervalMs;
    save();
    emitEstimate(ctx, record, saved.nextPassAt);
    ctx.progress.update({
      message: `pass ${record.pass}: ${formatBytes(record.bytes)} in ${record.seconds.toFixed(1)} s`,
    });
    const due = cutoverDue(ctx);
    if (due) return done(due);
    if (saved.passes.length >= w.maxPasses) return maxed();
    return wait(ctx, saved);
  },
  async compensate(ctx) {
    await removeLeftoverSnapshots(ctx);
  },
};

function wait(ctx: Ctx, saved: Saved): never {
  const cut = cutoverTime(ctx);
  const at = cut !== undefined && cut < saved.nextPassAt ? cut : saved.nextPassAt;
  const n = saved.passes.length + 1;
  return ctx.waitUntil(
    at,
    at === saved.nextPassAt ? `precopy pass ${n} is due then` : 'the cutover is due then',
  );
}
