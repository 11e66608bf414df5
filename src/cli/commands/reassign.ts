// `v2o reassign <run> [--to WORKER]`: a warm run pinned to a lost worker goes to another (or to any):
// its affinity changes and it is queued again; its next copy step moves the volumes to the new host.
import os from 'node:os';
import type { Command } from 'commander';
import { localIso } from '../../engine/clock.js';
import { LeaseHeldError } from '../../engine/errors.js';
import { processIsAlive } from '../../engine/liveness.js';
import { ExitCode, V2oError } from '../../errors.js';
import type { CommandModule, GlobalOptions } from '../command.js';
import { globalOptions } from '../context.js';
import { exitCodesHelp } from './help.js';
import type { FleetRuntime } from './worker.js';

export function reassignCommand(
  runtime: (globals: GlobalOptions) => Promise<Pick<FleetRuntime, 'openJournal'>>,
): CommandModule {
  return {
    register(program: Command) {
      program
        .command('reassign')
        .description('move a run pinned to a lost worker to another worker (or to any)')
        .argument('<run>', 'run id')
        .option('--to <worker>', 'the worker that takes it over (default: any worker)')
        .addHelpText(
          'after',
          `
Refused while the run's lease is live (its worker is still alive: stop it first, or wait for the
lease to expire). Works from any host with the journal on PostgreSQL.

Examples:
  v2o reassign r-7k2m9q4x --to conv-02
  v2o reassign r-7k2m9q4x            # any worker
${exitCodesHelp([0, 2])}`,
        )
        .action(async (runId: string, o: { to?: string }, cmd: Command) => {
          const { requirePostgresJournal, enqueueRuns } = await import('../../fleet/enqueue.js');
          const spec = requirePostgresJournal(
            cmd.optsWithGlobals<{ journal?: string }>().journal ?? process.env.V2O_JOURNAL,
          );
          const journal = await (await runtime(globalOptions(cmd))).openJournal(spec);
          try {
            await journal.requireRun(runId);
            // Through the lease: refused (exit 2) while a live worker holds the run.
            const fence = await journal
              .acquireLease(runId, { pid: process.pid, host: os.hostname() }, 10_000, processIsAlive)
              .catch(async (err) => {
                if (!(err instanceof LeaseHeldError)) throw err;
                const lease = await journal.getLease(runId);
                throw new V2oError(
                  `run ${runId} is still held by ${err.worker ? `worker ${err.worker}` : `pid ${err.pid}`} on ${err.host}: its lease is live${lease ? ` until ${localIso(lease.expiresAt)}` : ''}`,
                  {
                    exitCode: ExitCode.badInput,
                    cause: err,
                    hint: `reassign moves a run off a lost worker: if ${err.worker ?? `pid ${err.pid}`} is alive, stop it (kill ${err.pid} on ${err.host}; SIGTERM hands the run back at a step boundary); if its host is lost, its lease expires without renewal, then: v2o reassign ${runId}${o.to ? ` --to ${o.to}` : ''}`,
                  },
                );
              });
            try {
              await journal.setAffinity(fence, o.to ?? null);
            } finally {
              await journal.releaseLease(fence);
            }
            await enqueueRuns(spec, [runId], o.to ? { worker: o.to } : {});
          } finally {
            await journal.close();
          }
          process.stdout.write(
            `run ${runId} reassigned to ${o.to ?? 'any worker'} and queued; follow it with: v2o status ${runId}\n`,
          );
        });
    },
  };
}
