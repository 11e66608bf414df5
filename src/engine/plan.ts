// Dry run: ask every step what it would do. Pure with respect to the world (plan() only reads).
import type { Logger } from 'pino';
import type { PlanContext, StepPlan, WorkflowDefinition } from './types.js';

export interface WorkflowPlan {
  workflow: string;
  version: number;
  steps: { id: string; title: string; plan: StepPlan }[];
  /** Any blocker in any step: `v2o plan` exits 2 and `migrate` refuses. */
  blocked: boolean;
}

export async function planWorkflow<P, S>(
  workflow: WorkflowDefinition<P, S>,
  params: P,
  opts: { log: Logger; services?: S },
): Promise<WorkflowPlan> {
  const ctx: PlanContext<P, S> = { params, services: opts.services, log: opts.log };
  const steps: WorkflowPlan['steps'] = [];
  for (const s of workflow.steps) {
    const plan = s.plan ? await s.plan(ctx) : { summary: s.title };
    steps.push({ id: s.id, title: s.title, plan });
  }
  return {
    workflow: workflow.name,
    version: workflow.version,
    steps,
    blocked: steps.some((s) => (s.plan.blockers?.length ?? 0) > 0),
  };
}
