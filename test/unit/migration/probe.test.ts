import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { probeRandomReads } from '../../../src/migration/copy/probe.js';
import type { PlannedDisk } from '../../../src/migration/plan/types.js';

const disk = (label: string, flat?: string) =>
  ({
    label,
    sizeBytes: 64 * 1024 * 1024,
    layout: flat ? { createType: 'vmfs', flatExtent: flat } : undefined,
  }) as PlannedDisk;

function source(answer: (offset: number, length: number) => Buffer | Error) {
  const asked: number[] = [];
  return {
    asked,
    openDiskReader: (_flat: string, size: number) => ({
      size,
      description: 'test',
      readRange: async (offset: number, length: number) => {
        asked.push(offset);
        const a = answer(offset, length);
        if (a instanceof Error) throw a;
        return Readable.from([a]);
      },
    }),
  };
}

describe('probeRandomReads (pre-flight for the volume route)', () => {
  it('reads 4 KiB at an aligned offset inside each flat disk and finds nothing wrong', async () => {
    const s = source((_o, n) => Buffer.alloc(n));
    expect(
      await probeRandomReads(s, [disk('Hard disk 1', '[ds] a-flat.vmdk')], AbortSignal.timeout(5000)),
    ).toEqual([]);
    expect(s.asked).toHaveLength(1);
    expect(s.asked[0]! % 4096).toBe(0);
    expect(s.asked[0]!).toBeLessThan(64 * 1024 * 1024);
  });

  it('names the disk and the fix when the read comes back short or fails; disks without a flat extent are not probed', async () => {
    const short = source(() => Buffer.alloc(100));
    const [p] = await probeRandomReads(
      short,
      [disk('Hard disk 1', '[ds] a-flat.vmdk'), disk('Hard disk 2')],
      AbortSignal.timeout(5000),
    );
    expect(short.asked).toHaveLength(1);
    expect(p).toMatch(
      /Hard disk 1's flat extent \[ds\] a-flat\.vmdk cannot be read at offset \d+: 100 bytes came back for 4096/,
    );
    expect(p).toMatch(/migration: cold/);
    const failing = source(() => new Error('HTTP 200 instead of 206'));
    expect(
      (
        await probeRandomReads(failing, [disk('Hard disk 1', '[ds] a-flat.vmdk')], AbortSignal.timeout(5000))
      )[0],
    ).toMatch(/206/);
  });
});
