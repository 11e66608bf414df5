// `v2o resume <run> [--wait]`: continue a run where it stopped; finished steps are not run again.
// A run waiting on a timer (a warm migration between precopy passes) is left unchanged before it
// is due; --wait sleeps here until it is and goes on, pass after pass.
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
        '--wait',
        'when the run waits until a time (between precopy passes, a cutover --at), sleep until then and go on; repeats until the run ends or waits for approval',
      )
      .option(
        '--force-poweroff',
        'power the VM off hard if the guest does not shut down in time (also V2O_FORCE_POWEROFF=1)',
      )
      .addHelpText(
        'after',
        `\nA run that waits until a time is not changed by a resume before that time (exit 3, the time is printed).\nWith --wait, Ctrl-C during the sleep stops only the wait (exit 130); the run stays as it was.\n\nExamples:\n  v2o resume r-7k2m9q4x\n  v2o resume r-7k2m9q4x --wait             # warm migration: run each precopy pass when due, then the cutover\n  v2o resume r-7k2m9q4x --force-poweroff   # the guest will not shut down: allow a hard power-off\n${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(
        async (
          runId: string,
          o: { json?: boolean; forcePoweroff?: boolean; wait?: boolean },
          cmd: Command,
        ) => {
          const { resumeRun } = await import('../run-workflow.js');
          // An operator's decision at resume time, not part of the journaled plan: it reaches the
          // shutdown step the way V2O_FORCE_POWEROFF does.
          const env = o.forcePoweroff ? { ...process.env, V2O_FORCE_POWEROFF: '1' } : undefined;
          const outcome = await resumeRun(runId, {
            globals: globalOptions(cmd),
            json: o.json,
            env,
            wait: o.wait,
          });
          process.exitCode = outcome.exitCode;
        },
      );
  },
};
