// Several runs at once in this process (migrate with concurrency.vms > 1): one journal, one
// Ctrl-C handler, and plain progress lines prefixed with each run's subject, since several
// interactive progress displays cannot share one terminal.
import { Writable } from 'node:stream';
import { type AnyWorkflow, WorkflowRegistry } from '../engine/registry.js';
import { Runner, type RunOutcome } from '../engine/runner.js';
import type { GlobalOptions } from './command.js';
import { openJournal, stateDirOf } from './context.js';
import { PlainProgress } from './progress/plain-progress.js';
import { installInterruptHandlers } from './signals.js';

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
  const stateDir = stateDirOf(o.globals);
  const registry = new WorkflowRegistry([...new Set(runs.map((r) => r.workflow))]);
  const journal = await openJournal(o.globals, { create: true });
  const interrupt = installInterruptHandlers();
  const out = o.json ? process.stderr : process.stdout;
  try {
    const limit = pLimit(o.concurrency);
    const outcomes = await Promise.all(
      runs.map((r) =>
        limit(async () => {
          if (interrupt.signal.aborted) return undefined;
          const progress = new PlainProgress(prefixed(out, r.subject));
          const runner = new Runner({
            journal,
            registry,
            stateDir,
            observer: progress,
            signal: interrupt.signal,
          });
          const outcome = await runner.start(r.workflow, r.params, r.subject);
          if (!o.json)
            (outcome.exitCode === 0 ? process.stdout : process.stderr).write(
              `[${r.subject}] ${outcome.message}\n`,
            );
          return outcome;
        }),
      ),
    );
    const done = outcomes.filter((x): x is RunOutcome => !!x);
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify(done.map(({ error, ...rest }) => ({ ...rest, error: error && { name: error.name, message: error.message } })))}\n`,
      );
    }
    return done;
  } finally {
    interrupt.dispose();
    journal.close();
  }
}
