// Sizes and rates as a person reads them (binary units, one decimal), for the CLI's progress and
// tables, the steps' messages and the benchmarks alike. Top level, like errors.ts, so every layer
// can use it.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * `512 B`, `25.0 MiB`, `1.5 GiB`: whole bytes, then a fixed number of decimals (`digits`, default 1)
 * so progress columns keep their width.
 */
export function formatBytes(n: number, digits = 1): string {
  let i = 0;
  let v = n;
  // Move up when the rounded figure would read 1024 (1023.96 KiB is 1.0 MiB, not 1024.0 KiB).
  while (i < UNITS.length - 1 && (i === 0 ? v >= 1024 : Number(v.toFixed(digits)) >= 1024)) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : digits)} ${UNITS[i]}`;
}
