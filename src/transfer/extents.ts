// Byte ranges of a disk and the few operations the copies need on them. Pure.
// (E's copy to compile; helper C's version of this file wins at merge.)

/** A byte range of a disk: [start, start + length). */
export interface Extent {
  start: number;
  length: number;
}

/** Sorted, with overlapping and adjacent extents joined; empty ones dropped. */
export function mergeExtents(e: Extent[]): Extent[] {
  const sorted = e.filter((x) => x.length > 0).sort((a, b) => a.start - b.start);
  const out: Extent[] = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (last && x.start <= last.start + last.length) {
      last.length = Math.max(last.length, x.start + x.length - last.start);
    } else out.push({ start: x.start, length: x.length });
  }
  return out;
}

/** What of [0, capacity) the extents do not cover. */
export function complementExtents(e: Extent[], capacity: number): Extent[] {
  const out: Extent[] = [];
  let at = 0;
  for (const x of mergeExtents(e)) {
    if (x.start > at) out.push({ start: at, length: Math.min(x.start, capacity) - at });
    at = Math.max(at, x.start + x.length);
    if (at >= capacity) break;
  }
  if (at < capacity) out.push({ start: at, length: capacity - at });
  return out.filter((x) => x.length > 0);
}

export function extentBytes(e: Extent[]): number {
  return e.reduce((n, x) => n + x.length, 0);
}
