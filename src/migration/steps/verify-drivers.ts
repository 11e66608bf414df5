// Step 6, always before shutdown: the storage driver for the chosen bus is in the driver store and
// starts at boot (Start = 0), NetKVM too when the NIC becomes virtio. If not, the run fails here
// with the VM still running — a VM that cannot find its boot disk on OpenStack is much worse.
// In manual mode without VMware Tools nothing can be checked: the operator's approval stands in.
import { NonRetryableError } from '../../errors.js';
import { type Ctx, crashPoint, guestCredentials, type MigrationStep, sourceMoref } from './common.js';
import { ENUM_DRIVERS, parseDriverStore, parseStartValue, queryStartCommand } from './guest-drivers.js';

export interface VerifyDriversOutput {
  verifiedBy: 'guest' | 'operator';
  startValue?: number;
  driverStore?: string[];
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
        ? `reg query ${d.serviceKey} /v Start must be 0x0; pnputil /enum-drivers must list ${d.install.map((i) => i.inf).join(', ') || 'nothing extra'}`
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
    const reg = await source.runInGuest(vm, creds, queryStartCommand(d), {
      signal: ctx.signal,
      timeoutMs: 2 * 60_000,
    });
    const store = await source.runInGuest(vm, creds, ENUM_DRIVERS, {
      signal: ctx.signal,
      timeoutMs: 2 * 60_000,
    });
    const start = reg.exitCode === 0 ? parseStartValue(reg.output) : undefined;
    const present = parseDriverStore(store.output).map((p) => p.originalName);
    const missing = d.install.map((i) => i.inf.toLowerCase()).filter((inf) => !present.includes(inf));
    const problems: string[] = [];
    if (store.exitCode !== 0) problems.push(`pnputil /enum-drivers failed (exit ${store.exitCode})`);
    if (missing.length) problems.push(`not in the driver store: ${missing.join(', ')}`);
    if (start === undefined)
      problems.push(`the service ${d.bootCriticalService} does not exist (reg query exit ${reg.exitCode})`);
    else if (start !== 0) problems.push(`${d.bootCriticalService} Start = ${start}, not 0 (boot)`);
    if (problems.length) {
      throw new DriverVerificationError(
        `the drivers are not ready, so the VM was NOT shut down: ${problems.join('; ')}`,
        {
          hint:
            d.mode === 'auto'
              ? `the VM keeps running on VMware; see the install output in \`v2o status ${ctx.runId}\`, fix the guest (or set drivers.mode: manual), then \`v2o resume ${ctx.runId}\``
              : `install the drivers as the gate message said (reg add ${d.serviceKey} /v Start /t REG_DWORD /d 0 /f), then \`v2o resume ${ctx.runId}\``,
        },
      );
    }
    crashPoint(ctx, 'after');
    ctx.progress.update({
      message: `${d.bootCriticalService} Start=0, ${present.length} package(s) in the store`,
    });
    return { verifiedBy: 'guest', startValue: start, driverStore: present };
  },
};
