// A disk of a vSphere export lease (HttpNfcLease device URL) as a ByteSource. Size and Range support
// come from the lease when it says, else from the first response (streamOptimized exports generated
// on the fly often have no fileSize and no Range).
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { NfcDeviceUrl } from '../../vsphere/objects/nfc-lease.js';
import { SourceHttpError } from '../errors.js';
import type { ByteSource } from '../types.js';

/** The part of NfcLease this adapter uses (structural, so tests can fake it). */
export interface LeaseLike {
  open(
    d: NfcDeviceUrl,
    opts?: { offset?: number; signal?: AbortSignal },
  ): Promise<Readable & { contentLength?: number }>;
}

export interface LeaseSourceOptions {
  /** Force Range support on or off; default: the first response's Accept-Ranges, or true after a 206. */
  supportsRange?: boolean;
}

export function leaseSource(
  lease: LeaseLike,
  device: NfcDeviceUrl,
  opts: LeaseSourceOptions = {},
): ByteSource {
  let size = device.fileSize;
  let range = opts.supportsRange;
  const description = `${device.url.origin}${device.url.pathname}`;
  return {
    get size() {
      return size;
    },
    get supportsRange() {
      return range ?? false;
    },
    description,
    async open(offset: number, signal: AbortSignal): Promise<Readable> {
      const res = await lease.open(device, { offset, signal });
      const headers = (res as Partial<IncomingMessage>).headers ?? {};
      if (offset === 0) {
        size ??= res.contentLength;
        range ??= /\bbytes\b/.test(String(headers['accept-ranges'] ?? ''));
      } else {
        const m = /^bytes (\d+)-/.exec(String(headers['content-range'] ?? ''));
        const start = m ? Number(m[1]) : undefined;
        const lenOk =
          size === undefined || res.contentLength === undefined || res.contentLength === size - offset;
        if ((start !== undefined && start !== offset) || !lenOk) {
          res.destroy();
          throw new SourceHttpError(
            `${description}: asked for byte ${offset}, got Content-Range "${headers['content-range']}"`,
            206,
          );
        }
      }
      return res;
    },
  };
}
