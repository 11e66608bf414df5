// Named errors of the transfer layer. Retryable ones let the step's retry policy restart the copy;
// the unsafe-disk and checksum errors are permanent (retrying would upload the same bad bytes).
import { NonRetryableError, V2oError, type V2oErrorOptions } from '../errors.js';

/** No bytes moved for `stallTimeoutMs`. Retryable: the step's retry restarts (or resumes) the copy. */
export class TransferStallError extends V2oError {
  constructor(
    readonly side: 'source' | 'sink',
    readonly stallTimeoutMs: number,
    readonly bytes: number,
    opts: V2oErrorOptions = {},
  ) {
    super(
      `transfer stalled: no progress on the ${side} for ${Math.round(stallTimeoutMs / 1000)} s at byte ${bytes}`,
      {
        hint: 'Check the network path to vCenter/ESXi and Glance; the step is retried automatically.',
        ...opts,
      },
    );
  }
}

/** The source dropped and cannot be reopened where it stopped (no Range), or reconnects ran out. Retryable. */
export class SourceInterruptedError extends V2oError {
  constructor(
    message: string,
    readonly bytes: number,
    opts: V2oErrorOptions = {},
  ) {
    super(message, { hint: 'The step is retried from the beginning of the disk.', ...opts });
  }
}

/** The disk must not be uploaded as it is (flat descriptor, extents pointing at other files, unknown data). */
export class UnsafeDiskError extends NonRetryableError {}

/** What the target stored differs from what was read. Permanent: the same bytes would fail again. */
export class ChecksumMismatchError extends NonRetryableError {}

/** qemu-img failed or is missing. */
export class ConversionError extends V2oError {}

/** The source returned something other than the requested bytes (bad status, wrong Content-Range). */
export class SourceHttpError extends V2oError {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    opts: V2oErrorOptions = {},
  ) {
    super(message, opts);
  }
}

/** The attached volume's device did not show up on the conversion host in time. */
export class DeviceNotFoundError extends V2oError {
  constructor(
    readonly volumeId: string,
    readonly lookedFor: string[],
    timeoutMs: number,
  ) {
    super(
      `volume ${volumeId} is attached but no device for it appeared within ${Math.round(timeoutMs / 1000)} s (looked for ${lookedFor.join(', ')})`,
      {
        hint:
          "the conversion host's kernel did not see the attach: check `lsblk` on it, the setting " +
          'conversionHost.deviceDir, and the attachment in `openstack server show <conversion host>`',
      },
    );
  }
}
