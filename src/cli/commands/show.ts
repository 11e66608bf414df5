// Shared rendering of runs for status and list.
import { localIso } from '../../engine/clock.js';
import type { ErrorRecord, RunRecord } from '../../engine/journal/types.js';

/** The state a person should read: a failed run whose error is an interrupt was interrupted. */
export function displayState(r: Pick<RunRecord, 'state' | 'error'>): string {
  return r.state === 'failed' && r.error?.name === 'InterruptedError' ? 'interrupted' : r.state;
}

/**
 * displayState, and for a run waiting on a timer the time it wakes: `waiting (until 22:00)`
 * (a date in front when not today; `due since` once it has passed and no one resumed it).
 */
export function stateText(r: Pick<RunRecord, 'state' | 'error' | 'wakeAt'>, now = Date.now()): string {
  const s = displayState(r);
  if (r.state !== 'waiting' || r.wakeAt === undefined) return s;
  const at = localIso(r.wakeAt);
  const when =
    at.slice(0, 10) === localIso(now).slice(0, 10)
      ? at.slice(11, 16)
      : `${at.slice(0, 10)} ${at.slice(11, 16)}`;
  return `waiting (${r.wakeAt > now ? 'until' : 'due since'} ${when})`;
}

export const iso = (t: number | undefined): string => (t === undefined ? '-' : new Date(t).toISOString());

export function errorText(e: ErrorRecord | undefined): string {
  if (!e) return '';
  return `${e.name}: ${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
}
