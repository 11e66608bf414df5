// runParallel drives several runs through run-workflow's session: one journal, prefixed progress,
// each outcome's message, and --json as one array of the same objects `migrate --json` prints.
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runParallel } from '../../../src/cli/run-parallel.js';
import { exampleWorkflow } from '../../../workflows/example.js';
import { tmpState } from './helpers.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out.stdout += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    out.stderr += String(s);
    return true;
  });
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

const runsIn = (state: string) =>
  ['vm-a', 'vm-b'].map((subject) => ({
    workflow: exampleWorkflow,
    params: { dir: path.join(state, subject), sizeBytes: 4096 },
    subject,
  }));

describe('runParallel', () => {
  it('prefixes each run’s progress and message with its subject', async () => {
    const state = tmpState();
    const out = capture();
    const outcomes = await runParallel(runsIn(state), { globals: { stateDir: state }, concurrency: 2 });
    vi.restoreAllMocks();
    expect(outcomes.map((x) => x.exitCode)).toEqual([0, 0]);
    for (const [i, subject] of ['vm-a', 'vm-b'].entries()) {
      expect(out.stdout).toContain(`[${subject}] `);
      expect(out.stdout).toMatch(new RegExp(`^\\[${subject}\\] \\S+ write-file: succeeded$`, 'm'));
      expect(out.stdout).toContain(`[${subject}] ${outcomes[i]!.message}\n`);
    }
    expect(out.stderr).toBe('');
  });

  it('--json: progress on stderr, one array of outcomes with their run logs on stdout', async () => {
    const state = tmpState();
    const out = capture();
    const outcomes = await runParallel(runsIn(state), {
      globals: { stateDir: state },
      json: true,
      concurrency: 2,
    });
    vi.restoreAllMocks();
    expect(out.stderr).toMatch(/^\[vm-a\] .*write-file: succeeded$/m);
    const printed = JSON.parse(out.stdout) as { runId: string; exitCode: number; log: string }[];
    expect(printed.map((p) => p.runId)).toEqual(outcomes.map((x) => x.runId));
    expect(printed.map((p) => p.exitCode)).toEqual([0, 0]);
    for (const p of printed) expect(p.log).toBe(path.join(state, 'runs', `${p.runId}.log`));
  });
});
