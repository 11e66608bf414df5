// Step 8, the last change in the running guest before it goes down (after the first-boot task is
// in place): with `bitlocker: suspend`, BitLocker protection suspended on every protected volume
// until resumed (-RebootCount 0), so Windows opens its disk on OpenStack without the keys sealed
// to this VM; with `clock: localtime`, RealTimeIsUniversal cleared, as Nova gives Windows a
// local-time clock; Fast Startup turned off (HiberbootEnabled=0), so the disk holds a Windows that
// was shut down, not a hibernated kernel. What it will change is journaled before it changes it, and read back after.
// Its rollback restores exactly that on the source (powered on again for it), so a source that
// runs again after a rollback is the server it was.
import { NonRetryableError } from '../../errors.js';
import { captureGuest, encodedPowerShell } from '../guest/capture.js';
import type { GuestFacts } from '../guest/facts.js';
import {
  type Ctx,
  crashPoint,
  guestCredentials,
  type MigrationStep,
  sourceMoref,
  sourceRunningForRollback,
} from './common.js';
import type { PreflightOutput } from './preflight.js';

/** What the step changed (and journals before changing it): what its rollback undoes. */
export interface GuestChanges {
  /** Mount points whose BitLocker protection v2o suspended. */
  bitlockerSuspended: string[];
  /** RealTimeIsUniversal was 1 and v2o set it to 0. */
  realTimeIsUniversalCleared: boolean;
  /** HiberbootEnabled was 1 and v2o set it to 0 (absent in runs journaled before it was done). */
  fastStartupDisabled?: boolean;
}

export interface PrepareShutdownOutput extends GuestChanges {
  /** What was done, in words, for `v2o status`. */
  notes: string[];
}

export class GuestPrepareError extends NonRetryableError {}

const TZ_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation';

export const suspendBitlockerCommand = (mountPoint: string) =>
  encodedPowerShell(`Suspend-BitLocker -MountPoint '${mountPoint}' -RebootCount 0`);
export const resumeBitlockerCommand = (mountPoint: string) =>
  encodedPowerShell(`Resume-BitLocker -MountPoint '${mountPoint}'`);
export const realTimeIsUniversalCommand = (value: 0 | 1) =>
  `reg add "${TZ_KEY}" /v RealTimeIsUniversal /t REG_DWORD /d ${value} /f`;
const POWER_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Power';
export const hiberbootCommand = (value: 0 | 1) =>
  `reg add "${POWER_KEY}" /v HiberbootEnabled /t REG_DWORD /d ${value} /f`;

/** What the settings ask to change in a guest with these facts. Pure. */
export function plannedGuestChanges(
  facts: GuestFacts | undefined,
  settings: { bitlocker: 'block' | 'suspend'; clock: 'localtime' | 'utc' },
): GuestChanges {
  return {
    bitlockerSuspended:
      facts && settings.bitlocker === 'suspend'
        ? facts.bitlocker.filter((v) => v.protection === 'On').map((v) => v.mountPoint)
        : [],
    realTimeIsUniversalCleared: !!facts && settings.clock === 'localtime' && facts.realTimeIsUniversal,
    fastStartupDisabled: !!facts?.fastStartup,
  };
}

const nothing = (c: GuestChanges) =>
  c.bitlockerSuspended.length === 0 && !c.realTimeIsUniversalCleared && !c.fastStartupDisabled;

function describe(c: GuestChanges): string[] {
  return [
    ...c.bitlockerSuspended.map(
      (mp) =>
        `BitLocker suspended on ${mp} (-RebootCount 0): it stays suspended on OpenStack until you protect the disk again (Resume-BitLocker on a vTPM-capable server, or another protector)`,
    ),
    ...(c.realTimeIsUniversalCleared
      ? ['RealTimeIsUniversal cleared (set to 0): Nova gives Windows a local-time clock (clock: localtime)']
      : []),
    ...(c.fastStartupDisabled
      ? ['Fast Startup turned off (HiberbootEnabled=0): the disk holds a Windows that was shut down']
      : []),
  ];
}

async function run(ctx: Ctx, vm: string, command: string, what: string, fix: string): Promise<void> {
  const r = await ctx.services.source.runInGuest(vm, guestCredentials(ctx), command, {
    signal: ctx.signal,
    timeoutMs: 2 * 60_000,
  });
  ctx.log.info({ what, exitCode: r.exitCode }, 'guest command');
  if (r.exitCode !== 0)
    throw new GuestPrepareError(
      `${what} failed in the guest (exit ${r.exitCode}${r.output.trim() ? `: ${r.output.trim().slice(0, 300)}` : ''})`,
      { hint: fix },
    );
}

