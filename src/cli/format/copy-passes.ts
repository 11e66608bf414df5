// The "Copy passes" view of `v2o status`: the `copy.pass` and `copy.estimate` events a migration
// writes (their shapes are the migration's; the engine knows nothing of CBT), read defensively,
// since an event log outlives the code that wrote it.

import { localIso } from '../../engine/clock.js';
import type { EventRecord } from '../../engine/journal/types.js';
import { formatBytes } from '../../format-bytes.js';
import { table } from './table.js';

export interface CopyPassDisk {
  key: number;
  label: string;
  bytes: number;
  changeId?: string;
  /** Why this disk was copied whole (CBT reset, a grown disk, ...). */
  fullCopy?: string;
}

export interface CopyPass {
  /** 0 = base, n = precopy n, -1 = final. */
  pass: number;
  kind: string;
  at: number;
  bytes: number;
  seconds: number;
  /** Bytes per second; undefined for a pass of 0 s. */
  rate?: number;
  disks: CopyPassDisk[];
}

export interface CopyEstimate {
  at: number;
  cutoverCopySeconds: number;
  basis: string;
  nextPassAt?: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function toDisk(d: unknown): CopyPassDisk | undefined {
  if (typeof d !== 'object' || d === null) return undefined;
  const o = d as Record<string, unknown>;
  const key = num(o.key);
  if (key === undefined) return undefined;
  return {
    key,
    label: str(o.label) ?? `disk ${key}`,
    bytes: num(o.bytes) ?? 0,
    ...(str(o.changeId) === undefined ? {} : { changeId: str(o.changeId) }),
    ...(str(o.fullCopy) === undefined ? {} : { fullCopy: str(o.fullCopy) }),
  };
}

/** The passes in the order they were made, and the newest estimate. */
export function copyPasses(events: EventRecord[]): { passes: CopyPass[]; estimate?: CopyEstimate } {
  const passes: CopyPass[] = [];
  let estimate: CopyEstimate | undefined;
  let precopies = 0;
  for (const e of events) {
    const d = e.data ?? {};
    if (e.type === 'copy.pass') {
      const kind = str(d.kind);
      if (kind === undefined) continue;
      if (kind === 'precopy') precopies++;
      // The number as written, else from the kind and the order (a journal whose redaction took
      // the `pass` key for a password keeps "[redacted]" there).
      const pass = num(d.pass) ?? (kind === 'precopy' ? precopies : kind === 'final' ? -1 : 0);
      const bytes = num(d.bytes) ?? 0;
      const seconds = num(d.seconds) ?? 0;
      passes.push({
        pass,
        kind,
        at: e.at,
        bytes,
        seconds,
        ...(seconds > 0 ? { rate: bytes / seconds } : {}),
        disks: (Array.isArray(d.disks) ? d.disks : []).map(toDisk).filter((x): x is CopyPassDisk => !!x),
      });
    } else if (e.type === 'copy.estimate') {
      const s = num(d.cutoverCopySeconds);
      if (s === undefined) continue;
      const next = num(d.nextPassAt);
      estimate = {
        at: e.at,
        cutoverCopySeconds: s,
        basis: str(d.basis) ?? '',
        ...(next === undefined ? {} : { nextPassAt: next }),
      };
    }
  }
  return { passes, estimate };
}

const passLabel = (p: CopyPass) => (p.pass === 0 ? 'base' : p.pass === -1 ? 'final' : String(p.pass));

/** The lines status prints: a table (a row per pass, a row per disk under it) and the estimate. */
export function renderCopyPasses(v: { passes: CopyPass[]; estimate?: CopyEstimate }): string[] {
  if (v.passes.length === 0 && !v.estimate) return [];
  const out = ['Copy passes:'];
  const rows = [['PASS', 'KIND', 'DISK', 'BYTES', 'SECONDS', 'RATE', 'CHANGEID', 'FULL COPY']];
  for (const p of v.passes) {
    rows.push([
      passLabel(p),
      p.kind,
      `${p.disks.length} disk${p.disks.length === 1 ? '' : 's'}`,
      formatBytes(p.bytes),
      p.seconds.toFixed(1),
      p.rate === undefined ? '-' : `${formatBytes(p.rate)}/s`,
      '',
      '',
    ]);
    for (const d of p.disks) {
      rows.push(['', '', `  ${d.label}`, formatBytes(d.bytes), '', '', d.changeId ?? '-', d.fullCopy ?? '']);
    }
  }
  if (v.passes.length) out.push(table(rows));
  if (v.estimate) {
    const e = v.estimate;
    out.push(
      `estimated cutover copy: ${e.cutoverCopySeconds.toFixed(1)} s${e.basis ? ` (${e.basis})` : ''}${e.nextPassAt === undefined ? '' : `; next pass at ${localIso(e.nextPassAt)}`}`,
    );
  }
  return out;
}
