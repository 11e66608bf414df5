// Workflows by name, so `resume` finds the code of a stored run.
import { UnknownWorkflowError, WorkflowVersionMismatchError } from './errors.js';
import type { RunRecord } from './journal/types.js';
import type { WorkflowDefinition } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: the registry holds workflows of any params and services
export type AnyWorkflow = WorkflowDefinition<any, any>;

export class WorkflowRegistry {
  private readonly byName = new Map<string, AnyWorkflow>();

  constructor(workflows: Iterable<AnyWorkflow> = []) {
    for (const w of workflows) this.add(w);
  }

  add(w: AnyWorkflow): this {
    if (this.byName.has(w.name)) throw new Error(`workflow ${w.name} registered twice`);
    const ids = new Set<string>();
    for (const s of w.steps) {
      if (ids.has(s.id)) throw new Error(`workflow ${w.name}: step id ${s.id} appears twice`);
      ids.add(s.id);
    }
    this.byName.set(w.name, w);
    return this;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): AnyWorkflow {
    const w = this.byName.get(name);
    if (!w) throw new UnknownWorkflowError(name, this.names());
    return w;
  }

  /** The workflow of a stored run, refusing one whose version changed since the run began. */
  forRun(run: RunRecord): AnyWorkflow {
    const w = this.get(run.workflow);
    if (w.version !== run.workflowVersion) {
      throw new WorkflowVersionMismatchError(run.id, w.name, run.workflowVersion, w.version);
    }
    return w;
  }
}
