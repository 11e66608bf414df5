// Disk format inspection from the first bytes of a disk, before anything is uploaded or handed to
// qemu-img. Glance accepts any bytes on a plain PUT (see the lab recipe), so v2o refuses what would be
// unsafe itself: VMDK descriptors whose extents live in other files (CVE-2022-47951), qcow2 with a
// backing or external data file, and data whose detected format differs from the one declared.
import { UnsafeDiskError } from './errors.js';
import type { TargetFormat } from './types.js';

/** Enough head bytes for every check below (qemu-img and VMware put the embedded descriptor at sector 1). */
export const INSPECT_HEAD_BYTES = 1024 * 1024;

export type DetectedFormat = 'vmdk' | 'vmdk-descriptor' | 'vmdk-cowd' | 'qcow2' | 'raw';

export interface VmdkExtent {
  access: string;
  sectors: number;
  type: string;
  file: string;
}

export interface DiskInspection {
  format: DetectedFormat;
  /** VMDK createType (streamOptimized, monolithicSparse, monolithicFlat, vmfs ...). */
  subformat?: string;
  /** Guest-visible size in bytes, when the header says. */
  virtualSize?: number;
  extents?: VmdkExtent[];
  /** qcow2 version. */
  version?: number;
  /** Empty when the disk is safe to read with qemu-img -f <format> and to upload as that format. */
  problems: string[];
}

const SECTOR = 512;
const CVE_HINT =
  'Export the disk through the vSphere export lease (it streams a streamOptimized VMDK), or set the ' +
  "VM's image format to qcow2 or raw in the plan so v2o converts it with qemu-img.";

function readU64LE(b: Buffer, off: number): number {
  const v = b.readBigUInt64LE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

function readU64BE(b: Buffer, off: number): number {
  const v = b.readBigUInt64BE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

/** Parse `key="value"` lines and extent lines of a VMDK text descriptor. */
export function parseVmdkDescriptor(text: string): {
  createType?: string;
  extents: VmdkExtent[];
  parentCID?: string;
} {
  const extents: VmdkExtent[] = [];
  let createType: string | undefined;
  let parentCID: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\0+$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const kv = /^([A-Za-z][\w.]*)\s*=\s*"?([^"]*)"?$/.exec(line);
    if (kv) {
      if (kv[1] === 'createType') createType = kv[2];
      if (kv[1] === 'parentCID') parentCID = kv[2];
      continue;
    }
    // RW 16384 SPARSE "disk.vmdk"   |   RW 16384 FLAT "disk-flat.vmdk" 0
    const ex = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?/.exec(line);
    if (ex) extents.push({ access: ex[1]!, sectors: Number(ex[2]), type: ex[3]!, file: ex[4] ?? '' });
  }
  return { createType, extents, parentCID };
}

function looksLikeText(b: Buffer): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return i > 0 && b.subarray(i, n).every((x) => x === 0); // NUL padding after the text
    if (c < 9 || (c > 13 && c < 32)) return false;
  }
  return n > 0;
}

function inspectSparseVmdk(head: Buffer): DiskInspection {
  const problems: string[] = [];
  if (head.length < SECTOR) return { format: 'vmdk', problems: ['VMDK header is truncated'] };
  const version = head.readUInt32LE(4);
  const flags = head.readUInt32LE(8);
  const capacity = readU64LE(head, 12);
  const grainSize = readU64LE(head, 20);
  const descOffset = readU64LE(head, 28);
  const descSize = readU64LE(head, 36);
  const compress = head.readUInt16LE(77);
  const virtualSize = capacity * SECTOR;
  if (version < 1 || version > 3) problems.push(`unknown VMDK sparse header version ${version}`);
  if (!(grainSize > 0 && (grainSize & (grainSize - 1)) === 0))
    problems.push(`invalid grain size ${grainSize}`);
  if (!Number.isFinite(capacity) || capacity === 0) problems.push('invalid VMDK capacity');
  if (descOffset === 0 || descSize === 0) {
    // A bare sparse extent (for example the -s001 file of a split disk): nothing says it is the whole disk.
    problems.push('VMDK sparse extent without an embedded descriptor (a piece of a split disk?)');
    return { format: 'vmdk', virtualSize, problems };
  }
  const start = descOffset * SECTOR;
  const end = start + descSize * SECTOR;
  if (!Number.isFinite(end) || end > INSPECT_HEAD_BYTES) {
    problems.push(
      `embedded VMDK descriptor at byte ${start} lies beyond the first ${INSPECT_HEAD_BYTES} bytes`,
    );
    return { format: 'vmdk', virtualSize, problems };
  }
  if (end > head.length) {
    problems.push('embedded VMDK descriptor is truncated');
    return { format: 'vmdk', virtualSize, problems };
  }
  const desc = parseVmdkDescriptor(head.subarray(start, end).toString('latin1'));
  const subformat = desc.createType;
  if (subformat !== 'streamOptimized' && subformat !== 'monolithicSparse') {
    problems.push(`VMDK createType "${subformat ?? '(none)'}" is not a single-file sparse disk`);
  }
  if (subformat === 'streamOptimized' && (!(flags & (1 << 16)) || !(flags & (1 << 17)) || compress !== 1)) {
    problems.push('VMDK says streamOptimized but its header lacks compressed grains and markers');
  }
  if (desc.extents.length !== 1) {
    problems.push(`VMDK descriptor lists ${desc.extents.length} extents; only one (the file itself) is safe`);
  }
  for (const e of desc.extents) {
    if (e.type !== 'SPARSE')
      problems.push(`VMDK extent of type ${e.type} ("${e.file}") points outside the file`);
    if (/[/\\]|^\.\.?$/.test(e.file) || e.file === '') {
      problems.push(`VMDK extent file name "${e.file}" is a path, not the file itself`);
    }
  }
  if (desc.parentCID && desc.parentCID.toLowerCase() !== 'ffffffff') {
    problems.push(`VMDK has a parent disk (parentCID=${desc.parentCID}): it is a delta of a snapshot chain`);
  }
  return { format: 'vmdk', subformat, virtualSize, extents: desc.extents, problems };
}

