// Ten trivial steps; the benchmark measures resume latency with it. Each step notes the wall
// time (and CPU time used, and the worker) at the first line of run() in params.markFile, so an outside process can time it.
import fs from 'node:fs';
import type { StepDefinition, WorkflowDefinition } from '../src/engine/types.js';

export interface ChainParams {
  markFile?: string;
  /** step-05 holds this long after its mark (the fleet benchmark kills its worker meanwhile). */
  holdMs?: number;
  /**
   * Only this worker holds (ctx.worker): the fault tests cut one worker off mid-hold, and the worker
   * that takes the run over must not hold it again. Unset: every runner holds.
   */
  holdWorker?: string;
}

const link = (n: number): StepDefinition<ChainParams, undefined, { n: number }> => ({
  id: `step-${String(n).padStart(2, '0')}`,
  title: `Chain step ${n}`,
  retry: { attempts: 1 },
  run: async (ctx) => {
    if (ctx.params.markFile) {
      // Wall time, CPU time of this process so far (the cost that does not depend on load), and the
      // worker that ran it (the fleet's fault tests check who ran which step).
      const cpu = process.cpuUsage();
      fs.appendFileSync(
        ctx.params.markFile,
        `${ctx.stepId} ${Date.now()} ${(cpu.user + cpu.system) / 1000} ${ctx.worker ?? '-'}\n`,
      );
    }
    if (n === 5 && ctx.params.holdMs && (ctx.params.holdWorker ?? ctx.worker) === ctx.worker)
      await ctx.sleep(ctx.params.holdMs, ctx.signal);
    return { n };
  },
});

export const exampleChainWorkflow: WorkflowDefinition<ChainParams, undefined> = {
  name: 'example-chain',
  version: 1,
  description: 'Ten no-op steps (benchmarks).',
  steps: Array.from({ length: 10 }, (_, i) => link(i + 1)),
};
