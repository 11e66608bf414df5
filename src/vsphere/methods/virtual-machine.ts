// VirtualMachine methods. Tasks are returned as references; objects/task.ts waits on them.
import { child, el, moref, toMoRef, toValue, type XmlValue } from '../soap/xml.js';
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

/** Returns the task; its info.result is the new VirtualMachineSnapshot. */
export function createSnapshotTask(
  c: SoapCaller,
  vm: MoRef,
  spec: { name: string; description?: string; memory: boolean; quiesce: boolean },
  opts?: CallOptions,
): Promise<MoRef> {
  return taskCall(
    c,
    'CreateSnapshot_Task',
    `${moref('_this', vm)}${el('name', spec.name)}${el('description', spec.description)}${el('memory', spec.memory)}${el('quiesce', spec.quiesce)}`,
    opts,
  );
}

/** `snapshot` is the VirtualMachineSnapshot; consolidate merges its delta into the parent disk. */
export function removeSnapshotTask(
  c: SoapCaller,
  snapshot: MoRef,
  o: { removeChildren: boolean; consolidate: boolean },
  opts?: CallOptions,
): Promise<MoRef> {
  return taskCall(
    c,
    'RemoveSnapshot_Task',
    `${moref('_this', snapshot)}${el('removeChildren', o.removeChildren)}${el('consolidate', o.consolidate)}`,
    opts,
  );
}

/**
 * One page of a disk's changed areas (a DiskChangeInfo: startOffset, length, changedArea[]; vSphere
 * API reference, VirtualMachine.QueryChangedDiskAreas). The page may cover less than the disk.
 */
export async function queryChangedDiskAreas(
  c: SoapCaller,
  vm: MoRef,
  q: { snapshot?: MoRef; deviceKey: number; startOffset: number; changeId: string },
  opts?: CallOptions,
): Promise<XmlValue> {
  const res = await c.call(
    'QueryChangedDiskAreas',
    `<QueryChangedDiskAreas>${moref('_this', vm)}${q.snapshot ? moref('snapshot', q.snapshot) : ''}${el('deviceKey', q.deviceKey)}${el('startOffset', q.startOffset)}${el('changeId', q.changeId)}</QueryChangedDiskAreas>`,
    opts,
  );
  const rv = child(res, 'returnval');
  return rv ? toValue(rv) : {};
}
