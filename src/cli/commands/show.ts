// Shared rendering of runs for status and list.
import type { ErrorRecord, RunRecord } from '../../engine/journal.js';

/** The state a person should read: a failed run whose error is an interrupt was interrupted. */
export function displayState(r: Pick<RunRecord, 'state' | 'error'>): string {
  return r.state === 'failed' && r.error?.name === 'InterruptedError' ? 'interrupted' : r.state;
}

export const iso = (t: number | undefined): string => (t === undefined ? '-' : new Date(t).toISOString());

export function errorText(e: ErrorRecord | undefined): string {
  if (!e) return '';
  return `${e.name}: ${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
}
