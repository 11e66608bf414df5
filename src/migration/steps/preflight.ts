// Step 1: check, right before changing anything, that the VM and the cloud still match the plan
// stored in the run (the plan may be hours old): the guest is inspected again (read-only), its
// rules judged with the run's settings, and its network identity compared with the plan's (which
// the first-boot task will replay). The facts are journaled as the step's output. Its
// compensation is the last word of a rollback: delete whatever this run created in OpenStack (by
// tag), then power the source back on if it was on.
import { NonRetryableError } from '../../errors.js';
import { buildPlan } from '../build-plan.js';
import { probeRandomReads } from '../copy/probe.js';
import { volumeDisks } from '../copy/routes.js';
import type { GuestFacts } from '../guest/facts.js';
import { networkIdentityChanges } from '../guest/identity.js';
import { inspectGuest } from '../guest/inspect.js';
import { sweepRunResources } from '../rollback.js';
import { gatherInventory } from '../services.js';
import { type Ctx, crashPoint, guestCredentials, type MigrationStep, sourceMoref } from './common.js';

export interface PreflightOutput {
  powerState: string;
  toolsRunning: boolean;
  warnings: string[];
  /** The guest's facts as captured now (undefined: not inspected, see warnings). */
  guest?: GuestFacts;
}

export class PreflightError extends NonRetryableError {}

export const preflight: MigrationStep<PreflightOutput> = {
  id: 'preflight',
  title: 'Preflight checks',
  retry: {
    attempts: 3,
    initialDelayMs: 2_000,
    backoff: 2,
    maxDelayMs: 20_000,
    nonRetryable: ['PreflightError'],
  },
  timeoutMs: 5 * 60_000,
  plan: ({ params }) => {
    const p = params.plan;
    return {
      summary: p.source
        ? `VM ${p.vm} (${p.windows?.label ?? p.source.guestId}, ${p.source.firmware}${p.source.secureBoot ? ' + secure boot' : ''}, ${p.source.cpus} vCPU, ${p.source.memoryMiB} MiB, ${p.source.powerState}, tools ${p.source.toolsRunning ? 'running' : 'not running'})`
        : `VM ${p.vm}: not found`,
      blockers: p.blockers.map((b) => `${b.message} — fix: ${b.fix}`),
      warnings: p.warnings.map((w) => `${w.message} — fix: ${w.fix}`),
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const inv = await gatherInventory(ctx.services, ctx.params.vm, { signal: ctx.signal }, ctx.params.inputs);
    ctx.progress.update({ message: 'inspecting the guest (read-only)' });
    Object.assign(
      inv,
      await inspectGuest(
        ctx.services.source,
        inv.vm,
        ctx.params.plan.settings.guestCredentials,
        ctx.services.env,
        { signal: ctx.signal },
      ),
    );
    // The same inputs against today's inventory: rebuilding them from the stored plan would need
    // the inverse of buildPlan (flavor `auto`, network mappings), a second copy of its logic.
    const fresh = buildPlan(inv, ctx.params.inputs);
    const stored = ctx.params.plan;
    const problems = fresh.blockers.map((b) => `${b.message} (fix: ${b.fix})`);
    if (fresh.source && stored.source && fresh.source.moref !== stored.source.moref) {
      problems.push(
        `VM ${ctx.params.vm} is another VM now (${fresh.source.moref}, planned ${stored.source.moref})`,
      );
    }
    const sig = (d: { key: number; sizeBytes: number }[]) =>
      d.map((x) => `${x.key}:${x.sizeBytes}`).join(',');
    if (fresh.source && sig(fresh.disks) !== sig(stored.disks)) {
      problems.push('the VM’s disks changed since the plan was made');
    }
    if (stored.guest && fresh.guest) {
      const changed = networkIdentityChanges(stored.guest, fresh.guest);
      if (changed.length)
        problems.push(
          `the guest's network identity changed since the plan was made (${changed.join('; ')}) (fix: cancel this run and migrate again, so the plan is rebuilt from the guest as it is)`,
        );
    } else if (stored.guest && inv.guestMissing && !inv.guestMissing.failed) {
      problems.push(
        `the plan holds the guest's facts, but the guest cannot be inspected again: ${inv.guestMissing.reason} (fix: ${inv.guestMissing.fix})`,
      );
    }
    // Checked only while the VM runs: the copy reads the flat extents at offsets (issue 14).
    problems.push(...(await probeRandomReads(ctx.services.source, volumeDisks(ctx), ctx.signal)));
    if (problems.length > 0) {
      throw new PreflightError(
        `preflight found ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`,
        {
          hint: `fix them and run \`v2o resume ${ctx.runId}\`, or cancel this run and migrate again if the VM changed`,
        },
      );
    }
    if (stored.drivers?.mode === 'auto') guestCredentials(ctx); // fail now, not after the ISO upload
    for (const w of fresh.warnings) ctx.log.warn({ code: w.code, fix: w.fix }, w.message);
    crashPoint(ctx, 'after');
    return {
      powerState: fresh.source!.powerState,
      toolsRunning: fresh.source!.toolsRunning,
      warnings: fresh.warnings.map((w) => w.message),
      ...(fresh.guest ? { guest: fresh.guest } : {}),
    };
  },
  async compensate(ctx) {
    await sweepRunResources(ctx.services.target, ctx.runId, ctx.log, ctx.signal);
    if (ctx.params.plan.source?.wasPoweredOn) {
      const vm = sourceMoref(ctx);
      if ((await ctx.services.source.powerState(vm, { signal: ctx.signal })) !== 'poweredOn') {
        await ctx.services.source.powerOn(vm, { signal: ctx.signal });
        ctx.log.info({ vm: ctx.params.vm }, 'rollback: source VM powered on again');
      }
    }
  },
};
