// `v2o migrate plan.yaml --queue [--wait]`: the runs are journaled (PostgreSQL) and one job per VM
// goes on the fleet's queue; `v2o worker` processes on the conversion hosts drive them. --wait
// follows the wave until every run has ended or waits for an operator.

import type { RunRecord } from '../engine/journal/types.js';
import type { AnyWorkflow } from '../engine/registry.js';
import { ExitCode } from '../errors.js';
import type { GlobalOptions } from './command.js';
import { openJournal } from './context.js';
import { QUEUED_EVENT } from './fleet-handoff.js';

export interface QueuedVm {
  subject: string;
  params: unknown;
  /** What the wave's ETA is measured against. */
  plannedBytes: number;
}

/** A run that needs nobody's action to go on: the wave is still moving. */
const moving = (r: RunRecord) =>
  r.state === 'pending' || r.state === 'running' || (r.state === 'waiting' && r.wakeAt !== undefined);

export async function queueRuns(
  workflow: AnyWorkflow,
  vms: QueuedVm[],
  globals: GlobalOptions,
  o: { wait?: boolean; json?: boolean; pollMs?: number },
): Promise<number> {
  const [{ requirePostgresJournal, enqueueRuns }, { waveSummary }] = await Promise.all([
    import('../fleet/enqueue.js'),
    import('../fleet/wave.js'),
  ]);
  const spec = requirePostgresJournal(globals.journal || process.env.V2O_JOURNAL || undefined);
  const journal = await openJournal(globals, { create: true });
  try {
    const ids: string[] = [];
    for (const v of vms) {
      const run = await journal.createRun({
        workflow: workflow.name,
        workflowVersion: workflow.version,
        subject: v.subject,
        params: v.params,
        stepIds: workflow.steps.map((s) => s.id),
        at: Date.now(),
      });
      ids.push(run.id);
      await journal.appendEvent(run.id, Date.now(), QUEUED_EVENT, undefined, { by: 'migrate --queue' });
    }
    await enqueueRuns(spec, ids);
    const out = o.json ? process.stderr : process.stdout;
    out.write(
      `queued ${ids.length} run(s): ${ids.map((id, i) => `run ${id} (${vms[i]!.subject})`).join(', ')}\n` +
        '  `v2o worker` on each conversion host takes them; follow with `v2o list --wave <plan>`\n',
    );
    if (!o.wait) {
      if (o.json) process.stdout.write(`${JSON.stringify({ queued: ids })}\n`);
      return ExitCode.ok;
    }
    const plannedBytes = vms.reduce((n, v) => n + v.plannedBytes, 0);
    for (;;) {
      const runs = (await Promise.all(ids.map((id) => journal.getRun(id)))).filter((r) => r !== undefined);
      const s = await waveSummary(journal, ids, { plannedBytes });
      out.write(
        `wave: ${s.done} done, ${s.running} running, ${s.waiting} waiting, ${s.failed} failed, ${s.cancelled} cancelled${s.etaSeconds === undefined ? '' : `, ETA ${Math.round(s.etaSeconds)} s`}\n`,
      );
      if (!runs.some(moving)) {
        if (o.json) process.stdout.write(`${JSON.stringify({ queued: ids, wave: s })}\n`);
        if (s.failed || s.cancelled) return ExitCode.failed;
        return s.waiting ? ExitCode.waiting : ExitCode.ok;
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 5000));
    }
  } finally {
    await journal.close();
  }
}
