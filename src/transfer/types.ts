// The small interfaces the transfer layer is built on, so it depends on no client's internals:
// a source is anything that can be (re)opened at a byte offset; a sink consumes one Readable.
import type { Readable } from 'node:stream';

/** A disk's bytes, reopenable at an offset (HTTP Range) when `supportsRange`. */
export interface ByteSource {
  /** Total bytes, when known (Content-Length or the file size). */
  readonly size?: number;
  /** True when open(offset > 0) is honoured; without it a dropped stream cannot be healed in place. */
  readonly supportsRange: boolean;
  /** For messages and limiter keys, never containing secrets (no query strings, no cookies). */
  readonly description: string;
  open(offset: number, signal: AbortSignal): Promise<Readable>;
}

/** Disk formats Glance knows that v2o produces. */
export type TargetFormat = 'vmdk' | 'qcow2' | 'raw';

export type HashName = 'sha256' | 'md5' | 'sha512';
export type Hashes = Partial<Record<HashName, string>>;

export interface SinkWriteInfo {
  /** Bytes that will flow, when known (lets the sink send Content-Length). */
  size?: number;
  /** disk_format for the target. */
  format: TargetFormat;
  signal: AbortSignal;
}

export interface SinkResult {
  /** Whatever the sink wants recorded (image id, file path, server-side checksums). */
  [key: string]: unknown;
  /** md5 as reported by the target (Glance `checksum`), when it reports one. */
  checksum?: string;
  /** Glance `os_hash_algo` / `os_hash_value`, when reported. */
  osHashAlgo?: string;
  osHashValue?: string;
  /** Bytes the target says it stored (compared with the bytes sent). */
  storedBytes?: number;
  /** Digests the sink computed itself (see DiskSink.computesHashes). */
  hashes?: Hashes;
}

/** Where a disk goes: a Glance image upload or a local file. One call consumes one stream. */
export interface DiskSink {
  readonly description: string;
  /** The sink hashes what it sends (and returns SinkResult.hashes): its caller can pass hashes: []. */
  readonly computesHashes?: boolean;
  /** Consume `stream` fully. Must reject (and stop reading) when info.signal aborts. */
  write(stream: Readable, info: SinkWriteInfo): Promise<SinkResult>;
}

/** What transferDisk saves through ctx.checkpoint, and reads back from ctx.lastCheckpoint. */
export interface TransferCheckpoint {
  v: 1;
  phase: 'upload' | 'stage' | 'convert' | 'done';
  /** Bytes read from the source so far (upload) or written to the staged file (stage). */
  bytes: number;
  total?: number;
  /** Staged file, when there is one (the resume point for a crash during staging). */
  stagedPath?: string;
  /** Identity of the source the staged bytes came from; a different source discards them. */
  sourceId?: string;
}

export interface ProgressLike {
  update(p: { done?: number; total?: number; message?: string; unit?: 'bytes' | 'items' }): void;
}
