// Progress on a terminal: listr2, one task per step. The runner drives the steps; each listr
// task only waits for its step's outcome, which the runner reports through the observer.
import { Listr, type ListrTaskWrapper } from 'listr2';
import { localIso } from '../../engine/clock.js';
import type { AnyWorkflow } from '../../engine/registry.js';
import type { RunObserver, RunOutcome } from '../../engine/runner.js';
import type { ProgressUpdate, StepState } from '../../engine/types.js';
import { ProgressMeter } from './format.js';

interface Slot {
  settle(r: {
    state: StepState;
    error?: Error;
    message?: string;
    fromJournal?: boolean;
    wakeAt?: number;
  }): void;
  result: Promise<{
    state: StepState;
    error?: Error;
    message?: string;
    fromJournal?: boolean;
    wakeAt?: number;
  }>;
  // biome-ignore lint/suspicious/noExplicitAny: listr2's wrapper type is generic over renderers
  task?: ListrTaskWrapper<any, any, any>;
  output?: string;
  meter: ProgressMeter;
}

export class ListrProgress implements RunObserver {
  private readonly slots = new Map<string, Slot>();
  private running: Promise<unknown> = Promise.resolve();

  runStarted(info: { runId: string; workflow: AnyWorkflow; resumed: boolean }) {
    // The run id first: it is what every later command needs.
    process.stdout.write(
      `${info.resumed ? 'resuming' : 'started'} run ${info.runId} (${info.workflow.name} v${info.workflow.version})\n`,
    );
    for (const s of info.workflow.steps) {
      let settle!: Slot['settle'];
      const result = new Promise<Parameters<Slot['settle']>[0]>((r) => {
        settle = r;
      });
      this.slots.set(s.id, { settle, result, meter: new ProgressMeter() });
    }
    const listr = new Listr(
      info.workflow.steps.map((s) => ({
        title: `${s.title} [${s.id}]`,
        task: async (_: unknown, task: Slot['task']) => {
          const slot = this.slots.get(s.id)!;
          slot.task = task;
          if (slot.output && task) task.output = slot.output;
          const r = await slot.result;
          if (r.fromJournal) return task?.skip(`${r.state} earlier, not run again`);
          if (r.state === 'skipped') return task?.skip('skipped');
          if (r.state === 'waiting')
            return task?.skip(
              r.wakeAt === undefined
                ? `waiting for approval: ${r.message ?? ''}`
                : `waiting until ${localIso(r.wakeAt)}: ${r.message ?? ''}`,
            );
          if (r.state === 'pending') return task?.skip('not run');
          if (r.state !== 'succeeded' && r.state !== 'compensated') throw r.error ?? new Error(r.state);
        },
      })),
      {
        concurrent: false,
        exitOnError: true,
        registerSignalListeners: false, // the CLI owns SIGINT (interrupt, then exit)
        rendererOptions: { collapseSubtasks: false, showSkipMessage: true, collapseSkips: false },
      },
    );
    this.running = listr.run().catch(() => {});
  }

  private set(stepId: string, text: string) {
    const slot = this.slots.get(stepId);
    if (!slot) return;
    slot.output = text;
    if (slot.task) slot.task.output = text;
  }

  stepStarted(stepId: string, attempt: number, phase: 'run' | 'compensate' = 'run') {
    if (phase === 'compensate') this.set(stepId, 'rolling back');
    else if (attempt > 1) this.set(stepId, `attempt ${attempt}`);
  }

  stepProgress(stepId: string, u: ProgressUpdate) {
    const slot = this.slots.get(stepId);
    if (slot) this.set(stepId, slot.meter.format(u));
  }

  stepRetrying(stepId: string, error: Error, delayMs: number) {
    this.set(stepId, `failed (${error.message}); retrying in ${delayMs} ms`);
  }

  stepFinished(
    stepId: string,
    state: StepState,
    info?: { error?: Error; message?: string; fromJournal?: boolean; wakeAt?: number },
  ) {
    this.slots.get(stepId)?.settle({ state, ...info });
  }

  runFinished(_o: RunOutcome) {
    for (const slot of this.slots.values()) slot.settle({ state: 'pending' });
  }

  async done(): Promise<void> {
    await this.running;
  }
}
