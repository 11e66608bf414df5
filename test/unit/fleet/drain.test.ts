// A worker's drain puts the runs it stopped back on the queue before it closes the queue (pg-boss
// refuses a send once stopped: the run was left pending with no job). The real thing, with
// `v2o worker` processes and PostgreSQL: test/integration/fleet/worker-faults.test.ts.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/engine/logger.js';
import type { RunOutcome } from '../../../src/engine/runner.js';
import { ExitCode } from '../../../src/errors.js';
import type { RunQueue } from '../../../src/fleet/queue.js';
import { runWorker } from '../../../src/fleet/worker.js';
import { kit } from '../engine/helpers.js';

/** Records what the worker did with it; like pg-boss, refuses to enqueue once stopped. */
class RecordingQueue implements RunQueue {
  readonly calls: string[] = [];
  take?: (runId: string) => Promise<void>;
  private stopped = false;
  async enqueue(runId: string): Promise<void> {
    if (this.stopped) throw new Error('queue stopped');
    this.calls.push(`enqueue ${runId}`);
  }
  async work(_o: unknown, take: (runId: string) => Promise<void>): Promise<void> {
    this.take = take;
  }
  async queuedRuns(): Promise<Set<string>> {
    return new Set();
  }
  async drain(): Promise<void> {
    this.calls.push('drain');
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
    this.stopped = true;
  }
}

describe('worker drain', () => {
  it('stops taking jobs, lets the drive stop at its boundary, queues the run again, then closes the queue', async () => {
    const k = kit();
    const run = await k.journal.createRun({
      workflow: 'w',
      workflowVersion: 1,
      subject: 's',
      params: {},
      stepIds: ['a', 'b'],
      at: 1,
    });
    const queue = new RecordingQueue();
    const drain = new AbortController();
    let driving!: () => void;
    const started = new Promise<void>((r) => {
      driving = r;
    });
    const drive = async (runId: string, stop: AbortSignal): Promise<RunOutcome> => {
      driving();
      await new Promise((r) => stop.addEventListener('abort', r, { once: true }));
      return {
        runId,
        state: 'pending',
        exitCode: ExitCode.interrupted,
        message: '',
        stoppedAtBoundary: true,
      };
    };
    const done = runWorker({
      journal: k.journal,
      queue,
      name: 'w1',
      maxVms: 1,
      drive,
      log: silentLogger(),
      signal: drain.signal,
      reaperMs: 60_000,
    });
    while (!queue.take) await new Promise((r) => setTimeout(r, 5));
    await queue.take(run.id);
    await started;
    drain.abort();
    await done;
    expect(queue.calls).toEqual(['drain', `enqueue ${run.id}`, 'stop']);
    k.journal.close();
  });
});
