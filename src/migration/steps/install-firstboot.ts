// Step 7, while the VM still runs on VMware: leave the first-boot task in the guest (the script,
// its config and a scheduled task at startup as SYSTEM) so that verify-boot hears from Windows
// itself once the server boots on OpenStack. It does nothing on VMware (it checks the SMBIOS
// manufacturer and the source's SMBIOS UUID), so it is harmless if the migration stops here. The
// config is version 2 (firstboot/config.ts): the identity to replay. With guestAgent the agent's
// MSI is copied from the virtio-win ISO beside it. In manual mode the operator's guest script
// does both: v2o only looks, and says so when it is missing.
import { NonRetryableError } from '../../errors.js';
import { firstbootConfigV2 } from '../firstboot/config.js';
import {
  copyGuestAgentCommand,
  createTaskCommand,
  deleteFilesCommand,
  deleteTaskCommand,
  FIRSTBOOT_CONFIG_PATH,
  FIRSTBOOT_DIR,
  FIRSTBOOT_SCRIPT_PATH,
  FIRSTBOOT_TASK,
  firstbootConfig,
  firstbootScript,
  queryTaskCommand,
} from '../firstboot/script.js';
import type { DiskBus } from '../plan-file.js';
import {
  type Ctx,
  crashPoint,
  guestCredentials,
  type MigrationStep,
  sourceMoref,
  sourceRunningForRollback,
} from './common.js';
import type { InstallDriversOutput } from './install-drivers.js';

export interface InstallFirstbootOutput {
  /** `v2o`: installed through guest operations; `operator`: found registered (manual mode); `missing`: not there. */
  task: 'v2o' | 'operator' | 'missing' | 'unchecked';
  expectBus: DiskBus;
  files: string[];
  note?: string;
}

export class FirstbootInstallError extends NonRetryableError {}

/** The bus the boot image asks Nova for (what the guest was prepared for). */
export function plannedBootBus(ctx: Pick<Ctx, 'params'>): DiskBus {
  const bus = ctx.params.plan.disks[0]?.image.properties.hw_disk_bus;
  return bus === 'scsi' || bus === 'sata'
    ? bus
    : bus === 'virtio'
      ? 'virtio'
      : (ctx.params.plan.drivers?.bus ?? 'virtio');
}

/** What the task will replay, for `v2o plan`. */
function replayed(plan: Ctx['params']['plan']): string {
  const c = firstbootConfigV2({ runId: 'plan', expectBus: 'virtio', plan });
  const parts = [
    c.network
      ? `${c.network.adapters.map((a) => `"${a.name}"`).join(', ') || 'no adapter'} replayed, ghosts by ${c.network.removeGhosts.mechanism}`
      : 'no guest facts: network left to DHCP',
    ...(c.disks
      ? [
          `disks online${c.disks.letters.length ? ` as ${c.disks.letters.map((l) => `${l.driveLetter}:`).join(' ')}` : ''}`,
        ]
      : []),
    ...(c.guestAgent ? ['guest agent installed'] : []),
    ...(c.removeVmwareTools ? ['VMware Tools removed'] : []),
  ];
  return parts.join('; ');
}

