// Step 8: shut the guest down cleanly (ShutdownGuest, wait for poweredOff). A hard power-off can
// lose data the guest had not flushed, so it happens only with --force-poweroff.
import { NonRetryableError } from '../../errors.js';
import { type Ctx, crashPoint, type MigrationStep, sourceMoref } from './common.js';

export interface ShutdownOutput {
  method: 'guest' | 'hard' | 'already-off';
  wasPoweredOn: boolean;
  /** When the shutdown began and ended (ms since the epoch): the downtime starts here. */
  startedAt?: number;
  endedAt?: number;
}

export class ShutdownTimeoutError extends NonRetryableError {}

export const shutdown: MigrationStep<ShutdownOutput> = {
  id: 'shutdown',
  title: 'Shut down the source VM',
  retry: {
    attempts: 2,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['ShutdownTimeoutError'],
  },
  plan: ({ params }) => ({
    summary: `ShutdownGuest and wait up to ${Math.round(params.options.shutdownTimeoutMs / 1000)} s${
      params.options.forcePoweroff ? ', then power off hard (--force-poweroff)' : ''
    }`,
  }),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { source } = ctx.services;
    const vm = sourceMoref(ctx);
    // A resumed shutdown keeps the start of the first attempt.
    const startedAt =
      (ctx.lastCheckpoint as { startedAt?: number } | undefined)?.startedAt ?? ctx.clock.now();
    ctx.checkpoint({ startedAt });
    const times = () => ({ startedAt, endedAt: ctx.clock.now() });
    const wasPoweredOn = ctx.params.plan.source?.wasPoweredOn ?? true;
    if ((await source.powerState(vm, { signal: ctx.signal })) === 'poweredOff') {
      crashPoint(ctx, 'after');
      return { method: 'already-off', wasPoweredOn, ...times() };
    }
    const timeoutMs = ctx.params.options.shutdownTimeoutMs;
    ctx.progress.update({ message: 'waiting for the guest to shut down' });
    try {
      await source.shutdownGuest(vm, timeoutMs, { signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // The flag can also come at resume time, when the operator decides a hard stop is fine.
      const force = ctx.params.options.forcePoweroff || ctx.services.env.V2O_FORCE_POWEROFF === '1';
      if (!force) {
        throw new ShutdownTimeoutError(
          `the guest did not shut down (waited up to ${Math.round(timeoutMs / 1000)} s): ${(err as Error).message}`,
          {
            cause: err,
            hint: `shut it down from inside Windows and resume, or allow a hard power-off: v2o resume ${ctx.runId} --force-poweroff`,
          },
        );
      }
      ctx.log.warn({ err }, 'guest shutdown failed; powering off hard (--force-poweroff)');
      if ((await source.powerState(vm, { signal: ctx.signal })) !== 'poweredOff')
        await source.powerOff(vm, { signal: ctx.signal });
      crashPoint(ctx, 'after');
      return { method: 'hard', wasPoweredOn, ...times() };
    }
    crashPoint(ctx, 'after');
    return { method: 'guest', wasPoweredOn, ...times() };
  },
};
