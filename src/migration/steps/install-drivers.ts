// Step 5: get the storage driver Windows will boot from onto the disk while it still runs on VMware.
// auto: through VMware Tools guest operations, the recipe of driver-recipe.ts action by action —
// pnputil stages each package from the ISO folder of this Windows (the syntax its pnputil knows),
// the boot driver's .sys is copied and its full service key written, storahci made boot-critical
// for the SATA fallback. manual: a gate (exit 3) that hands the operator the same recipe as one
// PowerShell script (`v2o guest-script`), then `v2o approve`.
// Every command and its output go into the step output, i.e. the journal.
import { NonRetryableError, V2oError } from '../../errors.js';
import {
  CDROM_PROBE,
  cmdCommand,
  describeAction,
  driverRecipe,
  fileExistsCommand,
  isoFilesNeeded,
  okExitCodes,
  parseCdromDrives,
  REBOOT_PENDING,
} from '../driver-recipe.js';
import type { DriverPlan } from '../drivers.js';
import type { AttachIsoOutput } from './attach-iso.js';
import { type Ctx, crashPoint, guestCredentials, type MigrationStep, sourceMoref } from './common.js';

export interface CommandRecord {
  command: string;
  exitCode: number;
  output: string;
}

export interface InstallDriversOutput {
  mode: 'auto' | 'manual';
  drive?: string;
  commands: CommandRecord[];
  /** pnputil answered 3010 for these drivers: staged, Windows wants a reboot to finish. */
  rebootPending?: string[];
}

export class DriverInstallError extends NonRetryableError {}

/** Keep the journal small: pnputil output is short, but a misbehaving guest might not be. */
const clip = (s: string) => (s.length > 8_000 ? `${s.slice(0, 8_000)}\n…(cut)` : s);

/** What a command printed, on one line for a message (shown, never parsed: it may be in any language). */
const tail = (s: string) =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ')
    .slice(0, 500);

/** How the operator gets the recipe as a script, for gate messages and hints. */
export function guestScriptCommand(ctx: Pick<Ctx, 'params'> & { runId?: string }): string {
  const run = ctx.runId ? ` --run ${ctx.runId}` : '';
  return `v2o guest-script ${ctx.params.planFile ?? '<plan.yaml>'} --vm '${ctx.params.vm}'${run}`;
}

