// Changed Block Tracking: its state, switching it, and the changed areas of a disk.
import { V2oError } from '../../errors.js';
import { ChangeIdRejectedError, isFault } from '../errors.js';
import { queryChangedDiskAreas, reconfigVmTask } from '../methods/virtual-machine.js';
import { toVmInfo, type VmDisk } from '../model.js';
import { arr, el, type XmlObject } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { retrieveOne } from './property.js';
import { waitForTask } from './task.js';
import type { OpOptions } from './vm.js';

export interface ChangeTrackingInfo {
  enabled: boolean;
  /** "vmx-19" → 19; 0 when not reported. */
  hardwareVersion: number;
  consolidationNeeded: boolean;
  powerState: string;
  disks: VmDisk[];
}

export async function getChangeTracking(
  client: VSphereClient,
  vm: MoRef,
  opts: OpOptions = {},
): Promise<ChangeTrackingInfo> {
  const o = await retrieveOne(
    client,
    vm,
    [
      'config.changeTrackingEnabled',
      'config.version',
      'config.hardware',
      'runtime.consolidationNeeded',
      'runtime.powerState',
    ],
    { signal: opts.signal },
  );
  const info = toVmInfo(vm, o.props);
  return {
    enabled: info.cbtEnabled,
    hardwareVersion: Number(/^vmx-(\d+)$/.exec(info.hardwareVersion ?? '')?.[1] ?? 0),
    consolidationNeeded: info.consolidationNeeded,
    powerState: info.powerState,
    disks: info.disks,
  };
}

/**
 * ReconfigVM_Task with changeTrackingEnabled, waited for. vSphere applies it at the next stun-unstun
 * cycle of the VM (power on, resume, snapshot create or remove), not at once (VMware's VDDK
 * Programming Guide, "Changed Block Tracking on Virtual Disks"), so callers follow it with a
 * snapshot create+remove.
 */
export async function setChangeTracking(
  client: VSphereClient,
  vm: MoRef,
  enabled: boolean,
  opts: OpOptions = {},
): Promise<void> {
  const task = await reconfigVmTask(client, vm, el('changeTrackingEnabled', enabled), {
    signal: opts.signal,
  });
  await waitForTask(client, task, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
}

export interface DiskArea {
  start: number;
  length: number;
}

/**
 * Every changed area of a disk, by paging QueryChangedDiskAreas from offset 0 to its capacity. A page
 * (DiskChangeInfo) covers [startOffset, startOffset + length) and may list no area at all when
 * nothing in that span changed ("Might be empty if no parts of the disk between startOffset and
 * startOffset + length were modified", vSphere API reference, DiskChangeInfo.changedArea): an empty
 * page is not the end of the disk, and the next query starts where it ends. A page that does not move
 * the offset forward would loop for ever and is an error instead.
 */
export async function queryChangedAreas(
  client: VSphereClient,
  vm: MoRef,
  q: { snapshot?: MoRef; deviceKey: number; changeId: string; capacityBytes: number },
  opts: OpOptions = {},
): Promise<{ areas: DiskArea[]; pages: number }> {
  const areas: DiskArea[] = [];
  let offset = 0;
  let pages = 0;
  while (offset < q.capacityBytes) {
    let page: XmlObject;
    try {
      page = (await queryChangedDiskAreas(
        client,
        vm,
        { snapshot: q.snapshot, deviceKey: q.deviceKey, startOffset: offset, changeId: q.changeId },
        { signal: opts.signal },
      )) as XmlObject;
    } catch (err) {
      if (q.changeId !== '*' && isFault(err, 'FileFault', 'InvalidArgument')) {
        throw new ChangeIdRejectedError(q.deviceKey, q.changeId, { cause: err });
      }
      throw err;
    }
    pages++;
    const start = Number(page.startOffset ?? offset);
    const length = Number(page.length ?? 0);
    let end = start + length;
    for (const a of arr<XmlObject>(page.changedArea)) {
      const s = Number(a.start);
      const l = Number(a.length);
      if (!Number.isFinite(s) || !Number.isFinite(l) || l <= 0) continue;
      areas.push({ start: s, length: l });
      end = Math.max(end, s + l);
    }
    if (!(end > offset)) {
      throw new V2oError(
        `QueryChangedDiskAreas for disk ${q.deviceKey} returned a page at ${start} (+${length}) that does not move past offset ${offset}`,
        { hint: 'a vSphere fault: retry the step; if it persists, take a full copy (migration: cold)' },
      );
    }
    offset = end;
  }
  return { areas, pages };
}
