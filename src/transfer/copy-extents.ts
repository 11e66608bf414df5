// Copies a disk's extents from a DiskReader to a DeviceWriter, checkpointed. (Stub so helper E's
// branch compiles; helper C implements this file.)
import type { DiskReader } from './disk-reader.js';
import type { Extent } from './extents.js';
import type { DeviceWriter } from './sinks/device-writer.js';

export interface ExtentCopyCheckpoint {
  v: 1;
  /** Which copy this is (e.g. "base:2000", "pass-3:2000"); a checkpoint with another key is ignored. */
  key: string;
  /** Bytes of `extents` (in order) that are written AND flushed (fsync) on the device. */
  doneBytes: number;
}
export interface ExtentCopy {
  key: string;
  reader: DiskReader;
  writer: DeviceWriter;
  extents: Extent[];
  /** Areas that get zeros instead (unallocated areas on an encrypted volume); written after the extents. */
  zeroFill?: Extent[];
  lastCheckpoint?: unknown;
  /** Called after a flush, at most every checkpointEveryBytes (default 64 MiB) and at the end. */
  checkpoint(c: ExtentCopyCheckpoint): void;
  onProgress?(doneBytes: number, totalBytes: number): void;
  checkpointEveryBytes?: number;
  stallTimeoutMs: number;
  limits?: { overall: number; perSource: number; perTarget: number };
  signal: AbortSignal;
}
export interface ExtentCopyResult {
  /** Bytes read from the source in this call (not counting what a checkpoint skipped). */
  bytesRead: number;
  /** Bytes of zeros written. */
  zeroBytes: number;
  /** extentBytes(extents): what the whole copy covers. */
  totalBytes: number;
  /** True when a checkpoint let this call skip work. */
  resumed: boolean;
  seconds: number;
}
export async function copyExtents(_o: ExtentCopy): Promise<ExtentCopyResult> {
  throw new Error('stub: helper C implements this');
}
