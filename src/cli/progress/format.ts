// Progress text: sizes, percent, rate and ETA from a step's progress updates.
import type { ProgressUpdate } from '../../engine/types.js';
import { formatBytes } from '../../format-bytes.js';

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Tracks one step's updates to compute a rate (since the first update) and an ETA. */
export class ProgressMeter {
  private first?: { at: number; done: number };

  constructor(private readonly now: () => number = Date.now) {}

  format(u: ProgressUpdate): string {
    const parts: string[] = [];
    if (u.done !== undefined) {
      const at = this.now();
      this.first ??= { at, done: u.done };
      const bytes = u.unit === 'bytes';
      const fmt = (n: number) => (bytes ? formatBytes(n) : String(n));
      parts.push(u.total ? `${fmt(u.done)} / ${fmt(u.total)}` : fmt(u.done));
      if (u.total) parts.push(`${Math.floor((100 * u.done) / u.total)}%`);
      const secs = (at - this.first.at) / 1000;
      const rate = secs > 0 ? (u.done - this.first.done) / secs : 0;
      if (rate > 0) {
        parts.push(bytes ? `${formatBytes(rate)}/s` : `${rate.toFixed(1)}/s`);
        if (u.total) parts.push(`ETA ${formatDuration(((u.total - u.done) / rate) * 1000)}`);
      }
    }
    if (u.message) parts.push(u.message);
    return parts.join('  ');
  }
}
