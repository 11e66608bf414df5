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
      .option(
        '--force-poweroff',
        'power the VM off hard if the guest does not shut down in time (also V2O_FORCE_POWEROFF=1)',
      )
      .addHelpText(
        'after',
        `\nExamples:\n  v2o resume r-7k2m9q4x\n  v2o resume r-7k2m9q4x --force-poweroff   # the guest will not shut down: allow a hard power-off\n${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(async (runId: string, o: { json?: boolean; forcePoweroff?: boolean }, cmd: Command) => {
        const { resumeRun } = await import('../run-workflow.js');
        // An operator's decision at resume time, not part of the journaled plan: it reaches the
        // shutdown step the way V2O_FORCE_POWEROFF does.
        const env = o.forcePoweroff ? { ...process.env, V2O_FORCE_POWEROFF: '1' } : undefined;
        const outcome = await resumeRun(runId, { globals: globalOptions(cmd), json: o.json, env });
        process.exitCode = outcome.exitCode;
      });
  },
};
