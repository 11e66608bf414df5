// `v2o cutover <run> [--at TIME] [--no-resume]`: the operator's word that a warm migration may cut
// over (now or at TIME). It is the approval of the run's `cutover` step for that time; an
// approval wakes the precopy's timed wait, and the precopy ends its passes once the time is due.
import os from 'node:os';
import type { Command } from 'commander';
import { localIso } from '../../engine/clock.js';
import { RunStateError } from '../../engine/errors.js';
import type { LeaseRecord } from '../../engine/journal/types.js';
import { processIsAlive } from '../../engine/liveness.js';
import { ConfigError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { globalOptions, withJournal } from '../context.js';
import { handToFleet } from '../fleet-handoff.js';
import { exitCodesHelp } from './help.js';

const STEP = 'cutover';
const FORMAT =
  'ISO 8601 (2026-12-02T22:00, 2026-12-02T22:00:00+01:00) or HH:MM (local time today; tomorrow when already past)';

/**
 * TIME as `--at` takes it: ISO 8601 with a time of day (no zone: local time, as ECMAScript
 * reads a date-time without offset), or HH:MM on this machine's clock, today, or tomorrow when
 * that minute has passed (the current minute counts as now).
 */
export function parseCutoverTime(text: string, now: number): number {
  const hm = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (hm) {
    const d = new Date(now);
    d.setHours(Number(hm[1]), Number(hm[2]), 0, 0);
    if (d.getTime() + 60_000 <= now) d.setDate(d.getDate() + 1);
    return d.getTime();
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text.trim(),
  );
  const t = iso ? Date.parse(text.trim()) : Number.NaN;
  // Date.parse rolls some impossible dates over (2026-02-30 → March 2); refuse those.
  const fits =
    iso &&
    Number(iso[2]) <= 12 &&
    Number(iso[3]) <= new Date(Date.UTC(Number(iso[1]), Number(iso[2]), 0)).getUTCDate();
  if (!Number.isFinite(t) || !fits)
    throw new ConfigError(`--at '${text}' is not a time v2o reads`, { hint: `give it as ${FORMAT}` });
  return t;
}

/** Another live process drives the run: it reaches the cutover step itself. */
function liveHolder(lease: LeaseRecord | undefined, now: number): LeaseRecord | undefined {
  if (!lease || lease.expiresAt <= now) return undefined;
  if (lease.host === os.hostname() && (lease.pid === process.pid || !processIsAlive(lease.pid)))
    return undefined;
  return lease;
}

export const cutoverCommand: CommandModule = {
  register(program: Command) {
    program
      .command('cutover')
      .description('cut a warm migration over: now (and go on here), or at a time (--at)')
      .argument('<run>', 'run id (see `v2o list`)')
      .option('--at <time>', `when to cut over: ${FORMAT}`)
      .option('--no-resume', 'only record the cutover; do not continue the run in this process')
      .option('--json', 'print the outcome as JSON on stdout (progress goes to stderr)')
      .option('--force-poweroff', 'power the VM off hard if the guest does not shut down in time')
      .addHelpText(
        'after',
        `
Records the approval of the run's cutover step for TIME (default now). Due now: the run goes on in
this process as \`v2o resume <run>\` would (the last precopy pass ends, the VM is shut down, the final
changes copied, the instance launched). Later: the precopy passes go on until then with
\`v2o resume <run> --wait\` (or a worker); repeating the command with another --at moves the time.
Refused for a run without a cutover step, a cold migration (its cutover step skipped), and runs that
succeeded or were cancelled.

Examples:
  v2o cutover r-7k2m9q4x                      # now, continuing here
  v2o cutover r-7k2m9q4x --at 22:00           # tonight at 22:00 local time
  v2o cutover r-7k2m9q4x --at 2026-12-02T22:00:00+01:00 --no-resume
${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(
        async (
          runId: string,
          o: { at?: string; resume: boolean; json?: boolean; forcePoweroff?: boolean },
          cmd: Command,
        ) => {
          const globals = globalOptions(cmd);
          const now = Date.now();
          const notBefore = o.at === undefined ? now : parseCutoverTime(o.at, now);
          const { approveRun } = await import('../../engine/approve.js');
          const recorded = await withJournal(
            globals,
            async (j) => {
              const run = await j.requireRun(runId);
              if (run.state === 'succeeded' || run.state === 'cancelled')
                throw new RunStateError(
                  `run ${runId} ${run.state === 'succeeded' ? 'succeeded' : 'was cancelled'}: there is nothing to cut over`,
                );
              const steps = await j.getSteps(runId);
              const step = steps.find((s) => s.stepId === STEP);
              if (!step)
                throw new ConfigError(
                  `run ${runId} (workflow ${run.workflow} v${run.workflowVersion}) has no ${STEP} step`,
                  {
                    hint: 'only a warm migration (migration: warm) is cut over; other gates take `v2o approve <run> --step <id>`',
                  },
                );
              if (step.state === 'skipped')
                throw new RunStateError(`run ${runId} is a cold migration: nothing to cut over`, {
                  hint: `it goes on without one: v2o resume ${runId}`,
                });
              if (step.state === 'succeeded')
                throw new RunStateError(`run ${runId} has cut over already`, {
                  hint: `see: v2o status ${runId}`,
                });
              await approveRun(j, runId, {
                stepId: STEP,
                by: `${os.userInfo().username}@${os.hostname()}`,
                at: now,
                notBefore,
              });
              const fleet = await handToFleet(j, runId, globals.journal || process.env.V2O_JOURNAL);
              return { held: liveHolder(await j.getLease(runId), await j.now()), fleet };
            },
            { create: false },
          );
          const { held: holder, fleet } = recorded;
          const due = notBefore <= Date.now();
          if (fleet && !holder) {
            const message = `cutover of run ${runId} recorded for ${localIso(notBefore)}; its job is back on the fleet's queue: a worker cuts over when it is due (v2o logs ${runId} --follow)`;
            process.stdout.write(
              o.json
                ? `${JSON.stringify({ runId, stepId: STEP, notBefore, due, queued: true, message })}\n`
                : `${message}\n`,
            );
            return;
          }
          if (due && o.resume && !holder) {
            const { resumeRun } = await import('../run-workflow.js');
            const env = o.forcePoweroff ? { ...process.env, V2O_FORCE_POWEROFF: '1' } : undefined;
            const outcome = await resumeRun(runId, { globals, json: o.json, env });
            process.exitCode = outcome.exitCode;
            return;
          }
          const message = holder
            ? `cutover of run ${runId} recorded for ${localIso(notBefore)}; pid ${holder.pid} on ${holder.host}${holder.worker ? ` (worker ${holder.worker})` : ''} drives the run and cuts over when it is due: v2o logs ${runId} --follow`
            : due
              ? `cutover of run ${runId} recorded for now (${localIso(notBefore)}); continue with: v2o resume ${runId}`
              : `cutover of run ${runId} recorded for ${localIso(notBefore)}; the precopy passes go on until then: v2o resume ${runId} --wait`;
          if (o.json)
            process.stdout.write(`${JSON.stringify({ runId, stepId: STEP, notBefore, due, message })}\n`);
          else process.stdout.write(`${message}\n`);
        },
      );
  },
};
