// Step 5: get the virtio drivers into Windows while it still runs on VMware.
// auto: through VMware Tools guest operations — pnputil for each driver from the ISO folder of
// this Windows version, then make the storage driver for the chosen bus boot-critical (Start=0).
// manual: a gate — the run waits (exit 3) with exact instructions until `v2o approve`.
// Every command and its output go into the step output, i.e. the journal.
import { NonRetryableError, V2oError } from '../../errors.js';
import type { AttachIsoOutput } from './attach-iso.js';
import { type Ctx, crashPoint, guestCredentials, type MigrationStep, sourceMoref } from './common.js';
import {
  bootCriticalCommand,
  cdromDrives,
  installCommands,
  LIST_DRIVES,
  manualInstructions,
  PNPUTIL_OK,
  probeCommand,
} from './guest-drivers.js';

export interface CommandRecord {
  command: string;
  exitCode: number;
  output: string;
}

export interface InstallDriversOutput {
  mode: 'auto' | 'manual';
  drive?: string;
  commands: CommandRecord[];
}

export class DriverInstallError extends NonRetryableError {}

/** Keep the journal small: pnputil output is short, but a misbehaving guest might not be. */
const clip = (s: string) => (s.length > 8_000 ? `${s.slice(0, 8_000)}\n…(cut)` : s);

export const installDrivers: MigrationStep<InstallDriversOutput> = {
  id: 'install-drivers',
  title: 'Install the virtio drivers',
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['DriverInstallError'],
  },
  timeoutMs: 20 * 60_000,
  plan: ({ params }) => {
    const d = params.plan.drivers;
    if (!d) return { summary: 'unknown Windows version: no drivers can be chosen' };
    const what = d.install.map((i) => `${i.name} (${i.isoDir})`).join(', ');
    return d.mode === 'auto'
      ? {
          summary: `guest operations: pnputil ${what || '(no virtio storage/NIC driver needed)'}; reg add ${d.bootCriticalService} Start=0`,
          details: {
            install: d.install,
            bootCriticalService: d.bootCriticalService,
            serviceKey: d.serviceKey,
          },
        }
      : {
          summary: `manual: the run waits (exit 3) for you to install ${what || 'nothing'} and set ${d.bootCriticalService} Start=0, then \`v2o approve\``,
          details: { install: d.install, bootCriticalService: d.bootCriticalService },
        };
  },
  gate(ctx) {
    const d = ctx.params.plan.drivers;
    if (d?.mode !== 'manual') return undefined;
    const attached = ctx.outputOf<AttachIsoOutput>('attach-iso');
    return {
      message: manualInstructions(
        d,
        ctx.params.vm,
        ctx.params.plan.windows?.label ?? 'Windows',
        attached?.datastorePath,
      ),
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const d = ctx.params.plan.drivers;
    if (!d) throw new DriverInstallError('no driver plan: the Windows version was not recognised');
    if (d.mode === 'manual') return { mode: 'manual', commands: [] };

    const creds = guestCredentials(ctx);
    const vm = sourceMoref(ctx);
    const commands: CommandRecord[] = [];
    const run = async (command: string) => {
      const r = await ctx.services.source.runInGuest(vm, creds, command, {
        signal: ctx.signal,
        timeoutMs: 5 * 60_000,
      });
      const rec = { command, exitCode: r.exitCode, output: clip(r.output) };
      commands.push(rec);
      // Journaled as it happens, so a failed install still shows what the guest said.
      ctx.event('guest.command', rec);
      ctx.log.info({ command, exitCode: r.exitCode }, 'guest command');
      return rec;
    };

    // Which drive letter did Windows give the ISO?
    ctx.progress.update({ message: 'finding the ISO in the guest' });
    const drives = cdromDrives((await run(LIST_DRIVES)).output);
    let drive: string | undefined;
    for (const letter of drives) {
      if ((await run(probeCommand(letter, d))).exitCode === 0) {
        drive = letter;
        break;
      }
    }
    if (!drive) {
      throw new V2oError(
        `the virtio-win ISO is not visible in the guest (CD-ROM drives: ${drives.join(', ') || 'none'})`,
        {
          hint: `check that the CD-ROM is connected in vCenter, then \`v2o resume ${ctx.runId}\``,
        },
      );
    }

    for (const { driver, command } of installCommands(drive, d)) {
      ctx.progress.update({ message: `pnputil ${driver}` });
      const r = await run(command);
      if (!PNPUTIL_OK.has(r.exitCode)) {
        const reason =
          /Failed to add driver package: (.*)/.exec(r.output)?.[1]?.trim() ?? `exit code ${r.exitCode}`;
        // The runner prints the message, not the hint: say what state the VM is in right here.
        throw new DriverInstallError(
          `installing ${driver} in the guest failed: ${reason} (the VM is still running on VMware and was not shut down)`,
          {
            hint: `fix the cause in the guest (pnputil output: \`v2o status ${ctx.runId}\`) and \`v2o resume ${ctx.runId}\`; to install them by hand instead: \`v2o cancel ${ctx.runId} --rollback\`, set drivers.mode: manual and migrate again`,
          },
        );
      }
      crashPoint(ctx, 'mid');
    }
    const r = await run(bootCriticalCommand(d));
    if (r.exitCode !== 0) {
      throw new DriverInstallError(
        `making ${d.bootCriticalService} boot-critical failed (reg add exit ${r.exitCode}): ${r.output.trim()}`,
        {
          hint: `check that the guest account is an administrator, then \`v2o resume ${ctx.runId}\``,
        },
      );
    }
    crashPoint(ctx, 'after');
    return { mode: 'auto', drive, commands };
  },
};
