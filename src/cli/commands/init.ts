// `v2o init [file]`: write a commented example plan to start from.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { EXAMPLE_PLAN } from '../../migration/example-plan.js';
import type { CommandModule } from '../command.js';

export function writeExamplePlan(file: string, force = false): void {
  try {
    // 'wx' refuses to overwrite: a plan someone edited is worth more than an example.
    writeFileSync(file, EXAMPLE_PLAN, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConfigError(`${file} already exists`, { hint: 'choose another file name, or pass --force' });
    }
    throw new ConfigError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export const initCommand: CommandModule = {
  register(program: Command) {
    program
      .command('init')
      .description('write a commented example migration plan')
      .argument('[file]', 'where to write it ("-" for stdout)', 'plan.yaml')
      .option('--force', 'overwrite the file if it exists')
      .addHelpText('after', '\nExample:\n  v2o init plan.yaml && $EDITOR plan.yaml && v2o plan plan.yaml')
      .action((file: string, opts: { force?: boolean }) => {
        if (file === '-') {
          process.stdout.write(EXAMPLE_PLAN);
          return;
        }
        writeExamplePlan(file, opts.force);
        process.stdout.write(`wrote ${file}; edit it, then check it with \`v2o plan ${file}\`\n`);
      });
  },
};
