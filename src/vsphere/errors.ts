// Errors of the vSphere client: SOAP faults matched by type (govmomi's fault.Is), HTTP errors
// of the datastore / NFC / guest file endpoints, and timeouts of waits.
import { V2oError, type V2oErrorOptions } from '../errors.js';

/** A vim25 fault: `faultName` is the fault's type without the `Fault` suffix (InvalidLogin, InvalidPowerState …). */
export class VSphereFault extends V2oError {
  readonly faultName: string;
  /** The method that returned it (e.g. PowerOnVM_Task), when known. */
  readonly method?: string;
  constructor(faultName: string, message: string, opts: V2oErrorOptions & { method?: string } = {}) {
    super(`${opts.method ? `${opts.method}: ` : ''}${faultName}: ${message || faultName}`, opts);
    this.faultName = faultName;
    this.method = opts.method;
  }
}

/** True when `err` (or its cause chain) is a VSphereFault of one of the given types. */
export function isFault(err: unknown, ...names: string[]): boolean {
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    if (e instanceof VSphereFault && names.includes(e.faultName)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A non-2xx reply of an HTTP endpoint beside SOAP (datastore /folder, NFC lease URLs, guest file URLs). */
export class VSphereHttpError extends V2oError {
  readonly method: string;
  /** URL without query string (the query can carry tickets). */
  readonly url: string;
  readonly status: number;
  readonly body: string;
  constructor(method: string, url: string, status: number, body: string, opts: V2oErrorOptions = {}) {
    super(`${method} ${url}: HTTP ${status}${body ? ` ${body.slice(0, 200)}` : ''}`, opts);
    this.method = method;
    this.url = url;
    this.status = status;
    this.body = body;
  }
}

export function isHttpStatus(err: unknown, ...statuses: number[]): boolean {
  return err instanceof VSphereHttpError && statuses.includes(err.status);
}

/** A wait (task, power state, lease, guest process) did not finish in time. */
export class VSphereTimeoutError extends V2oError {}

/**
 * vSphere refused a changeId for QueryChangedDiskAreas: CBT was reset since it was taken (Storage
 * vMotion, a CBT off/on, a restore), so the changes since then are unknown and the disk must be
 * copied whole. vSphere answers such a changeId with a FileFault ("Error caused by file ...") or
 * InvalidArgument (vSphere API reference, VirtualMachine.QueryChangedDiskAreas, Faults).
 */
export class ChangeIdRejectedError extends V2oError {
  readonly diskKey: number;
  readonly changeId: string;
  constructor(diskKey: number, changeId: string, opts: V2oErrorOptions = {}) {
    super(`vSphere rejected changeId "${changeId}" of disk ${diskKey}: change tracking was reset since`, {
      hint: 'nothing to fix: the disk is copied whole in this pass, and tracked from the new changeId after it',
      ...opts,
    });
    this.diskKey = diskKey;
    this.changeId = changeId;
  }
}
