// Progress as plain lines, for logs, pipes and --json (stdout is not a TTY).
import { localIso } from '../../engine/clock.js';
import type { RunObserver, RunOutcome } from '../../engine/runner.js';
import type { ProgressUpdate, StepState } from '../../engine/types.js';
import { ProgressMeter } from './format.js';

export class PlainProgress implements RunObserver {
  private readonly meters = new Map<string, ProgressMeter>();
  private readonly lastLine = new Map<string, number>();
  /** Steps whose compensation is running (cancel --rollback). */
  private readonly rollingBack = new Set<string>();

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** At most one progress line per step per interval. */
    private readonly intervalMs = 2_000,
  ) {}

  private line(s: string) {
    this.out.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
  }

  runStarted(info: { runId: string; workflow: { name: string; version: number }; resumed: boolean }) {
    this.line(
      `${info.resumed ? 'resuming' : 'started'} run ${info.runId} (${info.workflow.name} v${info.workflow.version})`,
    );
  }

  stepStarted(stepId: string, attempt: number, phase: 'run' | 'compensate' = 'run') {
    if (phase === 'compensate') {
      this.rollingBack.add(stepId);
      return this.line(`${stepId}: rolling back`);
    }
    this.line(`${stepId}: started${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
  }

  stepProgress(stepId: string, u: ProgressUpdate) {
    const now = Date.now();
    const meter = this.meters.get(stepId) ?? new ProgressMeter();
    this.meters.set(stepId, meter);
    const text = meter.format(u);
    const finished = u.total !== undefined && u.done === u.total;
    if (!finished && now - (this.lastLine.get(stepId) ?? 0) < this.intervalMs) return;
    this.lastLine.set(stepId, now);
    this.line(`${stepId}: ${text}`);
  }

  stepRetrying(stepId: string, error: Error, delayMs: number) {
    this.line(`${stepId}: attempt failed (${error.message}); retrying in ${delayMs} ms`);
  }

  stepFinished(
    stepId: string,
    state: StepState,
    info?: { error?: Error; message?: string; fromJournal?: boolean; wakeAt?: number },
  ) {
    if (info?.fromJournal) return this.line(`${stepId}: ${state} earlier, not run again`);
    if (info?.wakeAt !== undefined)
      return this.line(`${stepId}: waiting until ${localIso(info.wakeAt)} (${info.message ?? ''})`);
    const why = info?.error?.message ?? info?.message;
    const what = this.rollingBack.has(stepId) && state === 'failed' ? 'rollback failed' : state;
    this.line(`${stepId}: ${what}${why ? ` (${why})` : ''}`);
  }

  runFinished(_o: RunOutcome) {}

  async done(): Promise<void> {}
}
