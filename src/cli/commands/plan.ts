// `v2o plan`: what a run would do, changing nothing. Exit 2 when the plan is blocked.
import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { exitCodesHelp } from './help.js';
import { addWorkflowOptions, chooseWorkflow, type WorkflowChoice } from './workflow-options.js';

export const planCommand: CommandModule = {
  register(program: Command) {
    addWorkflowOptions(
      program.command('plan').description('show what a run would do (dry run; changes nothing)'),
    )
      .option('--json', 'print the plan as JSON')
      .addHelpText('after', `\nExample:\n  v2o plan --set gate=true\n${exitCodesHelp([0, 2])}`)
      .action(async (o: WorkflowChoice & { json?: boolean }) => {
        const { planWorkflow } = await import('../../engine/plan.js');
        const { silentLogger } = await import('../../engine/logger.js');
        const { workflow, params } = await chooseWorkflow(o);
        const plan = await planWorkflow(workflow, params, { log: silentLogger() });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
        } else {
          process.stdout.write(`${plan.workflow} v${plan.version}\n`);
          for (const [i, s] of plan.steps.entries()) {
            process.stdout.write(`  ${i + 1}. ${s.id}: ${s.plan.skip ? '(skip) ' : ''}${s.plan.summary}\n`);
            for (const w of s.plan.warnings ?? []) process.stdout.write(`       warning: ${w}\n`);
            for (const b of s.plan.blockers ?? []) process.stdout.write(`       BLOCKED: ${b}\n`);
          }
          if (plan.blocked) process.stdout.write('the plan is blocked; fix the blockers above\n');
        }
        process.exitCode = plan.blocked ? ExitCode.badInput : ExitCode.ok;
      });
  },
};