export const installFirstboot: MigrationStep<InstallFirstbootOutput> = {
  id: 'install-firstboot',
  title: 'Install the first-boot task (before shutdown)',
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['FirstbootInstallError'],
  },
  timeoutMs: 10 * 60_000,
  plan: ({ params }) => {
    if (params.plan.settings.bootCheck === 'none')
      return { summary: 'skipped: bootCheck: none (no first-boot report is awaited)', skip: true };
    return {
      summary:
        params.plan.drivers?.mode === 'manual'
          ? `check that your guest script registered the scheduled task ${FIRSTBOOT_TASK} (schtasks /Query)`
          : `write ${FIRSTBOOT_SCRIPT_PATH} and firstboot.json (version 2: ${replayed(params.plan)})${params.plan.settings.guestAgent && params.plan.drivers?.guestAgentMsi ? ', copy the guest agent MSI from the ISO' : ''}, register the scheduled task ${FIRSTBOOT_TASK} (at startup, SYSTEM)`,
    };
  },
  skipIf: (ctx) => ctx.params.plan.settings.bootCheck === 'none',
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { source, env } = ctx.services;
    const vm = sourceMoref(ctx);
    const sig = { signal: ctx.signal };
    const expectBus = plannedBootBus(ctx);
    const files = [FIRSTBOOT_SCRIPT_PATH, FIRSTBOOT_CONFIG_PATH];

    if (ctx.params.plan.drivers?.mode === 'manual') {
      const fresh = await source.findVm(ctx.params.vm, sig);
      const { usernameEnv, passwordEnv } = ctx.params.plan.settings.guestCredentials;
      if (!fresh?.toolsRunning || !env[usernameEnv] || !env[passwordEnv]) {
        const note = `the first-boot task was not checked (${fresh?.toolsRunning ? `${usernameEnv}/${passwordEnv} not set` : 'VMware Tools not running'}): verify-boot waits for it all the same`;
        ctx.log.warn(note);
        ctx.event('firstboot.unchecked', { reason: note });
        return { task: 'unchecked', expectBus, files, note };
      }
      const q = await source.runInGuest(vm, guestCredentials(ctx), queryTaskCommand(), {
        ...sig,
        timeoutMs: 2 * 60_000,
      });
      if (q.exitCode === 0) return { task: 'operator', expectBus, files };
      // Not fatal: the operator may have a reason; verify-boot then fails after its timeout.
      const note = `the scheduled task ${FIRSTBOOT_TASK} is not registered in the guest (schtasks /Query exit ${q.exitCode}): run the first-boot part of \`v2o guest-script\` or verify-boot will wait in vain`;
      ctx.log.warn(note);
      ctx.event('firstboot.missing', { exitCode: q.exitCode });
      return { task: 'missing', expectBus, files, note };
    }

    const creds = guestCredentials(ctx);
    const config = firstbootConfigV2({ runId: ctx.runId, expectBus, plan: ctx.params.plan });
    ctx.progress.update({ message: `writing ${FIRSTBOOT_DIR}` });
    await source.makeGuestDirectory(vm, creds, FIRSTBOOT_DIR, sig);
    await source.writeGuestFile(vm, creds, FIRSTBOOT_SCRIPT_PATH, firstbootScript(), sig);
    await source.writeGuestFile(vm, creds, FIRSTBOOT_CONFIG_PATH, firstbootConfig(config), sig);
    const msi = ctx.params.plan.drivers?.guestAgentMsi;
    if (config.guestAgent && msi) {
      const drive = ctx.outputOf<InstallDriversOutput>('install-drivers')?.drive;
      const copy = drive
        ? await source.runInGuest(vm, creds, copyGuestAgentCommand(drive, msi), {
            ...sig,
            timeoutMs: 5 * 60_000,
          })
        : undefined;
      if (copy?.exitCode !== 0) {
        const why = copy
          ? `copy exited ${copy.exitCode}${copy.output.trim() ? `: ${copy.output.trim()}` : ''}`
          : 'install-drivers did not say which drive holds the virtio-win ISO';
        throw new FirstbootInstallError(
          `the QEMU guest agent's MSI could not be copied into the guest (${why}), so the VM was NOT shut down`,
          {
            hint: `check that the virtio-win ISO has ${msi} and is still on the VM's CD-ROM, then \`v2o resume ${ctx.runId}\`; or migrate with guestAgent: false`,
          },
        );
      }
      files.push(config.guestAgent.msi);
    }
    crashPoint(ctx, 'mid');
    const created = await source.runInGuest(vm, creds, createTaskCommand(), {
      ...sig,
      timeoutMs: 2 * 60_000,
    });
    const query =
      created.exitCode === 0
        ? await source.runInGuest(vm, creds, queryTaskCommand(), { ...sig, timeoutMs: 2 * 60_000 })
        : undefined;
    if (created.exitCode !== 0 || query?.exitCode !== 0) {
      const what =
        created.exitCode !== 0
          ? `schtasks /Create exited ${created.exitCode}${created.output.trim() ? `: ${created.output.trim()}` : ''}`
          : `schtasks /Query does not find it (exit ${query?.exitCode})`;
      throw new FirstbootInstallError(
        `the first-boot task ${FIRSTBOOT_TASK} could not be registered, so the VM was NOT shut down: ${what}`,
        {
          hint: `the VM keeps running on VMware; check that ${creds.username} may create scheduled tasks running as SYSTEM (the Task Scheduler service runs, no policy forbids it), then \`v2o resume ${ctx.runId}\`; or migrate with bootCheck: none (no boot verification)`,
        },
      );
    }
    crashPoint(ctx, 'after');
    ctx.event('firstboot.installed', {
      task: FIRSTBOOT_TASK,
      expectBus,
      config: {
        version: config.version,
        adapters: config.network?.adapters.length ?? 0,
        guestAgent: !!config.guestAgent,
      },
    });
    ctx.progress.update({ message: `${FIRSTBOOT_TASK} registered (expects ${expectBus})` });
    return { task: 'v2o', expectBus, files };
  },
  /** Removes the task and its files from the source; guest operations need it running with Tools. */
  async compensate(ctx, output) {
    if (output && output.task !== 'v2o') return; // the operator's, or none: not v2o's to remove
    if (!output && ctx.params.plan.drivers?.mode === 'manual') return;
    const { source } = ctx.services;
    const vm = sourceMoref(ctx);
    const sig = { signal: ctx.signal };
    // A source that was running gets its power back now (not only at the end of the rollback), so
    // the task leaves it; one the operator had off stays off, and the task stays (inert on VMware).
    const running = ctx.params.plan.source?.wasPoweredOn
      ? await sourceRunningForRollback(ctx, 'remove the first-boot task')
      : false;
    const fresh = await source.findVm(ctx.params.vm, sig);
    if (!running || fresh?.powerState !== 'poweredOn' || !fresh.toolsRunning) {
      const note = `rollback: the source VM is ${fresh?.powerState ?? 'gone'}${fresh?.powerState === 'poweredOn' ? ' without VMware Tools' : ''}, so the first-boot task ${FIRSTBOOT_TASK} stays in it; it does nothing on VMware; remove it in the guest with \`${deleteTaskCommand()}\` and \`${deleteFilesCommand()}\``;
      ctx.log.warn(note);
      ctx.event('firstboot.left', { reason: note });
      return;
    }
    const creds = guestCredentials(ctx);
    const del = await source.runInGuest(vm, creds, deleteTaskCommand(), { ...sig, timeoutMs: 2 * 60_000 });
    // Exit 1: there was no such task (a step stopped before registering it): nothing to remove.
    const rm =
      del.exitCode === 0 || del.exitCode === 1
        ? await source.runInGuest(vm, creds, deleteFilesCommand(), { ...sig, timeoutMs: 2 * 60_000 })
        : undefined;
    if (rm?.exitCode !== 0) {
      // Inert on VMware, so not worth stopping the rollback (and the source's power-on) for: say it.
      const failed = rm ? `del exited ${rm.exitCode}` : `schtasks /Delete exited ${del.exitCode}`;
      const note = `rollback: could not remove the first-boot task ${FIRSTBOOT_TASK} from the source (${failed}: ${(rm ?? del).output.trim()}); it does nothing on VMware; remove it in the guest with \`${deleteTaskCommand()}\` and \`${deleteFilesCommand()}\``;
      ctx.log.warn(note);
      ctx.event('firstboot.left', { reason: note });
      return;
    }
    ctx.log.info({ task: FIRSTBOOT_TASK }, 'rollback: first-boot task removed from the source');
  },
};
