import { describe, expect, it } from 'vitest';
import { parseSets } from '../../../src/cli/params.js';
import { ProgressMeter } from '../../../src/cli/progress/format.js';

describe('--set parsing', () => {
  it('parses JSON values, keeps strings, nests dotted keys', () => {
    expect(parseSets(['a=1', 'b=true', 'c=hello', 'd.e=[1,2]', 'f=x=y'])).toEqual({
      a: 1,
      b: true,
      c: 'hello',
      d: { e: [1, 2] },
      f: 'x=y',
    });
    expect(() => parseSets(['novalue'])).toThrow(/expected key=value/);
  });
});

describe('progress text', () => {
  it('shows sizes, percent, rate and ETA', () => {
    let t = 0;
    const m = new ProgressMeter(() => t);
    m.format({ done: 0, total: 100 * 2 ** 20, unit: 'bytes' });
    t = 1_000;
    expect(m.format({ done: 25 * 2 ** 20, total: 100 * 2 ** 20, unit: 'bytes' })).toBe(
      '25.0 MiB / 100.0 MiB  25%  25.0 MiB/s  ETA 3s',
    );
  });
});
