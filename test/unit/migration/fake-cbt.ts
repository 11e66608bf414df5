// A fake vSphere VM's disks with Changed Block Tracking as vSphere documents it, and a fake
// conversion host's block devices, to drive the warm steps without labs:
// - CBT: a changeId "<epoch>/<seq>" per disk backing; QueryChangedDiskAreas(changeId) returns the
//   64 KiB blocks written after that seq up to the snapshot's (or the live state with the VM off);
//   "*" returns the allocated (ever written) blocks; a changeId of an older epoch (CBT reset, as
//   after Storage vMotion) is refused with a FileFault, which the client turns into
//   ChangeIdRejectedError (vSphere API reference, QueryChangedDiskAreas).
// - Snapshots freeze the base disk: reads of the flat extent see the content at snapshot time
//   while the guest keeps writing (vSphere: the writes go to the delta until consolidation).
import { Readable } from 'node:stream';
import { V2oError } from '../../../src/errors.js';
import type {
  ChangeTrackingState,
  SnapshotRef,
  SourceOps,
  TrackedDisk,
} from '../../../src/migration/services.js';
import type { ExtentCopy, ExtentCopyResult } from '../../../src/transfer/copy-extents.js';
import type { Extent } from '../../../src/transfer/extents.js';
import { mergeExtents } from '../../../src/transfer/extents.js';

const BLOCK = 64 * 1024;

export class ChangeIdRejected extends V2oError {
  constructor(msg: string) {
    super(msg);
    this.name = 'ChangeIdRejectedError';
  }
}

interface Disk {
  key: number;
  fileName: string;
  data: Buffer;
  /** Per 64 KiB block: the seq of its last write (0 = never written). */
  written: number[];
}

export class FakeCbtVm {
  enabled = false;
  /** Tracking starts only after a stun (snapshot create+remove or power cycle), as on ESXi. */
  active = false;
  hardwareVersion = 19;
  consolidationNeeded = false;
  powerState = 'poweredOn';
  epoch = 1;
  seq = 1;
  disks: Disk[];
  snapshots: (SnapshotRef & { frozen: Map<number, Buffer>; seq: number; caps: Map<number, number> })[] = [];
  calls: string[] = [];
  snapshotFault?: string;
  private nextRef = 1;

  constructor(disks: { key: number; fileName: string; sizeBytes: number }[]) {
    this.disks = disks.map((d) => ({
      key: d.key,
      fileName: d.fileName,
      data: Buffer.alloc(d.sizeBytes),
      written: new Array(Math.ceil(d.sizeBytes / BLOCK)).fill(0),
    }));
  }

  /** The guest writes `length` bytes of `fill` at `offset` (refused when off, as the lab does). */
  write(key: number, offset: number, length: number, fill: number): void {
    if (this.powerState !== 'poweredOn') throw new Error('the VM is off');
    const d = this.disk(key);
    this.seq++;
    d.data.fill(fill, offset, offset + length);
    for (let b = Math.floor(offset / BLOCK); b * BLOCK < offset + length; b++) d.written[b] = this.seq;
  }

  grow(key: number, sizeBytes: number): void {
    const d = this.disk(key);
    const data = Buffer.alloc(sizeBytes);
    d.data.copy(data);
    d.data = data;
    while (d.written.length < Math.ceil(sizeBytes / BLOCK)) d.written.push(0);
  }

  /** As after Storage vMotion: every changeId handed out so far is refused from now on. */
  resetCbt(): void {
    this.epoch++;
  }

  private disk(key: number): Disk {
    return this.disks.find((d) => d.key === key)!;
  }

  private changeId(seq: number): string | undefined {
    return this.enabled && this.active
      ? `52 0a 1b 2c 3d 4e 5f 60-71 82 93 a4 b5 c6 d7 e8/${this.epoch}.${seq}`
      : undefined;
  }

  private tracked(caps?: Map<number, number>, seq = this.seq): TrackedDisk[] {
    return this.disks.map((d) => ({
      key: d.key,
      capacityBytes: caps?.get(d.key) ?? d.data.length,
      fileName: d.fileName,
      ...(this.changeId(seq) ? { changeId: this.changeId(seq)! } : {}),
    }));
  }

  /** What the datastore serves for the flat extent: the frozen base while a snapshot exists. */
  content(key: number): Buffer {
    return this.snapshots[0]?.frozen.get(key) ?? this.disk(key).data;
  }

