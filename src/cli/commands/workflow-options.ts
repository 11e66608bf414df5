// Options plan and migrate take without a plan file, when they drive a built-in workflow (the
// example workflows, for trying the engine): which workflow, its params, the subject.
import type { Command } from 'commander';
import type { AnyWorkflow } from '../../engine/registry.js';
import { collectSet, parseSets } from '../params.js';

export interface WorkflowChoice {
  workflow: string;
  set: string[];
  subject?: string;
}

export function addWorkflowOptions(cmd: Command): Command {
  return cmd
    .option('-w, --workflow <name>', 'built-in workflow to run', 'example')
    .option('--set <key=value>', 'a workflow parameter (JSON value or string); repeatable', collectSet, [])
    .option('--subject <text>', 'what the run is about, shown by list and status');
}

export async function chooseWorkflow(
  o: WorkflowChoice,
): Promise<{ workflow: AnyWorkflow; params: Record<string, unknown>; subject: string }> {
  const { loadRegistry } = await import('../../../workflows/index.js');
  const workflow = (await loadRegistry([o.workflow])).get(o.workflow);
  return { workflow, params: parseSets(o.set), subject: o.subject ?? workflow.name };
}
