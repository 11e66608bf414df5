// `v2o list --wave <plan>`: one line for a wave of runs, summed from the journal.
import type { Journal, RunRecord } from '../engine/journal/types.js';

export interface WaveSummary {
  done: number;
  running: number;
  /** Waiting at a gate or on a timer, and runs queued but not yet taken (pending). */
  waiting: number;
  failed: number;
  cancelled: number;
  /** Bytes moved so far: the sum of `bytes` of the runs' events (image.uploaded, …). */
  bytes: number;
  /**
   * Seconds left at the wave's rate so far; undefined without a planned total, before any progress,
   * and once no run is running or waiting.
   */
  etaSeconds?: number;
}

/** Pure: the sums for runs, bytes moved per run, the wave's planned bytes, and the database's time. */
export function summarizeWave(
  runs: Pick<RunRecord, 'state' | 'createdAt'>[],
  bytesByRun: number[],
  o: { now: number; plannedBytes?: number },
): WaveSummary {
  const s: WaveSummary = { done: 0, running: 0, waiting: 0, failed: 0, cancelled: 0, bytes: 0 };
  for (const r of runs) {
    if (r.state === 'succeeded') s.done++;
    else if (r.state === 'running') s.running++;
    else if (r.state === 'waiting' || r.state === 'pending') s.waiting++;
    else if (r.state === 'failed') s.failed++;
    else s.cancelled++;
  }
  s.bytes = bytesByRun.reduce((a, b) => a + b, 0);
  const start = Math.min(...runs.map((r) => r.createdAt));
  const elapsed = (o.now - start) / 1000;
  // Nothing running or waiting: nothing more will move (a failed run's bytes never come).
  if (o.plannedBytes !== undefined && s.bytes > 0 && elapsed > 0 && s.running + s.waiting > 0) {
    const left = Math.max(0, o.plannedBytes - s.bytes);
    s.etaSeconds = Math.round(left / (s.bytes / elapsed));
  }
  return s;
}

/** Sum of numeric `bytes` in a run's events. */
export function bytesOfEvents(events: { data?: Record<string, unknown> }[]): number {
  let n = 0;
  for (const e of events) if (typeof e.data?.bytes === 'number') n += e.data.bytes;
  return n;
}

export async function waveSummary(
  journal: Journal,
  runIds: readonly string[],
  o: { plannedBytes?: number } = {},
): Promise<WaveSummary> {
  const runs: RunRecord[] = [];
  const bytes: number[] = [];
  for (const id of runIds) {
    const r = await journal.getRun(id);
    if (!r) continue;
    runs.push(r);
    bytes.push(bytesOfEvents(await journal.events(id)));
  }
  return summarizeWave(runs, bytes, { now: await journal.now(), plannedBytes: o.plannedBytes });
}