  ops(): Partial<SourceOps> {
    return {
      changeTracking: async (): Promise<ChangeTrackingState> => ({
        enabled: this.enabled,
        hardwareVersion: this.hardwareVersion,
        consolidationNeeded: this.consolidationNeeded,
        powerState: this.powerState,
        disks: this.tracked(),
      }),
      setChangeTracking: async (_vm, enabled) => {
        this.calls.push(`setChangeTracking ${enabled}`);
        this.enabled = enabled;
        if (!enabled) this.active = false;
      },
      createSnapshot: async (_vm, spec) => {
        if (this.snapshotFault) {
          const { VSphereFault } = await import('../../../src/vsphere/errors.js');
          throw new VSphereFault(this.snapshotFault, 'datastore full', { method: 'CreateSnapshot_Task' });
        }
        const ref = `snapshot-${this.nextRef++}`;
        this.calls.push(`createSnapshot ${spec.name}`);
        const frozen = new Map(this.disks.map((d) => [d.key, Buffer.from(d.data)]));
        const caps = new Map(this.disks.map((d) => [d.key, d.data.length]));
        const snap = { ref, name: spec.name, frozen, seq: this.seq, caps };
        this.snapshots.push(snap);
        return { snapshot: { ref, name: spec.name }, disks: this.tracked(caps, snap.seq) };
      },
      removeSnapshot: async (ref) => {
        this.calls.push(`removeSnapshot ${ref}`);
        this.snapshots = this.snapshots.filter((s) => s.ref !== ref);
        // Creating and removing a snapshot is a stun: tracking starts (VMware KB 1031873).
        if (this.enabled) this.active = true;
      },
      listSnapshots: async () => this.snapshots.map(({ ref, name }) => ({ ref, name })),
      changedAreas: async (_vm, q) => {
        const d = this.disk(q.diskKey);
        const snap = q.snapshotRef ? this.snapshots.find((s) => s.ref === q.snapshotRef) : undefined;
        if (q.snapshotRef && !snap) throw new Error(`no snapshot ${q.snapshotRef}`);
        if (!snap && this.powerState === 'poweredOn') throw new Error('FileFault: the VM is powered on');
        const upTo = snap?.seq ?? this.seq;
        let since = -1;
        if (q.changeId !== '*') {
          const m = q.changeId.match(/\/(\d+)\.(\d+)$/);
          if (!m || Number(m[1]) !== this.epoch)
            throw new ChangeIdRejected(`changeId ${q.changeId} rejected`);
          since = Number(m[2]);
        }
        const areas: Extent[] = [];
        d.written.forEach((s, b) => {
          const hit = q.changeId === '*' ? s > 0 && s <= upTo : s > since && s <= upTo;
          if (hit) areas.push({ start: b * BLOCK, length: BLOCK });
        });
        this.calls.push(`changedAreas ${q.diskKey} ${q.changeId === '*' ? '*' : since}`);
        return { areas: mergeExtents(areas), pages: 1 };
      },
      diskLayout: async (fileName) => ({
        createType: 'monolithicFlat',
        flatExtent: fileName.replace(/\.vmdk$/, '-flat.vmdk'),
      }),
      openDiskReader: (flatExtent, size) => {
        const d = this.disks.find((x) => flatExtent === x.fileName.replace(/\.vmdk$/, '-flat.vmdk'))!;
        return {
          size,
          description: flatExtent,
          readRange: async (offset, length) =>
            Readable.from([this.content(d.key).subarray(offset, offset + length)]),
        };
      },
    };
  }
}

/** The conversion host's block devices: one Buffer per attached volume. */
export const devices = new Map<string, Buffer>();
/** copyExtents calls, for the tests to look at. */
export const copies: { key: string; extents: Extent[]; zeroFill?: Extent[]; resumedAt: number }[] = [];
/** Set to kill a copy after this many bytes (a thrown error stands in for the kill). */
export const killAfter: { bytes?: number } = {};

export async function findAttachedDevice(volumeId: string): Promise<string> {
  const path = `/dev/disk/by-id/virtio-${volumeId.slice(0, 20)}`;
  if (!devices.has(path)) devices.set(path, Buffer.alloc(0));
  return path;
}

export async function openDeviceWriter(path: string) {
  return {
    path,
    size: devices.get(path)?.length ?? 0,
    write: async (buf: Buffer, position: number) => {
      let dev = devices.get(path) ?? Buffer.alloc(0);
      if (dev.length < position + buf.length) {
        const grown = Buffer.alloc(position + buf.length);
        dev.copy(grown);
        dev = grown;
      }
      buf.copy(dev, position);
      devices.set(path, dev);
    },
    flush: async () => {},
    close: async () => {},
  };
}

const CHUNK = 256 * 1024;

/** Extents cut at 256 KiB, so a copy has checkpoints inside one extent (C's splits at 256 MiB). */
function chunks(e: Extent[]): Extent[] {
  return e.flatMap((x) => {
    const out: Extent[] = [];
    for (let at = 0; at < x.length; at += CHUNK)
      out.push({ start: x.start + at, length: Math.min(CHUNK, x.length - at) });
    return out;
  });
}

/** As C's copyExtents: extents in order, a checkpoint after each chunk, a checkpoint of the same key resumed. */
export async function copyExtents(o: ExtentCopy): Promise<ExtentCopyResult> {
  const last = o.lastCheckpoint as { key?: string; doneBytes?: number } | undefined;
  const skip = last?.key === o.key ? (last.doneBytes ?? 0) : 0;
  copies.push({ key: o.key, extents: o.extents, zeroFill: o.zeroFill, resumedAt: skip });
  let done = 0;
  let read = 0;
  let zero = 0;
  for (const e of [...chunks(o.extents), ...chunks(o.zeroFill ?? []).map((z) => ({ ...z, zero: true }))]) {
    if (done + e.length <= skip) {
      done += e.length;
      continue;
    }
    const from = Math.max(0, skip - done);
    const isZero = 'zero' in e;
    let buf: Buffer;
    if (isZero) buf = Buffer.alloc(e.length - from);
    else {
      const chunks: Buffer[] = [];
      for await (const c of await o.reader.readRange(e.start + from, e.length - from, o.signal))
        chunks.push(c as Buffer);
      buf = Buffer.concat(chunks);
    }
    if (killAfter.bytes !== undefined && read + buf.length > killAfter.bytes) {
      killAfter.bytes = undefined;
      throw new Error('killed mid-copy');
    }
    await o.writer.write(buf, e.start + from);
    if (isZero) zero += buf.length;
    else read += buf.length;
    done += e.length;
    o.checkpoint({ v: 1, key: o.key, doneBytes: done });
  }
  const total = o.extents.reduce((n, e) => n + e.length, 0);
  return { bytesRead: read, zeroBytes: zero, totalBytes: total, resumed: skip > 0, seconds: 0.5 };
}