function summary(d: DriverPlan): string {
  const stage = d.install.map((i) => `${i.name} (${i.isoDir})`).join(', ') || 'no package';
  const boot = d.bootServices.map((s) => s.name).join(' + ');
  const syntax = d.pnputil === 'legacy' ? 'pnputil -i -a' : 'pnputil /add-driver … /install';
  return `${syntax}: ${stage}; boot-critical ${boot} (.sys copied, full service key)`;
}

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
    const details = {
      install: d.install,
      pnputil: d.pnputil,
      bootServices: d.bootServices.map((s) => s.name),
      actions: driverRecipe(d).map(describeAction),
    };
    return d.mode === 'auto'
      ? { summary: `guest operations: ${summary(d)}`, details }
      : {
          summary: `manual: the run waits (exit 3) for you to run the driver script (${guestScriptCommand({ params })}), then \`v2o approve\`; ${summary(d)}`,
          details,
        };
  },
  gate(ctx) {
    const d = ctx.params.plan.drivers;
    if (d?.mode !== 'manual') return undefined;
    const attached = ctx.outputOf<AttachIsoOutput>('attach-iso');
    return {
      message: [
        `prepare the storage drivers in VM ${ctx.params.vm} (${ctx.params.plan.windows?.label ?? 'Windows'}) with the script v2o writes:`,
        `  ${guestScriptCommand(ctx)} > v2o-drivers.ps1`,
        `  then, in the guest as an administrator${attached ? ` (the virtio-win ISO is on its CD-ROM: ${attached.datastorePath})` : ', with the virtio-win ISO on a CD-ROM'}:`,
        '  powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\v2o-drivers.ps1',
        `  it stages ${d.install.map((i) => i.inf).join(', ') || 'nothing'} and makes ${d.bootServices.map((s) => s.name).join(' and ')} boot-critical; v2o verifies that before shutdown`,
      ].join('\n'),
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
    const stillRunning = '(the VM is still running on VMware and was not shut down)';

    // Which drive letter did Windows give the ISO? Asked through CIM, never wmic.
    ctx.progress.update({ message: 'finding the ISO in the guest' });
    const probe = await run(CDROM_PROBE);
    if (probe.exitCode !== 0) {
      throw new DriverInstallError(
        `finding the CD-ROM drives in the guest failed: PowerShell Get-CimInstance Win32_CDROMDrive exited ${probe.exitCode} (${tail(probe.output) || 'no output'}) ${stillRunning}`,
        {
          hint: `check that Windows PowerShell and WMI (winmgmt) work in the guest, then \`v2o resume ${ctx.runId}\`; or run the recipe by hand: ${guestScriptCommand(ctx)}`,
        },
      );
    }
    const drives = parseCdromDrives(probe.output);
    const needed = isoFilesNeeded(d);
    let drive: string | undefined;
    for (const letter of drives) {
      if (
        (await run(fileExistsCommand(`${letter}\\${needed[0] ?? 'virtio-win_license.txt'}`))).exitCode === 0
      ) {
        drive = letter;
        break;
      }
    }
    if (!drive) {
      throw new V2oError(
        `the virtio-win ISO is not visible in the guest: no CD-ROM drive (${drives.join(', ') || 'none'}) has ${needed[0] ?? 'the ISO'} ${stillRunning}; check that the CD-ROM is connected in vCenter and holds a virtio-win ISO with that folder`,
        {
          hint: `check that the CD-ROM is connected in vCenter and holds a virtio-win ISO with the ${ctx.params.plan.windows?.folder ?? ''} folder, then \`v2o resume ${ctx.runId}\``,
        },
      );
    }
    const missing: string[] = [];
    for (const f of needed.slice(1)) {
      if ((await run(fileExistsCommand(`${drive}\\${f}`))).exitCode !== 0) missing.push(f);
    }
    if (missing.length) {
      throw new DriverInstallError(
        `the virtio-win ISO in ${drive} lacks ${missing.join(', ')} ${stillRunning}: name an ISO that has them in drivers.virtioWin`,
        {
          hint: `name an ISO that has them in drivers.virtioWin, then \`v2o cancel ${ctx.runId} --rollback\` and migrate again`,
        },
      );
    }

    const rebootPending: string[] = [];
    for (const action of driverRecipe(d)) {
      ctx.progress.update({ message: describeAction(action) });
      const r = await run(cmdCommand(action, drive));
      if (!okExitCodes(action).includes(r.exitCode)) {
        const what =
          action.kind === 'stage'
            ? `staging ${action.driver} with pnputil`
            : action.kind === 'copy'
              ? `copying ${action.isoPath} into %SystemRoot%\\${action.to}`
              : `writing ${describeAction(action)}`;
        // The runner prints the message, not the hint: say what state the VM is in right here.
        throw new DriverInstallError(
          `${what} failed in the guest (exit code ${r.exitCode}: ${tail(r.output) || 'no output'}) ${stillRunning}; fix the cause and resume, or run the same recipe by hand: ${guestScriptCommand(ctx)}`,
          {
            hint: `fix the cause in the guest (every command's output: \`v2o status ${ctx.runId}\`) and \`v2o resume ${ctx.runId}\`; or run the same recipe by hand (${guestScriptCommand(ctx)}) with drivers.mode: manual`,
          },
        );
      }
      if (action.kind === 'stage' && r.exitCode === REBOOT_PENDING) {
        rebootPending.push(action.driver);
        ctx.log.warn({ driver: action.driver }, 'pnputil: staged, a reboot is pending (3010)');
      }
      crashPoint(ctx, 'mid');
    }
    crashPoint(ctx, 'after');
    return { mode: 'auto', drive, commands, ...(rebootPending.length ? { rebootPending } : {}) };
  },
};
