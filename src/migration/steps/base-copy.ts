// Warm only: the first full copy while Windows runs. A snapshot freezes the disks; the allocated
// areas (QueryChangedDiskAreas "*") are read from the frozen base extent and written at their
// offsets into the attached volumes (zeros for the rest on an encrypted volume); the snapshot is
// removed; each disk's changeId is taken from the snapshot's disk backing — the VM's live one has
// moved on with the guest's writes since — and journaled with the bytes copied.
import { formatBytes } from '../../format-bytes.js';
import { volumesOnThisHost } from '../copy/host.js';
import {
  type DiskBaseline,
  emitEstimate,
  newPass,
  type PassRecord,
  type PassState,
  removeLeftoverSnapshots,
  runPass,
} from '../copy/pass.js';
import { isWarm } from '../copy/routes.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';

export interface BaseCopyOutput {
  /** Per disk key: the changeId frozen by the base snapshot, the capacity then and the bytes copied. */
  disks: Record<number, DiskBaseline & { bytes: number }>;
  pass: PassRecord;
}

/** The copy steps' journaled progress: the pass in flight (copy/pass.ts). */
interface Saved {
  v: 1;
  pass: PassState;
}

export const COPY_RETRY = {
  attempts: 4,
  initialDelayMs: 5_000,
  backoff: 2,
  maxDelayMs: 60_000,
  nonRetryable: ['SnapshotError', 'VolumeLimitError', 'DeviceNotFoundError'],
};

export const baseCopy: MigrationStep<BaseCopyOutput> = {
  id: 'base-copy',
  title: 'Base copy while the VM runs',
  retry: COPY_RETRY,
  timeoutMs: 7 * 24 * 60 * 60_000,
  plan: ({ params }) => {
    if (params.plan.settings.migration !== 'warm')
      return { summary: 'cold migration: no base copy', skip: true };
    const disks = params.plan.disks.filter((d) => d.route === 'volume');
    return {
      summary: `snapshot, then the allocated areas of ${disks.length} disk(s) (${formatBytes(disks.reduce((n, d) => n + d.sizeBytes, 0))} provisioned) into their volumes, checkpointed per extent`,
      details: { disks: disks.map((d) => ({ disk: d.label, allocatedAreas: d.allocatedAreas })) },
    };
  },
  skipIf: (ctx) => !isWarm(ctx),
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const attached = await volumesOnThisHost(ctx);
    const last = ctx.lastCheckpoint as Saved | undefined;
    const saved: Saved = last?.v === 1 ? structuredClone(last) : { v: 1, pass: newPass(ctx, 0, 'base') };
    const { record, baseline } = await runPass(ctx, {
      state: saved.pass,
      save: () => ctx.checkpoint(saved),
      attached,
    });
    emitEstimate(ctx, record);
    crashPoint(ctx, 'after');
    const bytes = Object.fromEntries(record.disks.map((d) => [d.key, d.bytes]));
    return {
      disks: Object.fromEntries(
        Object.entries(baseline).map(([k, b]) => [k, { ...b, bytes: bytes[Number(k)] ?? 0 }]),
      ),
      pass: record,
    };
  },
  async compensate(ctx) {
    await removeLeftoverSnapshots(ctx);
  },
};
