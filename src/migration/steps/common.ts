// Shared by the migration steps: their context type, guest credentials, and the test-only crash
// hook that lets integration tests kill the process at a chosen point (V2O_TEST_CRASH_AT).
import type { StepContext, StepDefinition } from '../../engine/types.js';
import { ConfigError } from '../../errors.js';
import type { MigrationParams } from '../params.js';
import type { MigrationServices } from '../services.js';

/** The one byte formatter (src/format-bytes.ts), under the name the steps use. */

export type Ctx = StepContext<MigrationParams, MigrationServices>;
export type MigrationStep<O = unknown> = StepDefinition<MigrationParams, MigrationServices, O>;

/**
 * V2O_TEST_CRASH_AT=<step>:<point> kills this process with SIGKILL at that point, like a power
 * cut: `before` = the step started, nothing done; `mid` = inside a long operation (the disk upload;
 * a volume copy: its first checkpoint after a byte moved); `after` = the side effects happened but
 * the journal has not recorded the step yet; `after-snapshot` = a copy pass's snapshot is made but
 * not journaled and its areas not read. Only integration tests set it. With
 * V2O_TEST_CRASH_SIGNAL=SIGSTOP the process freezes there instead, like a host that hangs or lost its
 * network: its pid stays alive and its leases are no longer renewed, so they expire.
 */
export function crashPoint(
  ctx: { stepId: string; env?: NodeJS.ProcessEnv },
  when: 'before' | 'mid' | 'after' | 'after-snapshot',
): void {
  const spec = (ctx.env ?? process.env).V2O_TEST_CRASH_AT;
  if (!spec || spec !== `${ctx.stepId}:${when}`) return;
  kill(spec, ctx.env ?? process.env);
}

/**
 * V2O_TEST_CRASH_AT=<step>:at-fraction=<f>: killed after the checkpoint that passes f of the
 * step's bytes (the resumption benchmark kills a volume copy at 0.75).
 */
export function crashAtFraction(
  ctx: { stepId: string; env?: NodeJS.ProcessEnv },
  done: number,
  total: number,
): void {
  const spec = (ctx.env ?? process.env).V2O_TEST_CRASH_AT;
  const m = spec?.match(/^([^:]+):at-fraction=([0-9.]+)$/);
  if (!m || m[1] !== ctx.stepId || total <= 0) return;
  if (done / total >= Number(m[2])) kill(spec!, ctx.env ?? process.env);
}

function kill(spec: string, env: NodeJS.ProcessEnv): void {
  if (env.V2O_TEST_CRASH_SIGNAL === 'SIGSTOP') {
    process.stderr.write(`V2O_TEST_CRASH_AT: stopping pid ${process.pid} at ${spec}\n`);
    process.kill(process.pid, 'SIGSTOP');
    return;
  }
  process.stderr.write(`V2O_TEST_CRASH_AT: killing pid ${process.pid} at ${spec}\n`);
  process.kill(process.pid, 'SIGKILL');
}

export function guestCredentials(ctx: Ctx): { username: string; password: string } {
  const { usernameEnv, passwordEnv } = ctx.params.plan.settings.guestCredentials;
  const env = ctx.services.env;
  const username = env[usernameEnv];
  const password = env[passwordEnv];
  if (!username || !password) {
    throw new ConfigError(
      `guest credentials are not set: ${!username ? usernameEnv : passwordEnv} is empty`,
      {
        hint: `export ${usernameEnv} and ${passwordEnv} (a local administrator of the guest), then \`v2o resume ${ctx.runId}\``,
      },
    );
  }
  return { username, password };
}

export function sourceMoref(ctx: Ctx): string {
  const m = ctx.params.plan.source?.moref;
  if (!m) throw new ConfigError(`the stored plan of run ${ctx.runId} has no source VM`);
  return m;
}

/** A short vCenter reconfiguration (CD-ROM changes): a few quick tries ride out a busy vCenter. */
export const RECONFIG_RETRY = { attempts: 3, initialDelayMs: 2_000, backoff: 2, maxDelayMs: 20_000 };

/**
 * A rollback that must act inside the source guest (undo what a step changed there): powers the
 * VM on when the shutdown already happened (preflight's compensation then finds it on) and waits
 * up to 10 min for VMware Tools. False when Tools never came up.
 */
export async function sourceRunningForRollback(ctx: Ctx, why: string): Promise<boolean> {
  const { source } = ctx.services;
  const vm = sourceMoref(ctx);
  const sig = { signal: ctx.signal };
  let fresh = await source.findVm(ctx.params.vm, sig);
  if (!fresh) return false;
  if (fresh.powerState !== 'poweredOn') {
    await source.powerOn(vm, sig);
    ctx.log.info({ vm: ctx.params.vm }, `rollback: source VM powered on to ${why}`);
  }
  const deadline = ctx.clock.now() + 10 * 60_000;
  for (;;) {
    fresh = await source.findVm(ctx.params.vm, sig);
    if (fresh?.powerState === 'poweredOn' && fresh.toolsRunning) return true;
    if (ctx.clock.now() >= deadline) return false;
    await ctx.sleep(5_000, ctx.signal);
  }
}
