// `v2o migrate`: start a run and drive it until done, a gate, a failure or Ctrl-C.
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { globalOptions } from '../context.js';
import { exitCodesHelp } from './help.js';
import { addWorkflowOptions, chooseWorkflow, type WorkflowChoice } from './workflow-options.js';

export const migrateCommand: CommandModule = {
  register(program: Command) {
    addWorkflowOptions(
      program.command('migrate').description('start a run and drive it (journaled; resumable)'),
    )
      .option('--json', 'print the outcome as JSON on stdout (progress goes to stderr)')
      .addHelpText(
        'after',
        `\nExamples:\n  v2o migrate --set gate=true         # stops at the cut-over gate (exit 3)\n  v2o migrate --set failTimes=2       # retried with backoff, then succeeds\n${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(async (o: WorkflowChoice & { json?: boolean }, cmd: Command) => {
        const { planWorkflow } = await import('../../engine/plan.js');
        const { silentLogger } = await import('../../engine/logger.js');
        const { runWorkflow } = await import('../run-workflow.js');
        const { workflow, params, subject } = await chooseWorkflow(o);
        // Same rule as `plan`: a blocked plan changes nothing.
        const plan = await planWorkflow(workflow, params, { log: silentLogger() });
        if (plan.blocked) {
          const blockers = plan.steps.flatMap((s) => (s.plan.blockers ?? []).map((b) => `${s.id}: ${b}`));
          throw new ConfigError(`the plan is blocked: ${blockers.join('; ')}`, { hint: 'see `v2o plan`' });
        }
        const outcome = await runWorkflow({
          workflow,
          params,
          subject,
          globals: globalOptions(cmd),
          json: o.json,
        });
        process.exitCode = outcome.exitCode;
      });
  },
};
