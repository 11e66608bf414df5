// One copy pass over the volume-route disks: the base copy (a snapshot, "*"), a precopy pass (a
// snapshot, the areas changed since the journaled changeId), the final pass (the VM off, no
// snapshot) or a cold copy (every byte of the flat extent). The pass's state is journaled by the
// calling step (snapshot ref right after it is made, then each disk's extent checkpoints), so a
// killed pass continues from its last checkpointed extent, reading from the same frozen snapshot.
// A snapshot of this run that the journal does not know (made just before a kill) is removed.
import pLimit from 'p-limit';
import { V2oError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import { copyExtents } from '../../transfer/copy-extents.js';
import { complementExtents, type Extent, extentBytes, mergeExtents } from '../../transfer/extents.js';
import { findAttachedDevice } from '../../transfer/find-device.js';
import { openDeviceWriter } from '../../transfer/sinks/device-writer.js';
import type { PlannedDisk } from '../plan/types.js';
import type { SnapshotRef } from '../services.js';
import { type Ctx, crashAtFraction, crashPoint, sourceMoref } from '../steps/common.js';
import { deviceOptions } from './conversion-host.js';
import { namedError, snapshotFailed } from './errors.js';
import { runSnapshotPrefix, snapshotName, volumeDisks } from './routes.js';

const GiB = 1024 ** 3;

export type PassKind = 'base' | 'precopy' | 'final' | 'cold';

/** What a disk's next pass starts from: the changeId frozen by the last pass, and the capacity then. */
export interface DiskBaseline {
  changeId?: string;
  capacityBytes: number;
}

/** A volume the conversion host holds (attach-volumes' output, per disk). */
export interface AttachedDisk {
  index: number;
  key: number;
  volumeId: string;
  device: string;
  encrypted: boolean;
  sizeGiB: number;
}

/** A pass's journaled progress (the calling step's checkpoint holds it). */
export interface PassState {
  pass: number;
  kind: PassKind;
  startedAt: number;
  /** Journaled right after CreateSnapshot_Task: a resumed pass reads the same frozen disks. */
  snapshot?: SnapshotRef;
  /** Per disk key: the changeId and capacity this pass copies up to (the snapshot's disk backing). */
  frozen?: Record<number, DiskBaseline>;
  /** Per disk key: copyExtents' checkpoint. */
  copy: Record<number, unknown>;
  /** Per disk key: finished, with the bytes its extents covered. */
  done: Record<number, PassDisk>;
  /** The snapshot was removed (the pass is over but its record not yet taken). */
  removed?: boolean;
}

/** The copy.pass event's disk entry (contract 1e). */
export interface PassDisk {
  key: number;
  label: string;
  bytes: number;
  /** Bytes the attempt that finished this disk read from vSphere (less than `bytes` after a resume). */
  bytesRead: number;
  changeId?: string;
  /** Why this disk was copied whole. */
  fullCopy?: string;
}

/** The copy.pass event (contract 1e), and what the next pass starts from. */
export interface PassRecord {
  pass: number;
  kind: PassKind;
  bytes: number;
  /** Read from vSphere by the attempts that finished the disks: what a resume cost. */
  bytesRead: number;
  seconds: number;
  disks: PassDisk[];
  startedAt: number;
  endedAt: number;
}

export function newPass(ctx: Ctx, pass: number, kind: PassKind): PassState {
  return { pass, kind, startedAt: ctx.clock.now(), copy: {}, done: {} };
}

interface Job {
  disk: PlannedDisk;
  attached: AttachedDisk;
  extents: Extent[];
  zeroFill?: Extent[];
  capacityBytes: number;
  changeId?: string;
  fullCopy?: string;
}

/**
 * Runs (or continues) one pass. `save` journals `state` (the caller's checkpoint holds it).
 * `baseline`: per disk key, where the last pass ended (precopy, final). Returns the pass's record;
 * the new baselines are its disks' changeIds and capacities.
 */
export async function runPass(
  ctx: Ctx,
  o: {
    state: PassState;
    save: () => void;
    attached: AttachedDisk[];
    baseline?: Record<number, DiskBaseline>;
  },
): Promise<{ record: PassRecord; baseline: Record<number, DiskBaseline> }> {
  const { state, save } = o;
  const disks = volumeDisks(ctx);
  await freeze(ctx, state, save);
  const jobs: Job[] = [];
  for (const disk of disks) {
    if (state.done[disk.key]) continue;
    const attached = o.attached.find((a) => a.key === disk.key);
    if (!attached) {
      throw new V2oError(`no attached volume for ${disk.label} in attach-volumes' output`, {
        hint: `cancel this run with \`v2o cancel ${ctx.runId} --rollback\` and migrate again`,
      });
    }
    jobs.push(await planJob(ctx, state, disk, attached, o.baseline?.[disk.key]));
  }
  const total = jobs.reduce((n, j) => n + extentBytes(j.extents) + extentBytes(j.zeroFill ?? []), 0);
  const progress = new Map<number, number>();
  const tally: Tally = {
    moved: false,
    total,
    report: (key, bytes) => {
      progress.set(key, bytes);
      const done = [...progress.values()].reduce((a, b) => a + b, 0);
      ctx.progress.update({ done, total, unit: 'bytes' });
      return done;
    },
  };
  const limit = pLimit(Math.max(1, ctx.params.options.disksInParallel));
  await Promise.all(jobs.map((j) => limit(() => copyJob(ctx, state, save, j, tally))));
  if (state.snapshot && !state.removed) {
    await ctx.services.source.removeSnapshot(state.snapshot.ref, { signal: ctx.signal });
    ctx.event('snapshot.removed', { ref: state.snapshot.ref });
    state.removed = true;
    save();
  }
  return finishPass(ctx, state, disks);
}

/** The disks this pass copies up to: a new snapshot's (journaled at once), or the live ones (VM off). */
async function freeze(ctx: Ctx, state: PassState, save: () => void): Promise<void> {
  const { source } = ctx.services;
  const vm = sourceMoref(ctx);
  const sig = { signal: ctx.signal };
  const present = await removeLeftoverSnapshots(ctx, state.snapshot?.ref);
  if (state.snapshot && !state.removed && !present) {
    // The journaled snapshot is gone (removed by hand): its frozen state cannot be read again, so
    // the pass starts over from a new one (disks done from the old one included).
    ctx.log.warn({ snapshot: state.snapshot.name }, 'the pass’s snapshot is gone; starting the pass again');
    Object.assign(state, { snapshot: undefined, frozen: undefined, copy: {}, done: {} });
    save();
  }
  if ((state.kind === 'base' || state.kind === 'precopy') && !state.snapshot) {
    const name = snapshotName(ctx.runId, state.kind === 'base' ? 'base' : `pass-${state.pass}`);
    const made = await source
      .createSnapshot(
        vm,
        { name, description: `v2o run ${ctx.runId}: ${state.kind} copy ${state.pass}` },
        sig,
      )
      .catch((err) => {
        throw snapshotFailed(err, ctx.params.vm, ctx.runId);
      });
    ctx.event('snapshot.created', { ref: made.snapshot.ref, name: made.snapshot.name });
    // Made, not yet journaled: a kill here leaves a snapshot the next attempt removes.
    crashPoint(ctx, 'after-snapshot');
    state.snapshot = made.snapshot;
    state.frozen = baselines(made.disks);
    save();
  }
  if (!state.frozen) {
    // No snapshot (final pass with the VM off, cold copy): the live backings are the disks.
    state.frozen = baselines((await source.changeTracking(vm, sig)).disks);
    save();
  }
}

function baselines(
  disks: { key: number; changeId?: string; capacityBytes: number }[],
): Record<number, DiskBaseline> {
  return Object.fromEntries(
    disks.map((d) => [d.key, { changeId: d.changeId, capacityBytes: d.capacityBytes }]),
  );
}

interface Tally {
  moved: boolean;
  total: number;
  report(key: number, bytes: number): number;
}

/** One disk's extents onto its device, through C's copyExtents, checkpointed into the pass state. */
async function copyJob(ctx: Ctx, state: PassState, save: () => void, j: Job, tally: Tally): Promise<void> {
  const flat = j.disk.layout?.flatExtent;
  if (!flat) {
    throw new V2oError(`${j.disk.label} has no flat extent to read at offsets`, {
      hint: 'use migration: cold for this VM',
    });
  }
  const device = await findAttachedDevice(j.attached.volumeId, deviceOptions(ctx));
  const writer = await openDeviceWriter(device);
  try {
    const r = await copyExtents({
      key: `${state.kind}-${state.pass}:${j.disk.key}`,
      reader: ctx.services.source.openDiskReader(flat, j.capacityBytes),
      writer,
      extents: j.extents,
      ...(j.zeroFill?.length ? { zeroFill: j.zeroFill } : {}),
      lastCheckpoint: state.copy[j.disk.key],
      checkpoint: (c) => {
        state.copy[j.disk.key] = c;
        save();
        const done = tally.report(j.disk.key, c.doneBytes);
        if (!tally.moved && c.doneBytes > 0) {
          tally.moved = true;
          crashPoint(ctx, 'mid');
        }
        crashAtFraction(ctx, done, tally.total);
      },
      onProgress: (done) => void tally.report(j.disk.key, done),
      stallTimeoutMs: ctx.params.plan.settings.transferStallSeconds * 1000,
      limits: ctx.params.options.transferLimits,
      ...(ctx.params.plan.source?.host ? { sourceKey: ctx.params.plan.source.host } : {}),
      signal: ctx.signal,
    });
    await writer.flush();
    state.done[j.disk.key] = {
      key: j.disk.key,
      label: j.disk.label,
      bytes: r.totalBytes,
      bytesRead: r.bytesRead,
      ...(j.changeId ? { changeId: j.changeId } : {}),
      ...(j.fullCopy ? { fullCopy: j.fullCopy } : {}),
    };
    delete state.copy[j.disk.key];
    save();
  } finally {
    await writer.close().catch(() => {});
  }
}

/** The pass's record and copy.pass event, and the baselines the next pass starts from. */
function finishPass(
  ctx: Ctx,
  state: PassState,
  disks: PlannedDisk[],
): { record: PassRecord; baseline: Record<number, DiskBaseline> } {
  const endedAt = ctx.clock.now();
  const record: PassRecord = {
    pass: state.pass,
    kind: state.kind,
    bytes: disks.reduce((n, d) => n + (state.done[d.key]?.bytes ?? 0), 0),
    bytesRead: disks.reduce((n, d) => n + (state.done[d.key]?.bytesRead ?? 0), 0),
    seconds: (endedAt - state.startedAt) / 1000,
    disks: disks.map((d) => state.done[d.key]!).filter(Boolean),
    startedAt: state.startedAt,
    endedAt,
  };
  ctx.event('copy.pass', {
    pass: record.kind === 'final' ? -1 : record.pass,
    kind: record.kind,
    bytes: record.bytes,
    bytesRead: record.bytesRead,
    seconds: record.seconds,
    disks: record.disks,
  });
  const baseline = Object.fromEntries(
    disks.map((d) => [
      d.key,
      {
        changeId: state.frozen?.[d.key]?.changeId,
        capacityBytes: state.frozen?.[d.key]?.capacityBytes ?? d.sizeBytes,
      },
    ]),
  );
  return { record, baseline };
}

/** The extents of one disk in this pass, and why it is copied whole when it is. */
async function planJob(
  ctx: Ctx,
  state: PassState,
  disk: PlannedDisk,
  attached: AttachedDisk,
  before: DiskBaseline | undefined,
): Promise<Job> {
  const { source, target } = ctx.services;
  const sig = { signal: ctx.signal };
  const frozen = state.frozen?.[disk.key];
  const capacityBytes = frozen?.capacityBytes ?? disk.sizeBytes;
  const whole: Extent[] = [{ start: 0, length: capacityBytes }];
  const job: Job = { disk, attached, extents: whole, capacityBytes, changeId: frozen?.changeId };
  const query = (changeId: string) =>
    source.changedAreas(
      sourceMoref(ctx),
      {
        ...(state.snapshot ? { snapshotRef: state.snapshot.ref } : {}),
        diskKey: disk.key,
        changeId,
        capacityBytes,
      },
      sig,
    );
  if (state.kind === 'cold') return job;
  if (state.kind === 'base') {
    const { areas } = await query('*');
    job.extents = clip(areas, capacityBytes);
    // Unwritten blocks of an encrypted volume read back as noise (Cinder: the LUKS layer decrypts
    // whatever is there): the unallocated areas get zeros.
    if (attached.encrypted) job.zeroFill = complementExtents(job.extents, capacityBytes);
    return job;
  }
  if (!before) {
    job.fullCopy = 'no changeId journaled for this disk';
    return job;
  }
  if (before.capacityBytes !== capacityBytes) {
    job.fullCopy = `capacity changed from ${formatBytes(before.capacityBytes)} to ${formatBytes(capacityBytes)}`;
    const gib = Math.ceil(capacityBytes / GiB);
    if (capacityBytes > before.capacityBytes) {
      const vol = await target.getVolume(attached.volumeId, sig);
      if (!vol || vol.sizeGiB < gib) {
        await target.extendVolume(attached.volumeId, gib, sig);
        ctx.event('volume.extended', { volumeId: attached.volumeId, sizeGiB: gib });
      }
    }
    return job;
  }
  if (!before.changeId) {
    job.fullCopy = 'no changeId journaled for this disk';
    return job;
  }
  try {
    job.extents = clip((await query(before.changeId)).areas, capacityBytes);
  } catch (err) {
    // vSphere refuses a changeId from before a CBT reset (Storage vMotion, a reset): copy it whole.
    if (!namedError(err, 'ChangeIdRejectedError')) throw err;
    job.fullCopy = `changeId ${before.changeId} rejected by vSphere (CBT was reset)`;
    ctx.log.warn({ disk: disk.label, changeId: before.changeId }, job.fullCopy);
  }
  return job;
}

function clip(areas: Extent[], capacity: number): Extent[] {
  return mergeExtents(
    areas
      .map((a) => ({ start: a.start, length: Math.min(a.start + a.length, capacity) - a.start }))
      .filter((a) => a.start < capacity && a.length > 0),
  );
}

/** Removes this run's snapshots except `keep` (the one the journal holds); true when `keep` exists. */
export async function removeLeftoverSnapshots(ctx: Ctx, keep?: string): Promise<boolean> {
  const { source } = ctx.services;
  const sig = { signal: ctx.signal };
  const prefix = runSnapshotPrefix(ctx.runId);
  let kept = false;
  for (const s of await source.listSnapshots(sourceMoref(ctx), sig)) {
    if (s.ref === keep) kept = true;
    if (!s.name.startsWith(prefix) || s.ref === keep) continue;
    ctx.log.warn({ snapshot: s.name }, 'removing a snapshot an earlier attempt of this run left');
    await source.removeSnapshot(s.ref, sig);
    ctx.event('snapshot.removed', { ref: s.ref });
  }
  return kept;
}

/** copy.estimate after a pass: the next cutover copies about what the last pass did. */
export function emitEstimate(ctx: Ctx, last: PassRecord, nextPassAt?: number): void {
  ctx.event('copy.estimate', {
    cutoverCopySeconds: last.seconds,
    basis: `last pass: ${formatBytes(last.bytes)} in ${last.seconds.toFixed(1)} s`,
    ...(nextPassAt === undefined ? {} : { nextPassAt }),
  });
}
