// The plan's volume-route disks and the run's snapshot names, shared by the warm and volume steps.
import type { PlannedDisk } from '../plan/types.js';
import type { Ctx } from '../steps/common.js';

/** The disks written into attached volumes, in plan order (boot first). */
export function volumeDisks(ctx: Pick<Ctx, 'params'>): PlannedDisk[] {
  return ctx.params.plan.disks.filter((d) => d.route === 'volume');
}

export function isWarm(ctx: Pick<Ctx, 'params'>): boolean {
  return ctx.params.plan.settings.migration === 'warm';
}

/** Every snapshot of a run starts with this; rules/warm-snapshots.ts knows them as v2o's own. */
export function runSnapshotPrefix(runId: string): string {
  return `v2o-${runId}-`;
}

export function snapshotName(runId: string, what: string): string {
  return `${runSnapshotPrefix(runId)}${what}`;
}
