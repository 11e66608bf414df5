// Every workflow this program can start or resume, by name. Loaded on demand so `resume`
// pays only for the code of the run's own workflow. Add yours to the list.
import { UnknownWorkflowError } from '../src/engine/errors.js';
import { type AnyWorkflow, WorkflowRegistry } from '../src/engine/registry.js';

export const workflowLoaders: Record<string, () => Promise<AnyWorkflow>> = {
  example: async () => (await import('./example.js')).exampleWorkflow,
  'example-chain': async () => (await import('./example-chain.js')).exampleChainWorkflow,
  'vmware-windows-to-openstack': async () =>
    (await import('./vmware-windows-to-openstack.js')).vmwareWindowsToOpenstack,
};

/** A registry holding the named workflows (default: all of them). */
export async function loadRegistry(
  names: string[] = Object.keys(workflowLoaders),
): Promise<WorkflowRegistry> {
  const loaded: AnyWorkflow[] = [];
  for (const n of names) {
    const load = Object.hasOwn(workflowLoaders, n) ? workflowLoaders[n] : undefined;
    if (!load) throw new UnknownWorkflowError(n, Object.keys(workflowLoaders));
    loaded.push(await load());
  }
  return new WorkflowRegistry(loaded);
}
