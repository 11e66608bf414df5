// Engine test kit: a journal in a temp dir, a fake clock, a silent logger, a runner factory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../../src/engine/clock.js';
import { SqliteJournal } from '../../../src/engine/journal/sqlite.js';
import { silentLogger } from '../../../src/engine/logger.js';
import { type AnyWorkflow, WorkflowRegistry } from '../../../src/engine/registry.js';
import { type EngineOptions, Runner } from '../../../src/engine/runner.js';

export function tmpDir(prefix = 'v2o-engine-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Kit {
  dir: string;
  file: string;
  journal: SqliteJournal;
  clock: FakeClock;
  runner(workflows: AnyWorkflow[], extra?: Partial<EngineOptions>): Runner;
}

export function kit(): Kit {
  const dir = tmpDir();
  const file = path.join(dir, 'journal.db');
  const clock = new FakeClock();
  const journal = SqliteJournal.open(file, { clock });
  return {
    dir,
    file,
    journal,
    clock,
    runner: (workflows, extra = {}) =>
      new Runner({
        journal,
        registry: new WorkflowRegistry(workflows),
        stateDir: dir,
        clock,
        sleep: clock.autoSleep,
        logger: () => ({ log: silentLogger(), file: '', close() {} }),
        ...extra,
      }),
  };
}

/** Resolves once `pred` holds, polling (for things another async path does). */
export async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
