// `v2o cancel <run> [--rollback]`: stop a run for good; --rollback undoes the steps that ran.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { globalOptions } from '../context.js';
import { exitCodesHelp } from './help.js';

export const cancelCommand: CommandModule = {
  register(program: Command) {
    program
      .command('cancel')
      .description('cancel a run; with --rollback, undo the steps that ran (even part-way), newest first')
      .argument('<run>', 'run id')
      .option('--rollback', "run the compensations of the run's steps that ran, newest first")
      .option(
        '--force',
        'with --rollback: roll back even when the workflow refuses (a domain controller whose target already booted)',
      )
      .option('--json', 'print the outcome as JSON')
      .addHelpText(
        'after',
        `\nA run being driven by another process stops within seconds. --rollback needs the run to be idle;\nif a compensation fails, fix the cause and run the same command again. A domain controller migrated\nwith domainController: allow is not rolled back once its target booted, unless --force (USN rollback).\n${exitCodesHelp([0, 1, 2, 130])}`,
      )
      .action(
        async (runId: string, o: { rollback?: boolean; force?: boolean; json?: boolean }, cmd: Command) => {
          if (o.force && !o.rollback)
            throw new ConfigError('--force goes with --rollback', {
              hint: `v2o cancel ${runId} --rollback --force`,
            });
          const { cancelRun } = await import('../run-workflow.js');
          const outcome = await cancelRun(runId, o.rollback ?? false, {
            globals: globalOptions(cmd),
            json: o.json,
            force: o.force,
          });
          process.exitCode = outcome.exitCode;
        },
      );
  },
};
