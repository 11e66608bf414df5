// The disk transfer layer: export → upload streaming, format checks, conversion, limits.
export { convertStream, qemuImgConvertArgs, runQemuImg } from './convert.js';
export { downloadToFile } from './download.js';
export {
  ChecksumMismatchError,
  ConversionError,
  SourceHttpError,
  SourceInterruptedError,
  TransferStallError,
  UnsafeDiskError,
} from './errors.js';
export { hashingStream, verifyDigests } from './hashing-stream.js';
export { inspectGate } from './inspect-gate.js';
export { DEFAULT_TRANSFER_LIMITS, Semaphore, TransferLimiter, type TransferLimits } from './limiter.js';
export { RandomAccessReader } from './random-access.js';
export { resilientStream } from './resilient-stream.js';
export { fileSink } from './sinks/file-sink.js';
export { fileSource } from './sources/file-source.js';
export { httpSource } from './sources/http-source.js';
export { estimateLocalSpace, type LocalSpaceEstimate } from './space.js';
export { DEFAULT_STALL_TIMEOUT_MS, StallWatchdog } from './stall-watchdog.js';
export { type TransferDiskOptions, type TransferDiskResult, transferDisk } from './transfer-disk.js';
export type * from './types.js';
export {
  assertSafe,
  assertUploadable,
  type DiskInspection,
  INSPECT_HEAD_BYTES,
  inspectDisk,
} from './vmdk.js';
