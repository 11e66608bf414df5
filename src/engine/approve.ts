// `v2o approve` and `v2o cutover`: record who approved which gate, and for when. The run
// continues on `resume`; an approval also wakes the steps of the run that wait on a timer.
import { ConfigError } from '../errors.js';
import { RunStateError } from './errors.js';
import type { Journal, StepRecord } from './journal/types.js';

/**
 * Records the approval of `stepId` (default: the gate the run waits at). With `notBefore` the
 * step does not run before that time; approving again with another notBefore moves it. Every step
 * of the run waiting on a timer wakes (at notBefore when that is sooner than its own time).
 */
export async function approveRun(
  journal: Journal,
  runId: string,
  opts: { stepId?: string; by: string; at: number; notBefore?: number },
): Promise<StepRecord> {
  const run = await journal.requireRun(runId);
  if (run.state === 'succeeded' || run.state === 'cancelled') {
    throw new RunStateError(`run ${runId} is ${run.state}; there is nothing to approve`);
  }
  const steps = await journal.getSteps(runId);
  let step: StepRecord | undefined;
  if (opts.stepId) {
    step = steps.find((s) => s.stepId === opts.stepId);
    if (!step) {
      throw new ConfigError(`run ${runId} has no step '${opts.stepId}'`, {
        hint: `its steps are: ${steps.map((s) => s.stepId).join(', ')}`,
      });
    }
    if (step.state === 'succeeded' || step.state === 'skipped') {
      throw new RunStateError(`step ${step.stepId} of run ${runId} already ${step.state}`);
    }
  } else {
    step = steps.find((s) => s.state === 'waiting' && s.wakeAt === undefined);
    if (!step) {
      const timer = steps.find((s) => s.state === 'waiting');
      throw new RunStateError(
        timer
          ? `run ${runId} is not waiting for approval: step ${timer.stepId} waits until ${new Date(timer.wakeAt!).toISOString()}`
          : `run ${runId} is not waiting for approval (it is ${run.state})`,
        { hint: 'pass --step <id> to approve a later gate ahead of time' },
      );
    }
  }
  const moved = opts.notBefore !== undefined && opts.notBefore !== step.approvalNotBefore;
  if (step.approvedAt === undefined || moved)
    await journal.approveStep(runId, step.stepId, opts.at, opts.by, opts.notBefore);
  return (await journal.getStep(runId, step.stepId))!;
}
