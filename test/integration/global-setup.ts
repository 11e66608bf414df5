// Integration tests need the labs. `npm test` starts them (npm run lab -- up all);
// running this project alone needs the same first. Missing labs fail loudly, never skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export default function setup(): void {
  const env = resolve(process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  if (!existsSync(env)) {
    throw new Error(`no lab: ${env} is missing. Start the labs first: npm run lab -- up all`);
  }
  // A server left by `npm run demo` holds the lab VM's MAC on lab-net, which the tests' plans
  // keep too: roll the demo run back first (a no-op when there is none).
  if (existsSync('.v2o/demo/last-run')) {
    const r = spawnSync('bash', ['scripts/demo.sh', '--undo'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not roll back the last demo run: bash scripts/demo.sh --undo');
  }
}
