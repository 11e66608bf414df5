import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/format-bytes.js';

describe('formatBytes', () => {
  it('whole bytes below 1 KiB, one decimal above', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(512.4)).toBe('512 B'); // a rate in bytes per second is rarely whole
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatBytes(40 * 2 ** 30)).toBe('40.0 GiB');
    expect(formatBytes(3 * 2 ** 40)).toBe('3.0 TiB');
    expect(formatBytes(2 ** 50)).toBe('1024.0 TiB');
  });

  it('never prints 1024.0 of a unit below TiB', () => {
    expect(formatBytes(2 ** 20 - 1)).toBe('1.0 MiB');
    expect(formatBytes(2 ** 30 - 2 ** 20)).toBe('1023.0 MiB');
    expect(formatBytes(2 ** 30 - 1)).toBe('1.0 GiB');
  });

  it('takes more decimals when asked, with the same rounding up', () => {
    expect(formatBytes(4.03 * 2 ** 30, 2)).toBe('4.03 GiB');
    expect(formatBytes(400 * 2 ** 20, 2)).toBe('400.00 MiB');
    expect(formatBytes(2 ** 30 - 2 ** 10, 2)).toBe('1.00 GiB');
    expect(formatBytes(2 ** 30 - 2 ** 20, 2)).toBe('1023.00 MiB');
  });
});
