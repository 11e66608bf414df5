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
  const [{ openRunQueue }, { pgTarget }, { silentLogger }] = await Promise.all([
    import('../fleet/queue.js'),
    import('../engine/journal/pg-url.js'),
    import('../engine/logger.js'),
  ]);
  const run = await j.requireRun(runId);
  const queue = await openRunQueue(spec, { log: silentLogger(), connection: pgTarget(spec).config });
  try {
    await queue.enqueue(runId, run.affinity ? { worker: run.affinity } : {});
  } finally {
    await queue.stop({ wait: false });
  }
  return true;
}
