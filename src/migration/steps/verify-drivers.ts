// Step 6, always before shutdown: prove that Windows can load its boot disk's driver on KVM. For
// each boot service (the planned bus's, plus storahci for the SATA fallback): every service value
// as the recipe wrote it, the .sys in System32\drivers; for each package: its INF in the driver
// store (DriverStore\FileRepository\<inf>_amd64_*\<inf>), by file, never by pnputil's words.
// A guest that fails any of it fails the run here with the VM still running — a VM that cannot
// find its boot disk on OpenStack is much worse. In manual mode without VMware Tools (or guest
// credentials) nothing can be checked: the operator's approval stands in.
import { NonRetryableError } from '../../errors.js';
import { type Ctx, crashPoint, guestCredentials, type MigrationStep, sourceMoref } from './common.js';
import {
  DRIVER_STORE,
  parseStoreFolders,
  regQueryCommand,
  serviceProblems,
  stagedInfs,
  storeFoldersCommand,
  storeInfCommand,
  sysPresentCommand,
} from './guest-drivers.js';
import { guestScriptCommand } from './install-drivers.js';

export interface VerifyDriversOutput {
  verifiedBy: 'guest' | 'operator';
  /** The boot services found complete. */
  bootServices?: string[];
  /** Each staged INF and its driver store folder. */
  driverStore?: Record<string, string>;
  note?: string;
}

export class DriverVerificationError extends NonRetryableError {}

export const verifyDrivers: MigrationStep<VerifyDriversOutput> = {
  id: 'verify-drivers',
  title: 'Verify the drivers (before shutdown)',
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['DriverVerificationError'],
  },
  timeoutMs: 10 * 60_000,
  plan: ({ params }) => {
    const d = params.plan.drivers;
    if (!d) return { summary: 'no driver plan' };
    const guest = params.plan.source?.toolsRunning;
    return {
      summary: guest
        ? `${d.bootServices.map((s) => `${s.name}: ${s.values.map((v) => v.name).join(', ')}${s.startOverrideKey ? ', no StartOverride' : ''}, ${s.sys}`).join('; ')}; in the driver store: ${stagedInfs(d).join(', ') || 'nothing'}`
        : 'VMware Tools not running: your approval is the verification',
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const d = ctx.params.plan.drivers;
    if (!d) throw new DriverVerificationError('no driver plan: the Windows version was not recognised');
    const vm = sourceMoref(ctx);
    const { source, env } = ctx.services;
    if (d.mode === 'manual') {
      const fresh = await source.findVm(ctx.params.vm, { signal: ctx.signal });
      const { usernameEnv, passwordEnv } = ctx.params.plan.settings.guestCredentials;
      if (!fresh?.toolsRunning || !env[usernameEnv] || !env[passwordEnv]) {
        const note = fresh?.toolsRunning
          ? `guest credentials (${usernameEnv}/${passwordEnv}) are not set, so the drivers were not checked: the operator's approval is the verification`
          : "VMware Tools is not running, so the drivers were not checked: the operator's approval is the verification";
        ctx.log.warn(note);
        ctx.event('drivers.unverified', { reason: note });
        ctx.progress.update({ message: 'verified by your approval' });
        return { verifiedBy: 'operator', note };
      }
    }
    const creds = guestCredentials(ctx);
    const run = async (command: string) => {
      const r = await source.runInGuest(vm, creds, command, { signal: ctx.signal, timeoutMs: 2 * 60_000 });
      ctx.log.info({ command, exitCode: r.exitCode }, 'guest command');
      return r;
    };

    const problems: string[] = [];
    for (const s of d.bootServices) {
      ctx.progress.update({ message: `checking ${s.name}` });
      const reg = await run(regQueryCommand(s.key));
      problems.push(...serviceProblems(s, reg.exitCode, reg.output));
      if ((await run(sysPresentCommand(s))).exitCode !== 0)
        problems.push(`${s.name}: ${s.sys} is not in %SystemRoot%\\System32\\drivers`);
    }
    const driverStore: Record<string, string> = {};
    for (const inf of stagedInfs(d)) {
      const dir = await run(storeFoldersCommand(inf));
      const folders = dir.exitCode === 0 ? parseStoreFolders(inf, dir.output) : [];
      let found: string | undefined;
      for (const f of folders) {
        if ((await run(storeInfCommand(f, inf))).exitCode === 0) {
          found = f;
          break;
        }
      }
      if (found) driverStore[inf] = found;
      else problems.push(`${inf} is not staged (no ${DRIVER_STORE}\\${inf}_amd64_*\\${inf})`);
    }
    if (problems.length) {
      throw new DriverVerificationError(
        `the drivers are not ready, so the VM was NOT shut down (it still runs on VMware): ${problems.join('; ')}. Fix: run the driver recipe in the guest as an administrator (${guestScriptCommand(ctx)} writes it as one PowerShell script), then v2o resume ${ctx.runId}`,
        {
          hint: `run the driver recipe in the guest as an administrator (${guestScriptCommand(ctx)} writes it as one PowerShell script), then \`v2o resume ${ctx.runId}\``,
        },
      );
    }
    crashPoint(ctx, 'after');
    const bootServices = d.bootServices.map((s) => s.name);
    ctx.progress.update({
      message: `${bootServices.join(' + ')} boot-critical, ${Object.keys(driverStore).length} package(s) in the store`,
    });
    return { verifiedBy: 'guest', bootServices, driverStore };
  },
};
