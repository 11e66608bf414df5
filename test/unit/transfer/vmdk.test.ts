import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsafeDiskError } from '../../../src/transfer/errors.js';
import {
  assertSafe,
  assertUploadable,
  inspectDisk,
  parseVmdkDescriptor,
} from '../../../src/transfer/vmdk.js';
import { head, makeDisks, tempDir } from './helpers.js';

let dir: string;
let d: ReturnType<typeof makeDisks>;
beforeAll(() => {
  dir = tempDir();
  d = makeDisks(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replace the embedded descriptor's extent file name in place (same sector, NUL padded). */
function withExtentFile(path: string, file: string): Buffer {
  const b = Buffer.from(head(path));
  const off = Number(b.readBigUInt64LE(28)) * 512;
  const size = Number(b.readBigUInt64LE(36)) * 512;
  const text = b.toString('latin1', off, off + size).replace(/\0+$/, '');
  const changed = text.replace(/SPARSE "[^"]*"/, `SPARSE "${file}"`);
  b.fill(0, off, off + size);
  b.write(changed, off, 'latin1');
  return b;
}

describe('inspectDisk on images made by qemu-img', () => {
  it('accepts a streamOptimized VMDK and reads its virtual size', () => {
    const i = inspectDisk(head(d.streamOptimized));
    expect(i).toMatchObject({ format: 'vmdk', subformat: 'streamOptimized', virtualSize: 8 * 1024 * 1024 });
    expect(i.problems).toEqual([]);
    expect(() => assertUploadable(i, 'vmdk')).not.toThrow();
  });

  it('accepts a monolithicSparse VMDK with its single embedded extent', () => {
    const i = inspectDisk(head(d.monolithicSparse));
    expect(i).toMatchObject({ format: 'vmdk', subformat: 'monolithicSparse', problems: [] });
    expect(i.extents).toEqual([{ access: 'RW', sectors: 16384, type: 'SPARSE', file: 'ms.vmdk' }]);
  });

  it('refuses a monolithicFlat descriptor, naming CVE-2022-47951 and the fix', () => {
    const i = inspectDisk(readFileSync(d.monolithicFlat));
    expect(i.format).toBe('vmdk-descriptor');
    expect(i.subformat).toBe('monolithicFlat');
    expect(i.extents?.[0]).toMatchObject({ type: 'FLAT', file: 'flat-flat.vmdk' });
    let err: unknown;
    try {
      assertUploadable(i, 'vmdk', 'disk 2000');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsafeDiskError);
    expect((err as UnsafeDiskError).message).toMatch(/disk 2000: unsafe vmdk-descriptor \(monolithicFlat\)/);
    expect((err as UnsafeDiskError).hint).toMatch(/CVE-2022-47951/);
    expect((err as UnsafeDiskError).hint).toMatch(/streamOptimized|qcow2/);
  });

  it('refuses the descriptor of a split disk and its bare extent', () => {
    expect(inspectDisk(readFileSync(d.split)).format).toBe('vmdk-descriptor');
    const piece = inspectDisk(head(join(dir, 'split-s001.vmdk')));
    expect(piece.format).toBe('vmdk');
    expect(piece.problems.join()).toMatch(/createType "\(none\)" is not a single-file sparse disk/);
  });

  it('refuses a sparse VMDK whose embedded extent points at another file', () => {
    const i = inspectDisk(withExtentFile(d.monolithicSparse, '/etc/passwd'));
    expect(i.problems.join()).toMatch(/"\/etc\/passwd" is a path/);
    expect(() => assertSafe(i)).toThrow(UnsafeDiskError);
    const rel = inspectDisk(withExtentFile(d.monolithicSparse, '../x'));
    expect(rel.problems.join()).toMatch(/is a path/);
  });

  it('refuses a descriptor listing more than one extent', () => {
    const p = parseVmdkDescriptor('createType="monolithicSparse"\nRW 8 SPARSE "a.vmdk"\nRW 8 FLAT "b" 0\n');
    expect(p.extents).toHaveLength(2);
  });

  it('identifies qcow2 and refuses one with a backing file', () => {
    const q = inspectDisk(head(d.qcow2));
    expect(q).toMatchObject({ format: 'qcow2', version: 3, virtualSize: 8 * 1024 * 1024, problems: [] });
    const overlay = join(dir, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', d.qcow2, '-F', 'qcow2', overlay]);
    const o = inspectDisk(head(overlay));
    expect(o.problems.join()).toMatch(/backing file/);
    expect(() => assertUploadable(o, 'qcow2')).toThrow(UnsafeDiskError);
  });

  it('treats headerless data as raw and refuses format confusion', () => {
    const r = inspectDisk(head(d.raw));
    expect(r).toMatchObject({ format: 'raw', problems: [] });
    expect(() => assertUploadable(r, 'raw')).not.toThrow();
    expect(() => assertUploadable(r, 'vmdk')).toThrow(/refusing to upload raw data as disk_format=vmdk/);
    expect(() => assertUploadable(inspectDisk(head(d.qcow2)), 'raw')).toThrow(UnsafeDiskError);
    expect(() => assertUploadable(inspectDisk(head(d.streamOptimized)), 'qcow2')).toThrow(UnsafeDiskError);
  });

  it('flags a streamOptimized createType on a header without compressed grains', () => {
    const b = Buffer.from(head(d.streamOptimized));
    b.writeUInt32LE(b.readUInt32LE(8) & ~(1 << 16), 8);
    expect(inspectDisk(b).problems.join()).toMatch(/lacks compressed grains/);
  });
});
