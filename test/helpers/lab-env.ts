// Reads .lab/lab.env (written by `npm run lab -- up`) for integration tests.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function labEnv(): Record<string, string> {
  const file = resolve(process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^'.*'$/.test(v) || /^".*"$/.test(v)) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** The lab's variables merged over process.env, as a user's shell would have them. */
export function labProcessEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...labEnv() };
}
