// Integration tests need the labs. `npm test` starts them (npm run lab -- up all);
// running this project alone needs the same first. Missing labs fail loudly, never skip.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export default function setup(): void {
  const env = resolve(process.env.V2O_LAB_DIR ?? '.lab', 'lab.env');
  if (!existsSync(env)) {
    throw new Error(`no lab: ${env} is missing. Start the labs first: npm run lab -- up all`);
  }
}
