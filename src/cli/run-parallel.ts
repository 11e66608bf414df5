// Several runs at once in this process (migrate with concurrency.vms > 1): one session of
// run-workflow.ts (journal, Ctrl-C handler, runner settings, outcome reporting), and plain progress
// lines prefixed with each run's subject, since several interactive displays cannot share a terminal.
import { Writable } from 'node:stream';
import { type AnyWorkflow, WorkflowRegistry } from '../engine/registry.js';
import type { RunOutcome } from '../engine/runner.js';
import type { GlobalOptions } from './command.js';
import { PlainProgress } from './progress/plain-progress.js';
import { openSession, outcomeJson, printOutcome } from './run-workflow.js';

export interface ParallelRun {
  workflow: AnyWorkflow;
  params: unknown;
  subject: string;
}

function prefixed(out: NodeJS.WritableStream, prefix: string): NodeJS.WritableStream {
  return new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk);
      out.write(text.replace(/^(?=.)/gm, `[${prefix}] `));
      cb();
    },
  });
}

export async function runParallel(
  runs: ParallelRun[],
  o: { globals: GlobalOptions; json?: boolean; concurrency: number },
): Promise<RunOutcome[]> {
  const { default: pLimit } = await import('p-limit');
  const registry = new WorkflowRegistry([...new Set(runs.map((r) => r.workflow))]);
  const session = await openSession({ globals: o.globals, registry }, true);
  const out = o.json ? process.stderr : process.stdout;
  try {
    const limit = pLimit(o.concurrency);
    const outcomes = await Promise.all(
      runs.map((r) =>
        limit(async () => {
          if (session.signal.aborted) return undefined;
          const runner = session.runner(new PlainProgress(prefixed(out, r.subject)));
          const outcome = await runner.start(r.workflow, r.params, r.subject);
          if (!o.json) printOutcome(outcome, `[${r.subject}] `);
          return outcome;
        }),
      ),
    );
    const done = outcomes.filter((x): x is RunOutcome => !!x);
    if (o.json)
      process.stdout.write(`${JSON.stringify(done.map((x) => outcomeJson(x, session.stateDir)))}\n`);
    return done;
  } finally {
    await session.close();
  }
}
