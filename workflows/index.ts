// Every workflow this program can start or resume, by name. Add yours to the list.
import { type AnyWorkflow, WorkflowRegistry } from '../src/engine/registry.js';
import { exampleWorkflow } from './example.js';
import { exampleChainWorkflow } from './example-chain.js';

export const workflows: AnyWorkflow[] = [exampleWorkflow, exampleChainWorkflow];

export function builtinRegistry(): WorkflowRegistry {
  return new WorkflowRegistry(workflows);
}
