// `v2o approve <run> [--step id]`: record approval of a gate; `v2o resume` then runs the step.
import os from 'node:os';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { globalOptions, withJournal } from '../context.js';
import { handToFleet } from '../fleet-handoff.js';
import { exitCodesHelp } from './help.js';

export const approveCommand: CommandModule = {
  register(program: Command) {
    program
      .command('approve')
      .description('approve the gate a run waits at (or, with --step, a later gate ahead of time)')
      .argument('<run>', 'run id')
      .option('--step <id>', 'the step to approve (default: the one waiting)')
      .addHelpText(
        'after',
        `\nExample:\n  v2o approve r-7k2m9q4x && v2o resume r-7k2m9q4x\n${exitCodesHelp([0, 2])}`,
      )
      .action(async (runId: string, o: { step?: string }, cmd: Command) => {
        const { approveRun } = await import('../../engine/approve.js');
        const globals = globalOptions(cmd);
        const { step, fleet } = await withJournal(
          globals,
          async (j) => {
            const step = await approveRun(j, runId, {
              stepId: o.step,
              by: `${os.userInfo().username}@${os.hostname()}`,
              at: Date.now(),
            });
            return { step, fleet: await handToFleet(j, runId, globals.journal || process.env.V2O_JOURNAL) };
          },
          { create: false },
        );
        process.stdout.write(
          fleet
            ? `approved step ${step.stepId} of run ${runId} (by ${step.approvedBy}); its job is back on the fleet's queue\n`
            : `approved step ${step.stepId} of run ${runId} (by ${step.approvedBy}); continue with: v2o resume ${runId}\n`,
        );
      });
  },
};
