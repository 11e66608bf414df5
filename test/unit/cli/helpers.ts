// CLI test kit: run `v2o` in this process (fast; stdout/stderr captured) or as a child process
// (for signals and crashes).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { main } from '../../../src/cli/program.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function tmpState(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'v2o-cli-'));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(stateDir: string, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(['node', 'v2o', '--state-dir', stateDir, ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(stateDir: string, ...args: string[]): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--state-dir', stateDir, ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, output: () => out, exit };
}

export async function waitForFile(file: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How often each step's run() began, from the example workflow's calls.log. */
export function callCounts(dir: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean)) {
    counts[l] = (counts[l] ?? 0) + 1;
  }
  return counts;
}
