// The warm and volume-copy errors a person can act on, each with its fix; and the recognition of
// the clients' errors by name (C's ChangeIdRejectedError, DeviceNotFoundError), so this layer
// does not depend on their modules' internals.
import { NonRetryableError } from '../../errors.js';
import { isFault } from '../../vsphere/errors.js';

/** CBT cannot be turned on (hardware version, snapshots in the way, vCenter refused). */
export class ChangeTrackingError extends NonRetryableError {}
/** The conversion host is not in the target cloud, or has no room for the volumes. */
export class ConversionHostError extends NonRetryableError {}
/** A snapshot could not be made (datastore full). */
export class SnapshotError extends NonRetryableError {}
/** The project's volume quota, or the host's attachment limit, is reached. */
export class VolumeLimitError extends NonRetryableError {}

/** An error (or a cause of it) named `name`: the clients' classes, matched without importing them. */
export function namedError(err: unknown, name: string): (Error & Record<string, unknown>) | undefined {
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    if (e instanceof Error && e.name === name) return e as Error & Record<string, unknown>;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** CreateSnapshot_Task's faults turned into what to do (vSphere API reference: NoDiskSpace, FileFault). */
export function snapshotFailed(err: unknown, vm: string, runId: string): Error {
  if (isFault(err, 'NoDiskSpace', 'InsufficientDisk')) {
    return new SnapshotError(`a snapshot of ${vm} cannot be created: its datastore is full (NoDiskSpace)`, {
      cause: err,
      hint: `free space on the VM's datastore (a snapshot's delta grows with the guest's writes until it is removed), then \`v2o resume ${runId}\``,
    });
  }
  return err as Error;
}

/** Cinder's 413 (VolumeLimitExceeded, gigabytes) or Nova's TooManyDiskDevices → the limit and its fix. */
export function volumeLimit(err: unknown, what: string, host: string): Error {
  const msg = (err as Error)?.message ?? String(err);
  if (/VolumeLimitExceeded|VolumeSizeExceedsAvailableQuota|quota/i.test(msg)) {
    return new VolumeLimitError(`the volume quota is reached creating ${what}: ${msg}`, {
      cause: err,
      hint: 'ask the cloud admin to raise the project’s volumes/gigabytes quota (openstack quota show), or delete unused volumes',
    });
  }
  if (/TooManyDiskDevices|maximum allowed number of disk devices|max_disk_devices_to_attach/i.test(msg)) {
    return new VolumeLimitError(
      `the attachment limit of conversion host ${host} is reached attaching ${what}`,
      {
        cause: err,
        hint: `detach volumes from ${host} or migrate fewer disks at once (Nova [compute] max_disk_devices_to_attach, [libvirt] num_pcie_ports), and lower conversionHost.attachmentSlots to match`,
      },
    );
  }
  return err as Error;
}
