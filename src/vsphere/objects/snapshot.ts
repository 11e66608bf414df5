// VM snapshots for warm copies: made without memory and without quiescing (a crash-consistent
// point, which is what a block copy of a running disk can be), and removed with consolidation.
import { isFault } from '../errors.js';
import { createSnapshotTask, removeSnapshotTask } from '../methods/virtual-machine.js';
import { snapshotsOf, toVmInfo, type VmDisk, type VmSnapshot } from '../model.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { retrieveOne } from './property.js';
import { waitForTask } from './task.js';
import type { OpOptions } from './vm.js';

/**
 * CreateSnapshot_Task and waits for it. Returns the snapshot and the disks of its own
 * config.hardware.device: the backings as they were frozen, each with the changeId at snapshot time
 * (vSphere API reference, VirtualMachineSnapshot.config; VirtualDiskFlatVer2BackingInfo.changeId:
 * "the change ID of the virtual disk for the corresponding snapshot or virtual machine"). The VM's
 * live backing moves on to a delta whose changeId changes with every guest write.
 */
export async function createSnapshot(
  client: VSphereClient,
  vm: MoRef,
  spec: { name: string; description: string },
  opts: OpOptions = {},
): Promise<{ snapshot: MoRef; disks: VmDisk[] }> {
  const task = await createSnapshotTask(
    client,
    vm,
    { ...spec, memory: false, quiesce: false },
    { signal: opts.signal },
  );
  const result = await waitForTask(client, task, {
    signal: opts.signal,
    timeoutMs: opts.timeoutMs ?? 30 * 60_000,
  });
  const snapshot = result as MoRef;
  return { snapshot, disks: await snapshotDisks(client, snapshot, opts) };
}

/** The disks of a snapshot's frozen config. */
export async function snapshotDisks(
  client: VSphereClient,
  snapshot: MoRef,
  opts: OpOptions = {},
): Promise<VmDisk[]> {
  const o = await retrieveOne(client, snapshot, ['config.hardware'], { signal: opts.signal });
  return toVmInfo(snapshot, { 'config.hardware': o.props['config.hardware'] }).disks;
}

/**
 * RemoveSnapshot_Task(removeChildren false, consolidate true) and waits. A snapshot that is gone
 * already (removed by an earlier attempt that crashed before journaling it) is fine.
 */
export async function removeSnapshot(
  client: VSphereClient,
  snapshot: MoRef,
  opts: OpOptions = {},
): Promise<void> {
  try {
    const task = await removeSnapshotTask(
      client,
      snapshot,
      { removeChildren: false, consolidate: true },
      { signal: opts.signal },
    );
    await waitForTask(client, task, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 60 * 60_000 });
  } catch (err) {
    if (isFault(err, 'ManagedObjectNotFound')) return;
    throw err;
  }
}

/** The VM's snapshot tree, flattened (parents before children). */
export async function listSnapshots(
  client: VSphereClient,
  vm: MoRef,
  opts: OpOptions = {},
): Promise<VmSnapshot[]> {
  const o = await retrieveOne(client, vm, ['snapshot'], { signal: opts.signal });
  return snapshotsOf(o.props.snapshot);
}
