// A pass-through that holds back the first INSPECT_HEAD_BYTES, inspects them, and only then lets data
// flow on. Nothing reaches the sink (Glance) before the format check has passed.
import { Transform, type TransformCallback } from 'node:stream';
import { type DiskInspection, INSPECT_HEAD_BYTES, inspectDisk } from './vmdk.js';

export interface InspectGate extends Transform {
  /** Set once the head was inspected. */
  readonly inspection: DiskInspection | undefined;
}

/** `check` throws to refuse the disk (the stream errors with that error). */
export function inspectGate(check: (i: DiskInspection) => void, headBytes = INSPECT_HEAD_BYTES): InspectGate {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let inspection: DiskInspection | undefined;
  const release = (t: Transform, cb: TransformCallback) => {
    const head = Buffer.concat(held);
    held = [];
    try {
      inspection = inspectDisk(head.subarray(0, headBytes));
      check(inspection);
    } catch (err) {
      cb(err as Error);
      return;
    }
    t.push(head);
    cb();
  };
  const gate = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      if (inspection) return cb(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < headBytes) return cb();
      release(this, cb);
    },
    flush(cb) {
      // A disk smaller than the head: inspect what there is.
      if (!inspection) release(this, cb);
      else cb();
    },
  }) as InspectGate;
  Object.defineProperty(gate, 'inspection', { get: () => inspection });
  return gate;
}
