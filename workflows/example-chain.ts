// Ten trivial steps; the benchmark measures resume latency with it. Each step notes the wall
// time (and CPU time used) at the first line of run() in params.markFile, so an outside process can time it.
import fs from 'node:fs';
import type { StepDefinition, WorkflowDefinition } from '../src/engine/types.js';

export interface ChainParams {
  markFile?: string;
  /** step-05 holds this long after its mark (the fleet benchmark kills its worker meanwhile). */
  holdMs?: number;
}

const link = (n: number): StepDefinition<ChainParams, undefined, { n: number }> => ({
  id: `step-${String(n).padStart(2, '0')}`,
  title: `Chain step ${n}`,
  retry: { attempts: 1 },
  run: async (ctx) => {
    if (ctx.params.markFile) {
      // Wall time, and CPU time of this process so far (the cost that does not depend on load).
      const cpu = process.cpuUsage();
      fs.appendFileSync(
        ctx.params.markFile,
        `${ctx.stepId} ${Date.now()} ${(cpu.user + cpu.system) / 1000}\n`,
      );
    }
    if (n === 5 && ctx.params.holdMs) await ctx.sleep(ctx.params.holdMs, ctx.signal);
    return { n };
  },
});

export const exampleChainWorkflow: WorkflowDefinition<ChainParams, undefined> = {
  name: 'example-chain',
  version: 1,
  description: 'Ten no-op steps (benchmarks).',
  steps: Array.from({ length: 10 }, (_, i) => link(i + 1)),
};
