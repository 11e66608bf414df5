// Byte ranges of a disk and the small algebra the copies need: CBT answers come as areas that may
// touch or overlap, copies want them sorted and joined, reads want them on block boundaries, and an
// encrypted target wants the complement (what is not copied gets zeros).

/** A byte range of a disk: [start, start + length). */
export interface Extent {
  start: number;
  length: number;
}

/** Sorted by start, empty ones dropped, overlapping and adjacent ones joined. */
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

/** Each extent widened outward to `block` boundaries and clipped to [0, capacity), then merged. */
export function alignExtents(e: Extent[], block: number, capacity: number): Extent[] {
  if (!(block >= 1)) throw new RangeError(`block must be >= 1, got ${block}`);
  return mergeExtents(
    e.map((x) => {
      const start = Math.max(0, Math.floor(x.start / block) * block);
      const end = Math.min(capacity, Math.ceil((x.start + x.length) / block) * block);
      return { start, length: Math.max(0, end - start) };
    }),
  );
}

/** What of [0, capacity) the extents do not cover. */
export function complementExtents(e: Extent[], capacity: number): Extent[] {
  const out: Extent[] = [];
  let at = 0;
  for (const x of mergeExtents(e)) {
    if (x.start >= capacity) break;
    if (x.start > at) out.push({ start: at, length: x.start - at });
    at = Math.max(at, x.start + x.length);
  }
  if (at < capacity) out.push({ start: at, length: capacity - at });
  return out;
}

export function extentBytes(e: Extent[]): number {
  let n = 0;
  for (const x of e) n += x.length;
  return n;
}
