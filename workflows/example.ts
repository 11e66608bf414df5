// The built-in example workflow: a few steps that write files under a work directory, so the
// engine and CLI can be tried and tested without a lab. Params steer its failure modes.
// Steps do the I/O; this file only lists them with their policies.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StepContext, StepDefinition, WorkflowDefinition } from '../src/engine/types.js';
import { NonRetryableError } from '../src/errors.js';

export interface ExampleParams {
  /** Work directory (default: <tmp>/v2o-example/<run>). */
  dir?: string;
  /** Size of the file write-file writes, in bytes (default 1 MiB). */
  sizeBytes?: number;
  /** flaky fails this many attempts before it succeeds (retried with backoff). */
  failTimes?: number;
  /** flaky fails with a NonRetryableError instead (the run fails at once). */
  failHard?: boolean;
  /** hold blocks the first time it runs (until Ctrl-C or kill), for interrupt and crash tests. */
  hangOnce?: boolean;
  /** cutover waits for `v2o approve` first. */
  gate?: boolean;
}

type Ctx = StepContext<ExampleParams, undefined>;

const workDir = (ctx: Pick<Ctx, 'params' | 'runId'>) =>
  ctx.params.dir ?? path.join(os.tmpdir(), 'v2o-example', ctx.runId);

/** Every run() notes itself first, so tests can count how often each step ran. */
async function noteCall(ctx: Ctx): Promise<string> {
  const dir = workDir(ctx);
  await fs.mkdir(dir, { recursive: true });
  await fs.appendFile(path.join(dir, 'calls.log'), `${ctx.stepId}\n`);
  return dir;
}

const prepare: StepDefinition<ExampleParams, undefined, { dir: string }> = {
  id: 'prepare',
  title: 'Prepare the work directory',
  plan: ({ params }) => ({ summary: `create ${params.dir ?? '<tmp>/v2o-example/<run>'}` }),
  run: async (ctx) => ({ dir: await noteCall(ctx) }),
};

const CHUNK = 64 * 1024;

const writeFile: StepDefinition<ExampleParams, undefined, { path: string; bytes: number }> = {
  id: 'write-file',
  title: 'Write the payload file',
  plan: ({ params }) => ({ summary: `write ${params.sizeBytes ?? 1 << 20} bytes to payload.bin` }),
  run: async (ctx) => {
    const dir = await noteCall(ctx);
    const file = path.join(dir, 'payload.bin');
    const total = ctx.params.sizeBytes ?? 1 << 20;
    // Pick up from the last checkpoint, as a long copy would.
    let done = (ctx.lastCheckpoint as { bytesWritten?: number } | undefined)?.bytesWritten ?? 0;
    const fh = await fs.open(file, done > 0 ? 'r+' : 'w');
    try {
      while (done < total) {
        ctx.signal.throwIfAborted();
        const n = Math.min(CHUNK, total - done);
        await fh.write(Buffer.alloc(n, 0x76), 0, n, done);
        done += n;
        ctx.checkpoint({ bytesWritten: done });
        ctx.progress.update({ done, total, unit: 'bytes' });
      }
    } finally {
      await fh.close();
    }
    return { path: file, bytes: total };
  },
  compensate: async (_ctx, output) => {
    if (output) await fs.rm(output.path, { force: true });
  },
};

const flaky: StepDefinition<ExampleParams, undefined, { attempt: number }> = {
  id: 'flaky',
  title: 'A step that may fail and be retried',
  retry: { attempts: 4, initialDelayMs: 200, backoff: 2, maxDelayMs: 2_000 },
  run: async (ctx) => {
    await noteCall(ctx);
    if (ctx.params.failHard) throw new NonRetryableError('flaky was told to fail for good');
    if (ctx.attempt <= (ctx.params.failTimes ?? 0)) throw new Error(`flaky fails on attempt ${ctx.attempt}`);
    return { attempt: ctx.attempt };
  },
};

const hold: StepDefinition<ExampleParams, undefined, { held: boolean }> = {
  id: 'hold',
  title: 'Hold (blocks once when hangOnce is set)',
  run: async (ctx) => {
    const dir = await noteCall(ctx);
    const marker = path.join(dir, 'hold.marker');
    if (!ctx.params.hangOnce) return { held: false };
    // The marker is the side effect that makes a re-run go through.
    const first = await fs
      .writeFile(marker, String(process.pid), { flag: 'wx' })
      .then(() => true)
      .catch(() => false);
    if (first) await ctx.sleep(24 * 3600_000, ctx.signal);
    return { held: first };
  },
};

const cutover: StepDefinition<ExampleParams, undefined, { file: string }> = {
  id: 'cutover',
  title: 'Cut over (write done.txt)',
  gate: (ctx) =>
    ctx.params.gate
      ? { message: `check ${path.join(workDir(ctx), 'payload.bin')} before cut-over` }
      : undefined,
  run: async (ctx) => {
    const dir = await noteCall(ctx);
    const file = path.join(dir, 'done.txt');
    await fs.writeFile(file, `run ${ctx.runId} done\n`);
    return { file };
  },
  compensate: async (_ctx, output) => {
    if (output) await fs.rm(output.file, { force: true });
  },
};

export const exampleWorkflow: WorkflowDefinition<ExampleParams, undefined> = {
  name: 'example',
  version: 1,
  description: 'Built-in example: writes files in a work directory; params make it fail, hang or wait.',
  steps: [prepare, writeFile, flaky, hold, cutover],
};
