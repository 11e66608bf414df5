// `v2o list`: the runs in the journal, newest first.
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { globalOptions, withJournal } from '../context.js';
import { table } from '../format/table.js';
import { exitCodesHelp } from './help.js';
import { displayState, iso, stateText } from './show.js';

export const listCommand: CommandModule = {
  register(program: Command) {
    program
      .command('list')
      .description('list runs, newest first')
      .option('--json', 'print the runs as JSON')
      .addHelpText('after', exitCodesHelp([0, 2]))
      .action(async (o: { json?: boolean }, cmd: Command) => {
        const runs = await withJournal(globalOptions(cmd), (j) => j.listRuns(), { create: false });
        if (o.json) {
          const out = runs.map(({ params: _p, ...r }) => ({ ...r, displayState: displayState(r) }));
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        if (runs.length === 0) {
          process.stdout.write('no runs yet (start one with `v2o migrate`)\n');
          return;
        }
        const rows = [['RUN', 'STATE', 'WORKFLOW', 'SUBJECT', 'CREATED', 'UPDATED']];
        for (const r of runs) {
          rows.push([
            r.id,
            stateText(r),
            `${r.workflow} v${r.workflowVersion}`,
            r.subject,
            iso(r.createdAt),
            iso(r.updatedAt),
          ]);
        }
        process.stdout.write(`${table(rows)}\n`);
      });
  },
};
