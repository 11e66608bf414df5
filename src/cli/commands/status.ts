// `v2o status [run]`: one run's state, its steps, who holds it and what to do next.
import os from 'node:os';
import type { Command } from 'commander';
import { localIso } from '../../engine/clock.js';
import { processIsAlive } from '../../engine/liveness.js';
import { ConfigError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { globalOptions, withJournal } from '../context.js';
import { copyPasses, renderCopyPasses } from '../format/copy-passes.js';
import { table } from '../format/table.js';
import { exitCodesHelp } from './help.js';
import { displayState, errorText, iso, stateText } from './show.js';

export const statusCommand: CommandModule = {
  register(program: Command) {
    program
      .command('status')
      .description('show a run (default: the newest) with its steps')
      .argument('[run]', 'run id')
      .option('--json', 'print run, steps, lease, recent events and copy passes as JSON')
      .addHelpText('after', exitCodesHelp([0, 2]))
      .action(async (runId: string | undefined, o: { json?: boolean }, cmd: Command) => {
        const view = await withJournal(
          globalOptions(cmd),
          async (j) => {
            const id = runId ?? (await j.listRuns(1))[0]?.id;
            if (!id) throw new ConfigError('there are no runs yet', { hint: 'start one with `v2o migrate`' });
            const run = await j.requireRun(id);
            const all = await j.events(id);
            const copy = copyPasses(all);
            return {
              run,
              steps: await j.getSteps(id),
              lease: await j.getLease(id),
              events: all.slice(-20),
              copyPasses: copy.passes,
              ...(copy.estimate ? { copyEstimate: copy.estimate } : {}),
            };
          },
          { create: false },
        );
        const { run, steps, lease, events, copyPasses: passes, copyEstimate } = view;
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...view, displayState: displayState(run) }, null, 2)}\n`);
          return;
        }
        const fields = [
          ['run', run.id],
          ['workflow', `${run.workflow} v${run.workflowVersion}`],
          ['subject', run.subject],
          ['state', stateText(run)],
          ['created', iso(run.createdAt)],
          ['updated', iso(run.updatedAt)],
        ];
        if (lease) {
          const gone = lease.host === os.hostname() && !processIsAlive(lease.pid);
          fields.push([
            'held by',
            `${lease.worker ? `worker ${lease.worker}, ` : ''}pid ${lease.pid} on ${lease.host} since ${iso(lease.acquiredAt)}${gone ? ' (that process is gone; resume takes over)' : ` (expires ${iso(lease.expiresAt)})`}`,
          ]);
        }
        if (run.state === 'waiting' && run.wakeAt !== undefined) fields.push(['wakes', localIso(run.wakeAt)]);
        if (run.error) fields.push(['error', errorText(run.error)]);
        const out: string[] = [table(fields)];
        // The evidence behind the error (a boot that never reported: the end of its console log).
        const detail = run.error?.detail ?? steps.find((s) => s.error?.detail)?.error?.detail;
        if (detail) out.push('', ...detail.split('\n').map((l) => `  ${l}`));
        const rows = [['STEP', 'STATE', 'ATTEMPTS', 'STARTED', 'FINISHED', 'NOTE']];
        for (const s of steps) {
          const note =
            s.state === 'waiting' && s.wakeAt !== undefined
              ? `until ${localIso(s.wakeAt)}: ${s.gateMessage}`
              : s.state === 'waiting'
                ? `gate: ${s.gateMessage}`
                : s.approvedAt
                  ? `approved by ${s.approvedBy}`
                  : errorText(s.error);
          rows.push([s.stepId, s.state, String(s.attempts), iso(s.startedAt), iso(s.finishedAt), note]);
        }
        out.push('', table(rows));
        const copy = renderCopyPasses({ passes, estimate: copyEstimate });
        if (copy.length) out.push('', ...copy);
        out.push('', 'recent events:');
        for (const e of events) {
          out.push(
            `  ${iso(e.at)}  ${e.type}${e.stepId ? ` ${e.stepId}` : ''}${e.data ? ` ${JSON.stringify(e.data)}` : ''}`,
          );
        }
        const next = nextCommand(
          run.id,
          displayState(run),
          steps.find((s) => s.state === 'waiting' && s.wakeAt === undefined)?.stepId,
          run.state === 'waiting' && run.wakeAt !== undefined,
        );
        if (next) out.push('', `next: ${next}`);
        process.stdout.write(`${out.join('\n')}\n`);
      });
  },
};

function nextCommand(
  id: string,
  state: string,
  gate: string | undefined,
  timer: boolean,
): string | undefined {
  if (gate === 'cutover') return `v2o cutover ${id} [--at TIME]`;
  if (gate) return `v2o approve ${id} && v2o resume ${id}`;
  if (timer) return `v2o resume ${id} --wait`;
  if (state === 'failed' || state === 'interrupted' || state === 'pending' || state === 'waiting')
    return `v2o resume ${id}`;
  return undefined;
}
