// `v2o list`: the runs in the journal, newest first, with who drives each; `--wave <plan>` sums the
// newest run of each VM of a plan (done, running, waiting, failed, bytes, ETA).
import type { Command } from 'commander';
import type { Journal, RunRecord } from '../../engine/journal/types.js';
import type { CommandModule } from '../command.js';
import { globalOptions, withJournal } from '../context.js';
import { table } from '../format/table.js';
import { exitCodesHelp } from './help.js';
import { displayState, iso, stateText } from './show.js';

/** The lease holder of a run being driven: the worker's name, or pid@host for a CLI process. */
async function holders(j: Journal, runs: RunRecord[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const now = await j.now();
  for (const r of runs) {
    if (r.state !== 'running') continue;
    const l = await j.getLease(r.id);
    if (l && l.expiresAt > now) out.set(r.id, l.worker ?? `pid ${l.pid}@${l.host}`);
  }
  return out;
}

async function waveOf(j: Journal, planFile: string, vm?: string) {
  const [{ loadPlanFile }, { selectVms }, { waveSummary }] = await Promise.all([
    import('../../migration/plan-file.js'),
    import('../../migration/prepare.js'),
    import('../../fleet/wave.js'),
  ]);
  const names = selectVms(loadPlanFile(planFile), vm).map((v) => v.name);
  const all = await j.listRuns();
  // listRuns is newest first: the first run of each VM is the wave's.
  const runs = names.flatMap((n) => all.find((r) => r.subject === n) ?? []);
  const planned = runs.reduce((n, r) => {
    const disks = (r.params as { plan?: { disks?: { sizeBytes?: number }[] } }).plan?.disks ?? [];
    return n + disks.reduce((m, d) => m + (d.sizeBytes ?? 0), 0);
  }, 0);
  const summary = await waveSummary(
    j,
    runs.map((r) => r.id),
    { plannedBytes: planned },
  );
  return { runs, summary, missing: names.filter((n) => !runs.some((r) => r.subject === n)) };
}

export const listCommand: CommandModule = {
  register(program: Command) {
    program
      .command('list')
      .description('list runs, newest first (--wave: the runs of a plan, summed)')
      .option('--wave <plan-file>', "only the newest run of each of the plan's VMs, and their sums")
      .option('--vm <name>', 'with --wave: only this VM of the plan')
      .option('--json', 'print the runs as JSON')
      .addHelpText(
        'after',
        `\nExamples:\n  v2o list\n  v2o --journal postgres://v2o@db/v2o list --wave wave1.yaml\n${exitCodesHelp([0, 2])}`,
      )
      .action(async (o: { json?: boolean; wave?: string; vm?: string }, cmd: Command) => {
        const view = await withJournal(
          globalOptions(cmd),
          async (j) => {
            const wave = o.wave ? await waveOf(j, o.wave, o.vm) : undefined;
            const runs = wave ? wave.runs : await j.listRuns();
            return { runs, wave, held: await holders(j, runs) };
          },
          { create: false },
        );
        const { runs, wave, held } = view;
        if (o.json) {
          const out = runs.map(({ params: _p, ...r }) => ({
            ...r,
            displayState: displayState(r),
            ...(held.has(r.id) ? { heldBy: held.get(r.id) } : {}),
          }));
          const body = wave ? { runs: out, wave: wave.summary, notStarted: wave.missing } : out;
          process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
          return;
        }
        if (runs.length === 0 && !wave) {
          process.stdout.write('no runs yet (start one with `v2o migrate`)\n');
          return;
        }
        const rows = [['RUN', 'STATE', 'WORKER', 'WORKFLOW', 'SUBJECT', 'CREATED', 'UPDATED']];
        for (const r of runs) {
          rows.push([
            r.id,
            stateText(r),
            held.get(r.id) ?? '-',
            `${r.workflow} v${r.workflowVersion}`,
            r.subject,
            iso(r.createdAt),
            iso(r.updatedAt),
          ]);
        }
        process.stdout.write(`${table(rows)}\n`);
        if (wave) {
          const s = wave.summary;
          const { formatBytes } = await import('../../format-bytes.js');
          process.stdout.write(
            `\nwave: ${s.done} done, ${s.running} running, ${s.waiting} waiting, ${s.failed} failed, ${s.cancelled} cancelled; ${formatBytes(s.bytes)} moved${s.etaSeconds === undefined ? '' : `, ETA ${Math.round(s.etaSeconds / 60)} min`}${wave.missing.length ? `; not started: ${wave.missing.join(', ')}` : ''}\n`,
          );
        }
      });
  },
};
