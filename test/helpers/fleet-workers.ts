// Test kit for the fleet tests: `v2o worker` processes (their output kept for failure messages) on
// a test's PostgreSQL journal, and waiting for what the journal or the labs show.
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../..');

export type WorkerProcess = ChildProcess & { out: string[] };

/** `v2o --state-dir <state> --journal <url> worker --name <name> ...args` in a child process. */
export function startWorker(o: {
  state: string;
  url: string;
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')],
      ...['--state-dir', o.state, '--journal', o.url, 'worker', '--name', o.name, ...o.args],
    ],
    { cwd: repoRoot, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] },
  ) as WorkerProcess;
  child.out = [];
  child.stdout!.on('data', (c) => child.out.push(String(c)));
  child.stderr!.on('data', (c) => child.out.push(String(c)));
  return child;
}

/**
 * Polls `fn` every `pollMs` (default 2 s: a poll may start a CLI process) until it returns a value;
 * the timeout's error ends with `context()` (the workers' logs).
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  o: { context?: () => string; pollMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${o.context?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
  }
}
