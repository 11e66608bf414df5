// Pre-flight for the volume route: each flat extent must answer Range reads at arbitrary offsets
// (the copy reads only the changed areas, anywhere on the disk). A datastore or proxy that ignores
// Range (a 200 with the whole file) or cuts reads short is found here, before anything changes.
import { randomInt } from 'node:crypto';
import type { PlannedDisk } from '../plan/types.js';
import type { SourceOps } from '../services.js';

const PROBE_BYTES = 4096;

/** One problem line per disk whose flat extent cannot be read at a random offset. */
export async function probeRandomReads(
  source: Pick<SourceOps, 'openDiskReader'>,
  disks: PlannedDisk[],
  signal: AbortSignal,
): Promise<string[]> {
  const problems: string[] = [];
  for (const d of disks) {
    const flat = d.layout?.flatExtent;
    if (!flat || d.sizeBytes < PROBE_BYTES) continue;
    const offset = randomInt(0, Math.floor(d.sizeBytes / PROBE_BYTES)) * PROBE_BYTES;
    try {
      const stream = await source.openDiskReader(flat, d.sizeBytes).readRange(offset, PROBE_BYTES, signal);
      let n = 0;
      for await (const chunk of stream) n += (chunk as Buffer).length;
      if (n !== PROBE_BYTES) throw new Error(`${n} bytes came back for ${PROBE_BYTES}`);
    } catch (err) {
      problems.push(
        `${d.label}'s flat extent ${flat} cannot be read at offset ${offset}: ${(err as Error).message} (fix: check that the datastore's /folder endpoint answers Range requests, or use migration: cold)`,
      );
    }
  }
  return problems;
}
