// `v2o approve`: record who approved which gate. The run continues on `resume`.
import { ConfigError } from '../errors.js';
import { RunStateError } from './errors.js';
import type { Journal, StepRecord } from './journal.js';

export function approveRun(
  journal: Journal,
  runId: string,
  opts: { stepId?: string; by: string; at: number },
): StepRecord {
  const run = journal.requireRun(runId);
  if (run.state === 'succeeded' || run.state === 'cancelled') {
    throw new RunStateError(`run ${runId} is ${run.state}; there is nothing to approve`);
  }
  const steps = journal.getSteps(runId);
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
    step = steps.find((s) => s.state === 'waiting');
    if (!step) {
      throw new RunStateError(`run ${runId} is not waiting for approval (it is ${run.state})`, {
        hint: 'pass --step <id> to approve a later gate ahead of time',
      });
    }
  }
  if (step.approvedAt === undefined) journal.approveStep(runId, step.stepId, opts.at, opts.by);
  return journal.getStep(runId, step.stepId)!;
}
