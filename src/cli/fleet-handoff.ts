// A run that `migrate --queue` put on the fleet's queue is driven by the workers, never by the
// operator's shell: an approval or a cutover given on any host puts its job back on the queue
// (pinned to the worker whose conversion host holds its volumes), and the worker takes it within
// its polling interval.
import type { Journal } from '../engine/journal/types.js';

export const QUEUED_EVENT = 'run.queued';

/** True when the run belongs to the fleet; its job was then queued again. */
export async function handToFleet(j: Journal, runId: string, spec: string | undefined): Promise<boolean> {
  if (j.backend !== 'postgres' || !spec) return false;
  const queued = (await j.events(runId)).some((e) => e.type === QUEUED_EVENT);
  if (!queued) return false;
  const { enqueueRuns } = await import('../fleet/enqueue.js');
  const run = await j.requireRun(runId);
  await enqueueRuns(spec, [runId], run.affinity ? { worker: run.affinity } : {});
  return true;
}