function inspectQcow2(head: Buffer): DiskInspection {
  if (head.length < 104) return { format: 'qcow2', problems: ['qcow2 header is truncated'] };
  const problems: string[] = [];
  const version = head.readUInt32BE(4);
  const backingOffset = readU64BE(head, 8);
  const virtualSize = readU64BE(head, 24);
  if (version !== 2 && version !== 3) problems.push(`unknown qcow2 version ${version}`);
  if (backingOffset !== 0) problems.push('qcow2 image has a backing file (it reads another file)');
  if (version === 3) {
    const incompatible = head.readBigUInt64BE(72);
    if (incompatible & 4n) problems.push('qcow2 image has an external data file (it reads another file)');
    if (incompatible & ~0x1fn) problems.push('qcow2 image uses unknown incompatible features');
  }
  return { format: 'qcow2', version, virtualSize, problems };
}

/**
 * Identify a disk from its first bytes (pass INSPECT_HEAD_BYTES, or the whole disk when smaller).
 * Pure. Anything not recognised is `raw`: raw disks have no header to check.
 */
export function inspectDisk(head: Buffer): DiskInspection {
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'KDMV') return inspectSparseVmdk(head);
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'COWD') {
    return { format: 'vmdk-cowd', problems: ['ESX 3 COWD sparse VMDK (vmfsSparse) is not supported'] };
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x514649fb) return inspectQcow2(head);
  if (looksLikeText(head)) {
    const text = head.toString('latin1', 0, Math.min(head.length, 64 * 1024));
    if (/^\s*#\s*Disk DescriptorFile/m.test(text) || /^\s*createType\s*=/m.test(text)) {
      const desc = parseVmdkDescriptor(text);
      const files = desc.extents.map((e) => `${e.type} "${e.file}"`).join(', ');
      return {
        format: 'vmdk-descriptor',
        subformat: desc.createType,
        extents: desc.extents,
        problems: [
          `this is a VMDK text descriptor (createType=${desc.createType ?? '?'}) whose data lives in other ` +
            `files (${files || 'no extents'}); uploading it to Glance is the CVE-2022-47951 attack`,
        ],
      };
    }
  }
  return { format: 'raw', problems: [] };
}

/** Human name of what was found, for messages. */
export function describeInspection(i: DiskInspection): string {
  return i.subformat ? `${i.format} (${i.subformat})` : i.format;
}

/**
 * Throw UnsafeDiskError unless the disk inspected as `i` may be uploaded as `target` without conversion.
 * vmdk: only streamOptimized or monolithicSparse with one embedded extent; qcow2: no backing/data file;
 * raw: the data must not carry another format's header (format confusion).
 */
export function assertUploadable(i: DiskInspection, target: TargetFormat, what = 'disk'): void {
  assertSafe(i, what);
  const ok =
    (target === 'vmdk' && i.format === 'vmdk') ||
    (target === 'qcow2' && i.format === 'qcow2') ||
    (target === 'raw' && i.format === 'raw');
  if (!ok) {
    throw new UnsafeDiskError(
      `${what}: refusing to upload ${describeInspection(i)} data as disk_format=${target}`,
      {
        hint:
          target === 'vmdk'
            ? CVE_HINT
            : `Declare the format the data has (${i.format}), or let v2o convert it with qemu-img.`,
      },
    );
  }
}

/** Throw UnsafeDiskError when reading the disk would reach other files (also before qemu-img reads it). */
export function assertSafe(i: DiskInspection, what = 'disk'): void {
  if (i.problems.length === 0) return;
  const cve = i.format === 'vmdk-descriptor' || i.format === 'vmdk';
  throw new UnsafeDiskError(`${what}: unsafe ${describeInspection(i)}: ${i.problems.join('; ')}`, {
    hint: cve ? `${CVE_HINT} (CVE-2022-47951)` : 'Flatten the image (qemu-img convert) before migrating it.',
  });
}

/** The qemu-img -f name for a detected, safe format. */
export function qemuFormatOf(i: DiskInspection): 'vmdk' | 'qcow2' | 'raw' {
  if (i.format === 'vmdk' || i.format === 'qcow2' || i.format === 'raw') return i.format;
  throw new UnsafeDiskError(`cannot convert ${describeInspection(i)}`, { hint: CVE_HINT });
}