export const prepareShutdown: MigrationStep<PrepareShutdownOutput> = {
  id: 'prepare-shutdown',
  title: 'Prepare the guest for shutdown (BitLocker, clock, Fast Startup)',
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['GuestPrepareError', 'GuestCaptureError', 'GuestParseError'],
  },
  timeoutMs: 10 * 60_000,
  plan: ({ params }) => {
    const notes = describe(plannedGuestChanges(params.plan.guest, params.plan.settings));
    return notes.length
      ? { summary: notes.join('; ') }
      : {
          summary: params.plan.guest
            ? 'nothing to change in the guest (no BitLocker to suspend, no UTC clock to clear, Fast Startup off)'
            : 'the guest was not inspected: nothing to change',
        };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const facts = ctx.outputOf<PreflightOutput>('preflight')?.guest ?? ctx.params.plan.guest;
    const planned = plannedGuestChanges(facts, ctx.params.plan.settings);
    if (nothing(planned)) {
      crashPoint(ctx, 'after');
      return { ...planned, notes: [] };
    }
    const vm = sourceMoref(ctx);
    // Journaled first: a crash between the change and the step's end still leaves the rollback its list.
    ctx.checkpoint(planned);
    const again = `the VM still runs on VMware; fix the cause, then \`v2o resume ${ctx.runId}\``;
    for (const mp of planned.bitlockerSuspended) {
      ctx.progress.update({ message: `suspending BitLocker on ${mp}` });
      await run(ctx, vm, suspendBitlockerCommand(mp), `Suspend-BitLocker -MountPoint '${mp}'`, again);
    }
    if (planned.realTimeIsUniversalCleared) {
      ctx.progress.update({ message: 'clearing RealTimeIsUniversal' });
      await run(ctx, vm, realTimeIsUniversalCommand(0), 'reg add … RealTimeIsUniversal /d 0', again);
    }
    if (planned.fastStartupDisabled) {
      ctx.progress.update({ message: 'turning Fast Startup off' });
      await run(ctx, vm, hiberbootCommand(0), 'reg add … HiberbootEnabled /d 0', again);
    }
    crashPoint(ctx, 'mid');
    // Read back, not trusted: what the guest reports now.
    const now = await captureGuest(ctx.services.source, vm, guestCredentials(ctx), { signal: ctx.signal });
    const still = planned.bitlockerSuspended.filter(
      (mp) => now.bitlocker.find((v) => v.mountPoint === mp)?.protection !== 'Off',
    );
    const what = [
      ...still.map((mp) => `BitLocker protection on ${mp} is not suspended`),
      ...(planned.realTimeIsUniversalCleared && now.realTimeIsUniversal
        ? ['RealTimeIsUniversal is still 1']
        : []),
      ...(planned.fastStartupDisabled && now.fastStartup ? ['HiberbootEnabled is still 1'] : []),
    ];
    if (what.length) {
      throw new GuestPrepareError(`the guest was not prepared for shutdown: ${what.join('; ')}`, {
        hint: again,
      });
    }
    const notes = describe(planned);
    for (const n of notes) ctx.log.info(n);
    ctx.event('guest.prepared', { ...planned });
    ctx.progress.update({ message: notes.join('; ') });
    crashPoint(ctx, 'after');
    return { ...planned, notes };
  },
  /**
   * Restores what run() changed, on the running source: powers it on when the shutdown already
   * happened (preflight's compensation then finds it on), waits for VMware Tools, resumes BitLocker
   * and sets RealTimeIsUniversal back to 1, and reads both back.
   */
  async compensate(ctx, output) {
    const changes = (output ?? ctx.lastCheckpoint) as GuestChanges | undefined;
    if (!changes || nothing(changes)) return;
    const { source } = ctx.services;
    const vm = sourceMoref(ctx);
    const sig = { signal: ctx.signal };
    if (!(await sourceRunningForRollback(ctx, 'undo the pre-shutdown changes'))) {
      throw new GuestPrepareError(
        `rollback: VMware Tools did not start in the source VM within 10 min, so ${describeUndo(changes)} could not be done`,
        {
          hint: `start the VM with VMware Tools running, then \`v2o cancel ${ctx.runId} --rollback\` again; or do it in the guest yourself`,
        },
      );
    }
    const fix = `fix the cause, then \`v2o cancel ${ctx.runId} --rollback\` again; or do it in the guest yourself: ${describeUndo(changes)}`;
    for (const mp of changes.bitlockerSuspended)
      await run(ctx, vm, resumeBitlockerCommand(mp), `Resume-BitLocker -MountPoint '${mp}'`, fix);
    if (changes.realTimeIsUniversalCleared)
      await run(ctx, vm, realTimeIsUniversalCommand(1), 'reg add … RealTimeIsUniversal /d 1', fix);
    if (changes.fastStartupDisabled)
      await run(ctx, vm, hiberbootCommand(1), 'reg add … HiberbootEnabled /d 1', fix);
    const now = await captureGuest(source, vm, guestCredentials(ctx), sig);
    const wrong = [
      ...changes.bitlockerSuspended
        .filter((mp) => now.bitlocker.find((v) => v.mountPoint === mp)?.protection !== 'On')
        .map((mp) => `BitLocker protection on ${mp} is not on`),
      ...(changes.realTimeIsUniversalCleared && !now.realTimeIsUniversal
        ? ['RealTimeIsUniversal is not 1']
        : []),
      ...(changes.fastStartupDisabled && !now.fastStartup ? ['HiberbootEnabled is not 1'] : []),
    ];
    if (wrong.length) throw new GuestPrepareError(`rollback: ${wrong.join('; ')}`, { hint: fix });
    ctx.log.info({ ...changes }, 'rollback: the pre-shutdown changes were undone in the source');
  },
};

function describeUndo(c: GuestChanges): string {
  return [
    ...c.bitlockerSuspended.map((mp) => `Resume-BitLocker -MountPoint '${mp}'`),
    ...(c.realTimeIsUniversalCleared ? [realTimeIsUniversalCommand(1)] : []),
    ...(c.fastStartupDisabled ? [hiberbootCommand(1)] : []),
  ].join('; ');
}
