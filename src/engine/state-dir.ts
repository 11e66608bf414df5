// Where the journal and run logs live: --state-dir, then V2O_STATE_DIR, then
// $XDG_STATE_HOME/v2o (XDG's default for XDG_STATE_HOME is ~/.local/state).
import os from 'node:os';
import path from 'node:path';

export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.V2O_STATE_DIR) return path.resolve(env.V2O_STATE_DIR);
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : undefined;
  return path.join(xdg ?? path.join(env.HOME ?? os.homedir(), '.local', 'state'), 'v2o');
}

export function journalPath(stateDir: string): string {
  return path.join(stateDir, 'journal.db');
}

export function runLogPath(stateDir: string, runId: string): string {
  return path.join(stateDir, 'runs', `${runId}.log`);
}
