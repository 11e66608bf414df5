// `v2o migrate plan.yaml [--vm NAME] [--force-poweroff] [--queue [--wait]]`: one journaled run per
// VM, at most `concurrency.vms` at once, or queued for the fleet's workers. A blocked plan starts nothing (exit 2). The exit code is the worst
// outcome: 130 interrupted, 1 failed, 3 waiting for approval, 0 all done.
// Without a plan file it starts a built-in workflow (`--workflow example`), for trying the engine.
import type { Command } from 'commander';
import { ConfigError, ExitCode } from '../../errors.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_S } from '../../migration/run-defaults.js';
import type { CommandModule } from '../command.js';
import { globalOptions, stateDirOf } from '../context.js';
import { exitCodesHelp } from './help.js';
import { addWorkflowOptions, chooseWorkflow, type WorkflowChoice } from './workflow-options.js';

interface MigrateOptions extends WorkflowChoice {
  json?: boolean;
  queue?: boolean;
  wait?: boolean;
  vm?: string;
  forcePoweroff?: boolean;
  shutdownTimeout?: string;
}

/** Worst first. */
const SEVERITY: number[] = [ExitCode.interrupted, ExitCode.failed, ExitCode.waiting, ExitCode.ok];
export function worstExitCode(codes: number[]): number {
  for (const c of SEVERITY) if (codes.includes(c)) return c;
  return codes.length ? Math.max(...codes) : ExitCode.ok;
}

async function migrateFromFile(file: string, o: MigrateOptions, cmd: Command): Promise<number> {
  const { loadPlanFile } = await import('../../migration/plan-file.js');
  const { connectServices, closeServices } = await import('../../migration/connect.js');
  const { prepareVms } = await import('../../migration/prepare.js');
  const { silentLogger } = await import('../../engine/logger.js');
  const { vmwareWindowsToOpenstack } = await import('../../../workflows/vmware-windows-to-openstack.js');
  const globals = globalOptions(cmd);
  if (o.queue) {
    // Refused before anything is read: a queue needs the journal every worker shares.
    const { requirePostgresJournal } = await import('../../fleet/enqueue.js');
    requirePostgresJournal(globals.journal || process.env.V2O_JOURNAL || undefined);
  }
  const plan = loadPlanFile(file);
  const timeoutS = o.shutdownTimeout === undefined ? undefined : Number(o.shutdownTimeout);
  if (timeoutS !== undefined && !(timeoutS > 0))
    throw new ConfigError('--shutdown-timeout must be a number of seconds > 0');

  // Plan every VM first (read-only): a blocked plan starts no run at all.
  const services = await connectServices({
    source: plan.source,
    target: plan.target,
    env: process.env,
    log: silentLogger(),
    stateDir: stateDirOf(globals),
  });
  let vms: Awaited<ReturnType<typeof prepareVms>>;
  try {
    vms = await prepareVms(plan, services, {
      vm: o.vm,
      env: process.env,
      forcePoweroff: o.forcePoweroff,
      shutdownTimeoutMs: timeoutS === undefined ? undefined : timeoutS * 1000,
    });
  } finally {
    await closeServices(services);
  }
  const blocked = vms.filter((v) => !v.plan.ready);
  if (blocked.length) {
    const lines = blocked.flatMap((v) =>
      v.plan.blockers.map((b) => `  ${v.config.name}: ${b.message}\n    fix: ${b.fix}`),
    );
    throw new ConfigError(`the plan is blocked; nothing was started:\n${lines.join('\n')}`, {
      hint: `see \`v2o plan ${file}\``,
    });
  }

  if (o.queue) {
    const { queueRuns } = await import('../queue-runs.js');
    return queueRuns(
      vmwareWindowsToOpenstack,
      vms.map((v) => ({
        subject: v.config.name,
        params: v.params,
        plannedBytes: v.plan.disks.reduce((n, d) => n + d.sizeBytes, 0),
      })),
      globals,
      { wait: o.wait, json: o.json },
    );
  }
  if (o.wait) throw new ConfigError('--wait follows a queued wave: use it with --queue');
  const limit = Math.max(1, Math.min(plan.concurrency.vms, vms.length));
  if (limit === 1) {
    // One at a time: each run gets the full progress display.
    const { runWorkflow } = await import('../run-workflow.js');
    const codes: number[] = [];
    for (const v of vms) {
      const outcome = await runWorkflow({
        workflow: vmwareWindowsToOpenstack,
        params: v.params,
        subject: v.config.name,
        globals,
        json: o.json,
      });
      codes.push(outcome.exitCode);
      if (outcome.exitCode === ExitCode.interrupted) break; // Ctrl-C stops the whole plan
    }
    return worstExitCode(codes);
  }
  const { runParallel } = await import('../run-parallel.js');
  const outcomes = await runParallel(
    vms.map((v) => ({ workflow: vmwareWindowsToOpenstack, params: v.params, subject: v.config.name })),
    { globals, json: o.json, concurrency: limit },
  );
  return worstExitCode(outcomes.map((x) => x.exitCode));
}

export const migrateCommand: CommandModule = {
  register(program: Command) {
    addWorkflowOptions(
      program
        .command('migrate')
        .description('migrate the VMs of a plan, one journaled, resumable run per VM')
        .argument('[plan-file]', 'the migration plan (YAML; check it first with `v2o plan`)'),
    )
      .option('--vm <name>', 'only this VM of the plan')
      .option('--force-poweroff', 'power the VM off hard when the guest does not shut down in time')
      .option(
        '--shutdown-timeout <seconds>',
        `how long to wait for the guest to shut down (default ${DEFAULT_SHUTDOWN_TIMEOUT_S})`,
      )
      .option(
        '--queue',
        'journal the runs and put one job per VM on the fleet queue for `v2o worker` (journal on PostgreSQL)',
      )
      .option('--wait', 'with --queue: follow the wave until every run ended or waits for an operator')
      .option('--json', 'print the outcome as JSON on stdout (progress goes to stderr)')
      .addHelpText(
        'after',
        `\nExamples:\n  v2o migrate plan.yaml\n  v2o migrate plan.yaml --vm win2019-app01 --force-poweroff\n  V2O_JOURNAL=postgres://v2o@db/v2o v2o migrate wave1.yaml --queue --wait   # a fleet of workers runs it\n  v2o migrate --workflow example --set gate=true    # built-in demo workflow\n${exitCodesHelp([0, 1, 2, 3, 130])}`,
      )
      .action(async (file: string | undefined, o: MigrateOptions, cmd: Command) => {
        if (file) {
          process.exitCode = await migrateFromFile(file, o, cmd);
          return;
        }
        if (o.queue || o.wait) throw new ConfigError('--queue and --wait need a plan file');
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
