import { describe, expect, it } from 'vitest';
import { table } from '../../../src/cli/format/table.js';

describe('table', () => {
  it('pads every column but the last to its widest cell, two spaces apart', () => {
    expect(
      table([
        ['RUN', 'STATE', 'NOTE'],
        ['r-1', 'succeeded', ''],
        ['run-22', 'failed', 'boom'],
      ]),
    ).toBe(['RUN     STATE      NOTE', 'r-1     succeeded  ', 'run-22  failed     boom'].join('\n'));
  });

  it('treats a short row as empty cells', () => {
    expect(table([['A', 'B', 'C'], ['xx']])).toBe('A   B  C\nxx');
  });
});
