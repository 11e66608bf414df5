// HttpNfcLease methods.
import { el, moref } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

export async function httpNfcLeaseProgress(
  c: SoapCaller,
  lease: MoRef,
  percent: number,
  opts?: CallOptions,
): Promise<void> {
  const p = Math.max(0, Math.min(100, Math.floor(percent)));
  await c.call(
    'HttpNfcLeaseProgress',
    `<HttpNfcLeaseProgress>${moref('_this', lease)}${el('percent', p)}</HttpNfcLeaseProgress>`,
    opts,
  );
}

export async function httpNfcLeaseComplete(c: SoapCaller, lease: MoRef, opts?: CallOptions): Promise<void> {
  await c.call(
    'HttpNfcLeaseComplete',
    `<HttpNfcLeaseComplete>${moref('_this', lease)}</HttpNfcLeaseComplete>`,
    opts,
  );
}

/** Aborts the lease; `reason` becomes a SystemError LocalizedMethodFault the server records. */
export async function httpNfcLeaseAbort(
  c: SoapCaller,
  lease: MoRef,
  reason?: string,
  opts?: CallOptions,
): Promise<void> {
  const fault = reason
    ? `<fault><fault xsi:type="SystemError">${el('reason', reason)}</fault>${el('localizedMessage', reason)}</fault>`
    : '';
  await c.call(
    'HttpNfcLeaseAbort',
    `<HttpNfcLeaseAbort>${moref('_this', lease)}${fault}</HttpNfcLeaseAbort>`,
    opts,
  );
}
