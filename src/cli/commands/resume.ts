// `v2o resume <run>`: continue a run where it stopped; finished steps are not run again.
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { globalOptions } from '../context.js';
import { exitCodesHelp } from './help.js';

export const resumeCommand: CommandModule = {
  register(program: Command) {
    program
      .command('resume')
      .description('continue a run where it stopped (finished steps are not run again)')
      .argument('<run>', 'run id (see `v2o list`)')
      .option('--json', 'print the outcome as JSON on stdout (progress goes to stderr)')
      .addHelpText(
        'after',
        `\nExamples:\n  v2o resume r-7k2m9q4x\n  V2O_FORCE_POWEROFF=1 v2o resume r-7k2m9q4x   # allow a hard power-off if the guest will not shut down\n${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(async (runId: string, o: { json?: boolean }, cmd: Command) => {
        const { resumeRun } = await import('../run-workflow.js');
        const outcome = await resumeRun(runId, { globals: globalOptions(cmd), json: o.json });
        process.exitCode = outcome.exitCode;
      });
  },
};
