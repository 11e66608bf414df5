import { describe, expect, it } from 'vitest';
import { alignExtents, complementExtents, extentBytes, mergeExtents } from '../../../src/transfer/extents.js';

describe('extents', () => {
  it('merges overlapping and adjacent extents, sorted, dropping empty ones', () => {
    expect(
      mergeExtents([
        { start: 100, length: 10 },
        { start: 0, length: 10 },
        { start: 10, length: 5 },
        { start: 105, length: 20 },
        { start: 50, length: 0 },
      ]),
    ).toEqual([
      { start: 0, length: 15 },
      { start: 100, length: 25 },
    ]);
  });

  it('aligns outward to blocks and clips to the capacity', () => {
    expect(
      alignExtents(
        [
          { start: 5, length: 2 },
          { start: 1000, length: 30 },
        ],
        512,
        1010,
      ),
    ).toEqual([{ start: 0, length: 1010 }]);
    expect(alignExtents([{ start: 513, length: 1 }], 512, 4096)).toEqual([{ start: 512, length: 512 }]);
  });

  it('complements within the capacity', () => {
    expect(
      complementExtents(
        [
          { start: 10, length: 10 },
          { start: 0, length: 5 },
        ],
        30,
      ),
    ).toEqual([
      { start: 5, length: 5 },
      { start: 20, length: 10 },
    ]);
    expect(complementExtents([], 8)).toEqual([{ start: 0, length: 8 }]);
    expect(complementExtents([{ start: 0, length: 8 }], 8)).toEqual([]);
    expect(
      extentBytes([
        { start: 3, length: 4 },
        { start: 10, length: 6 },
      ]),
    ).toBe(10);
  });
});
