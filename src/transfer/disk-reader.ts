// The reader of a disk's raw content at offsets. (E's copy to compile; helper C's file wins.)
import type { Readable } from 'node:stream';
/** Reads a disk's raw content at offsets. The datastore Range reader is the first; a VDDK/NBD reader fits the same shape. */
export interface DiskReader {
  readonly size: number;
  /** For messages; never a secret. */
  readonly description: string;
  /** A stream of exactly `length` bytes from `offset` (shorter only at the end of the disk). */
  readRange(offset: number, length: number, signal: AbortSignal): Promise<Readable>;
}
