// Lab plumbing for the transfer benchmark: a throwaway VM on the vSphere lab whose one disk is a
// benchmark VMDK placed on the datastore, so ExportVm streams it like vCenter streams any disk.
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { VSphereClient } from '../src/vsphere/objects/client.js';
import { type DatastoreFile, datastoreUpload } from '../src/vsphere/objects/datastore.js';
import { containerViewList } from '../src/vsphere/objects/property.js';
import { waitForTask } from '../src/vsphere/objects/task.js';
import { child, el, moref, raw, toMoRef } from '../src/vsphere/soap/xml.js';
import type { MoRef } from '../src/vsphere/types.js';

export interface LabPlaces {
  datacenter: string;
  datastore: string;
  /** The datastore's directory when it is on this machine (vcsim): disks are written there directly. */
  localDir?: string;
  vmFolder: MoRef;
  pool: MoRef;
}

export async function labPlaces(client: VSphereClient): Promise<LabPlaces> {
  const [dc] = await containerViewList(client, 'Datacenter', ['name', 'vmFolder']);
  const [ds] = await containerViewList(client, 'Datastore', ['name', 'summary.url']);
  const pools = await containerViewList(client, 'ResourcePool', ['name']);
  if (!dc || !ds || !pools[0]) throw new Error('lab: no datacenter, datastore or resource pool');
  const url = String(ds.props['summary.url'] ?? '');
  const localDir = url.startsWith('/') && existsSync(url) ? url : undefined;
  return {
    datacenter: String(dc.props.name),
    datastore: String(ds.props.name),
    localDir,
    vmFolder: dc.props.vmFolder as MoRef,
    pool: pools[0].obj,
  };
}

/** Puts a local file on the datastore (direct copy not needed when it was written there). */
export async function uploadToDatastore(
  client: VSphereClient,
  file: DatastoreFile,
  local: string,
): Promise<void> {
  const { size } = await stat(local);
  await datastoreUpload(client, file, createReadStream(local, { highWaterMark: 1 << 20 }), size);
}

/** A pure builder for CreateVM_Task: one LSI Logic controller and one disk backed by `diskPath`. */
export function toCreateVmBody(p: LabPlaces, name: string, diskPath: string, capacityBytes: number): string {
  const ds = (f: string) => `[${p.datastore}] ${f}`;
  const controller = raw(
    'deviceChange',
    el('operation', 'add') +
      raw(
        'device',
        el('key', 1000) +
          raw('deviceInfo', el('label', 'SCSI controller 0') + el('summary', 'LSI Logic'), 'Description') +
          el('controllerKey', 100) +
          el('unitNumber', 3) +
          el('busNumber', 0) +
          el('sharedBus', 'noSharing'),
        'VirtualLsiLogicController',
      ),
  );
  const disk = raw(
    'deviceChange',
    el('operation', 'add') +
      raw(
        'device',
        el('key', 2000) +
          raw('deviceInfo', el('label', 'Hard disk 1') + el('summary', 'benchmark disk'), 'Description') +
          raw(
            'backing',
            el('fileName', ds(diskPath)) + el('diskMode', 'persistent') + el('thinProvisioned', true),
            'VirtualDiskFlatVer2BackingInfo',
          ) +
          el('controllerKey', 1000) +
          el('unitNumber', 0) +
          el('capacityInKB', Math.ceil(capacityBytes / 1024)),
        'VirtualDisk',
      ),
  );
  const config =
    el('name', name) +
    el('guestId', 'otherGuest64') +
    raw('files', el('vmPathName', ds(`${name}/${name}.vmx`))) +
    el('numCPUs', 1) +
    el('memoryMB', 256) +
    controller +
    disk;
  return `<CreateVM_Task>${moref('_this', p.vmFolder)}${raw('config', config)}${moref('pool', p.pool)}</CreateVM_Task>`;
}

export async function createVm(client: VSphereClient, body: string): Promise<MoRef> {
  const res = await client.call('CreateVM_Task', body);
  const task = toMoRef(child(res, 'returnval'))!;
  const out = await waitForTask(client, task, { timeoutMs: 60_000 });
  return out as MoRef;
}

export async function destroyVm(client: VSphereClient, vm: MoRef): Promise<void> {
  const res = await client.call('Destroy_Task', `<Destroy_Task>${moref('_this', vm)}</Destroy_Task>`);
  await waitForTask(client, toMoRef(child(res, 'returnval'))!, { timeoutMs: 60_000 });
}
