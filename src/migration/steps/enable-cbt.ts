// Warm only: Changed Block Tracking on (ReconfigVM changeTrackingEnabled), the VM's own setting
// journaled first so restore-cbt (and a rollback) put it back. vSphere starts tracking only after
// the VM's disks are reopened, a "stun-unstun cycle" (VMware KB 1031873, "Changed Block Tracking
// (CBT) on virtual machines"): a snapshot created and removed at once does that without a reboot.
import { isFault } from '../../vsphere/errors.js';
import { ChangeTrackingError, snapshotFailed } from '../copy/errors.js';
import { removeLeftoverSnapshots } from '../copy/pass.js';
import { isWarm, snapshotName } from '../copy/routes.js';
import { type Ctx, crashPoint, type MigrationStep, RECONFIG_RETRY, sourceMoref } from './common.js';

export interface EnableCbtOutput {
  /** config.changeTrackingEnabled before this run: restore-cbt sets it back. */
  previous: boolean;
  /** A snapshot was created and removed so tracking took effect. */
  stunned: boolean;
}

interface Saved {
  previous: boolean;
}

export const enableCbt: MigrationStep<EnableCbtOutput> = {
  id: 'enable-cbt',
  title: 'Enable Changed Block Tracking',
  retry: { ...RECONFIG_RETRY, nonRetryable: ['ChangeTrackingError', 'SnapshotError'] },
  timeoutMs: 15 * 60_000,
  plan: ({ params }) =>
    params.plan.settings.migration === 'warm'
      ? {
          summary:
            'changeTrackingEnabled on (the VM’s setting journaled and restored at the end), then a snapshot created and removed so tracking starts',
        }
      : { summary: 'cold migration: CBT not used', skip: true },
  skipIf: (ctx) => !isWarm(ctx),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { source } = ctx.services;
    const vm = sourceMoref(ctx);
    const sig = { signal: ctx.signal };
    const ct = await source.changeTracking(vm, sig);
    if (ct.hardwareVersion < 7) {
      throw new ChangeTrackingError(
        `CBT cannot be enabled on ${ctx.params.vm}: virtual hardware version ${ct.hardwareVersion} (7 or later needed)`,
        {
          hint: 'upgrade the VM’s compatibility with the VM off, or cancel this run and migrate with migration: cold',
        },
      );
    }
    // The setting before this run, journaled before anything changes it (a re-run keeps the first).
    const saved: Saved = (ctx.lastCheckpoint as Saved | undefined) ?? { previous: ct.enabled };
    ctx.checkpoint(saved);
    if (!ct.enabled) {
      await source.setChangeTracking(vm, true, sig).catch((err) => {
        if (isFault(err, 'InvalidState', 'InvalidPowerState', 'FileFault', 'NotSupported')) {
          throw new ChangeTrackingError(
            `CBT cannot be enabled on ${ctx.params.vm}: ${(err as Error).message}`,
            {
              cause: err,
              hint: `vSphere refuses to change changeTrackingEnabled while snapshots exist or the VM is busy: remove its snapshots (govc snapshot.tree -vm '${ctx.params.vm}'), then \`v2o resume ${ctx.runId}\``,
            },
          );
        }
        throw err;
      });
      ctx.event('cbt.enabled', { previous: saved.previous });
    }
    crashPoint(ctx, 'mid');
    await removeLeftoverSnapshots(ctx);
    const tracking = (await source.changeTracking(vm, sig)).disks.every((d) => d.changeId);
    let stunned = false;
    if (!tracking && ct.powerState === 'poweredOn') {
      const made = await source
        .createSnapshot(vm, { name: snapshotName(ctx.runId, 'cbt'), description: 'v2o: start CBT' }, sig)
        .catch((err) => {
          throw snapshotFailed(err, ctx.params.vm, ctx.runId);
        });
      ctx.event('snapshot.created', { ref: made.snapshot.ref, name: made.snapshot.name });
      await source.removeSnapshot(made.snapshot.ref, sig);
      ctx.event('snapshot.removed', { ref: made.snapshot.ref });
      stunned = true;
    }
    crashPoint(ctx, 'after');
    return { previous: saved.previous, stunned };
  },
  async compensate(ctx, output) {
    await restoreChangeTracking(ctx, output?.previous ?? (ctx.lastCheckpoint as Saved | undefined)?.previous);
  },
};

/** Puts changeTrackingEnabled back to `previous` (undefined: this run never recorded it, so never changed it). */
export async function restoreChangeTracking(ctx: Ctx, previous: boolean | undefined): Promise<boolean> {
  if (previous === undefined) return false;
  const vm = sourceMoref(ctx);
  const ct = await ctx.services.source.changeTracking(vm, { signal: ctx.signal });
  if (ct.enabled !== previous)
    await ctx.services.source.setChangeTracking(vm, previous, { signal: ctx.signal });
  ctx.event('cbt.restored', { enabled: previous });
  return true;
}
