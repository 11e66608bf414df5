// What `v2o worker` and `v2o reassign` need from the CLI: the journal opened from its spec, and a
// way to drive one run with the same Runner `v2o resume` uses — owned by the worker (its name in the
// lease and as ctx.worker), with the worker's host settings (its conversion host) over the run's
// params, stopping at a step boundary when the worker drains.
import os from 'node:os';
import type { Journal } from '../engine/journal/types.js';
import type { HostSettings } from '../engine/types.js';
import type { GlobalOptions } from './command.js';
import type { FleetRuntime } from './commands/worker.js';
import { stateDirOf } from './context.js';

export async function fleetRuntime(
  globals: GlobalOptions,
  hostSettings: HostSettings = {},
): Promise<FleetRuntime> {
  {
    // Loaded when a worker starts, so other commands do not pay for them.
    const [{ openJournal }, { loadRegistry }, { Runner }, { PlainProgress }] = await Promise.all([
      import('../engine/journal/open.js'),
      import('../../workflows/index.js'),
      import('../engine/runner.js'),
      import('./progress/plain-progress.js'),
    ]);
    const stateDir = stateDirOf(globals);
    const registry = await loadRegistry();
    let journal: Journal | undefined;
    // The worker's own signal drains; a second SIGTERM/SIGINT exits the process, so the runner's
    // hard-stop signal is never aborted here.
    const never = new AbortController().signal;
    return {
      openJournal: async (spec) => {
        journal = await openJournal(spec, { stateDir });
        return journal;
      },
      drive: async (runId, stop, worker, observer) => {
        if (!journal) throw new Error('fleetRuntime: openJournal first');
        const progress = new PlainProgress(process.stderr);
        const runner = new Runner({
          journal,
          registry,
          stateDir,
          signal: never,
          stopAtStepBoundary: stop,
          owner: { pid: process.pid, host: os.hostname(), worker },
          hostSettings,
          observer: {
            runStarted: (i) => progress.runStarted?.(i),
            stepStarted: (...a) => {
              progress.stepStarted?.(...a);
              observer?.stepStarted?.(...a);
            },
            stepProgress: (...a) => {
              progress.stepProgress?.(...a);
              observer?.stepProgress?.(...a);
            },
            stepRetrying: (...a) => progress.stepRetrying?.(...a),
            stepFinished: (...a) => {
              progress.stepFinished?.(...a);
              observer?.stepFinished?.(...a);
            },
          },
        });
        return runner.resume(runId);
      },
    };
  }
}
