// Local disk the conversions need, from src/transfer's estimate.
import { estimateLocalSpace } from '../../transfer/space.js';
import type { ImageFormat } from '../plan-file.js';

/**
 * One disk's staging space. Conservative: whether the export lease serves Range is only known
 * once it is open, so the plan assumes it stages the source.
 */
export function localSpaceFor(format: ImageFormat, capacityBytes: number): number {
  return estimateLocalSpace({ capacityBytes, sourceSupportsRange: false }, format).bytes;
}

/** The VM's total, as `v2o plan` prints it: the sum over its disks. */
export function planLocalSpace(disks: { localSpaceBytes: number }[]): number {
  return disks.reduce((n, d) => n + d.localSpaceBytes, 0);
}
