// VirtualMachine methods. Tasks are returned as references; objects/task.ts waits on them.
import { child, moref, toMoRef } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

async function taskCall(c: SoapCaller, method: string, inner: string, opts?: CallOptions): Promise<MoRef> {
  const res = await c.call(method, `<${method}>${inner}</${method}>`, opts);
  return toMoRef(child(res, 'returnval'))!;
}

export function powerOnVmTask(c: SoapCaller, vm: MoRef, opts?: CallOptions): Promise<MoRef> {
  return taskCall(c, 'PowerOnVM_Task', moref('_this', vm), opts);
}

export function powerOffVmTask(c: SoapCaller, vm: MoRef, opts?: CallOptions): Promise<MoRef> {
  return taskCall(c, 'PowerOffVM_Task', moref('_this', vm), opts);
}

/** Asks VMware Tools to shut the guest down; returns at once (no task). */
export async function shutdownGuest(c: SoapCaller, vm: MoRef, opts?: CallOptions): Promise<void> {
  await c.call('ShutdownGuest', `<ShutdownGuest>${moref('_this', vm)}</ShutdownGuest>`, opts);
}

/** `spec` is the inner XML of a VirtualMachineConfigSpec (see objects/cdrom.ts builders). */
export function reconfigVmTask(c: SoapCaller, vm: MoRef, spec: string, opts?: CallOptions): Promise<MoRef> {
  return taskCall(c, 'ReconfigVM_Task', `${moref('_this', vm)}<spec>${spec}</spec>`, opts);
}

/** Returns the HttpNfcLease; its state becomes `ready` (or `error`) later. */
export async function exportVm(c: SoapCaller, vm: MoRef, opts?: CallOptions): Promise<MoRef> {
  const res = await c.call('ExportVm', `<ExportVm>${moref('_this', vm)}</ExportVm>`, opts);
  return toMoRef(child(res, 'returnval'))!;
}
