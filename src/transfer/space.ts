// Local disk space a transfer needs, for `v2o plan`. Pure.
import type { TargetFormat } from './types.js';

export interface DiskSpaceInput {
  /** Guest-visible size in bytes (capacityInBytes). */
  capacityBytes: number;
  /** Bytes the disk really holds (datastore committed space / allocated blocks), when known. */
  allocatedBytes?: number;
  /** Size of the stream the source serves (the streamOptimized VMDK), when known. */
  sourceBytes?: number;
  /** Whether the source can be reopened at an offset (export lease / datastore URL with Range). Default true. */
  sourceSupportsRange?: boolean;
}

export interface LocalSpaceEstimate {
  /** Peak bytes on the local disk (work directory). */
  bytes: number;
  /** How the disk travels, in words for `v2o plan`. */
  route: string;
  /** What makes up `bytes`. */
  parts: { what: string; bytes: number }[];
}

/** qcow2 metadata (L1/L2/refcount tables) is about 1/8000 of the data with 64 KiB clusters; round up. */
const QCOW2_OVERHEAD = 1 / 4096;

/**
 * vmdk: streamed straight into Glance, nothing local. qcow2/raw: qemu-img reads the source over v2o's
 * NBD bridge and writes the converted image locally (the one staged copy); a raw file is sparse where
 * the disk is empty, but the upload still sends the full capacity. Without Range the source is staged
 * first (qemu-img must read at random), which adds its size.
 */
export function estimateLocalSpace(disk: DiskSpaceInput, format: TargetFormat): LocalSpaceEstimate {
  if (format === 'vmdk') return { bytes: 0, route: 'stream export → Glance (no local copy)', parts: [] };
  const data = Math.min(disk.allocatedBytes ?? disk.capacityBytes, disk.capacityBytes);
  const parts: { what: string; bytes: number }[] = [];
  if (disk.sourceSupportsRange === false) {
    parts.push({ what: 'staged source VMDK (no Range support)', bytes: disk.sourceBytes ?? data });
  }
  parts.push(
    format === 'qcow2'
      ? { what: 'converted qcow2', bytes: Math.ceil(data * (1 + QCOW2_OVERHEAD)) + 2 * 1024 * 1024 }
      : { what: 'converted raw (sparse file)', bytes: data },
  );
  const route =
    disk.sourceSupportsRange === false
      ? `stage the export, convert to ${format} with qemu-img, upload`
      : `convert the export to ${format} with qemu-img while streaming, upload the result`;
  return { bytes: parts.reduce((s, p) => s + p.bytes, 0), route, parts };
}
