// Test kit for warm migrations: the vSphere lab's disk hooks (guest writes, CBT reset, grow, the
// content the guest sees), the plan lines of a warm run, and what status says about its passes.

import { expect } from 'vitest';
import { vsphereConfigFromEnv } from '../../../src/vsphere/config.js';
import { connect } from '../../../src/vsphere/objects/client.js';
import { findVmByName, getVm } from '../../../src/vsphere/objects/vm.js';
import { hashFile, hook, migrationEnv, openTarget, resetVm, runResources, volumeFile } from './helpers.js';

const MiB = 1024 * 1024;

/** Plan lines for a warm run through the lab's conversion host; passes as soon as resumed. */
export function warmPlanLines(o: { interval?: number; maxPasses?: number; cold?: boolean } = {}): string {
  const env = migrationEnv();
  return [
    `    migration: ${o.cold ? 'cold' : 'warm'}`,
    ...(o.cold ? ['    bootFromVolume: true'] : []),
    `    warm: { passIntervalMinutes: ${o.interval ?? 0}, maxPasses: ${o.maxPasses ?? 10} }`,
    `    conversionHost: { server: auto, metadataUrl: "${env.V2O_LAB_METADATA_URL}", deviceDir: "${env.V2O_LAB_CONVERSION_DEVICE_DIR}" }`,
    '    bootTimeoutSeconds: 60',
    '',
  ].join('\n');
}

/** The VM as seeded, its flat disks' bytes and size too (the lab's /disk/restore). */
export async function resetWarmVm(vm: string): Promise<void> {
  await resetVm(vm);
  await hook('/disk/restore', 'POST', { vm });
}

/** The running guest writes `lengthMiB` of seeded noise at `offsetMiB` of disk `disk`. */
export async function guestWrites(
  vm: string,
  disk: number,
  writes: { offsetMiB: number; lengthMiB: number; seed: string }[],
): Promise<void> {
  await hook('/disk/write', 'POST', {
    vm,
    disk,
    writes: writes.map((w) => ({ offset: w.offsetMiB * MiB, length: w.lengthMiB * MiB, seed: w.seed })),
  });
}

export async function diskContent(vm: string, disk: number): Promise<{ sha256: string; sizeBytes: number }> {
  return (await hook(`/disk/content?vm=${encodeURIComponent(vm)}&disk=${disk}`, 'GET')) as {
    sha256: string;
    sizeBytes: number;
  };
}

/** The first `sizeBytes` of a lab Cinder volume's file hashed (volumes are whole GiB). */
export function volumeSha256(volumeId: string, sizeBytes: number): Promise<string> {
  return hashFile(volumeFile(volumeId), 'sha256', sizeBytes);
}

/** CBT state and snapshots of a lab VM, read as v2o reads them. */
export async function vmCbt(
  vm: string,
): Promise<{ enabled: boolean; snapshots: string[]; powerState: string }> {
  const client = await connect(await vsphereConfigFromEnv(migrationEnv()));
  try {
    const info = await getVm(client, await findVmByName(client, vm));
    return {
      enabled: info.cbtEnabled === true,
      snapshots: info.snapshots.map((s) => s.name),
      powerState: info.powerState,
    };
  } finally {
    await client.close();
  }
}

export interface CopyPass {
  pass: number;
  kind: 'base' | 'precopy' | 'final' | 'cold';
  bytes: number;
  bytesRead: number;
  seconds: number;
  disks: { key: number; label: string; bytes: number; changeId?: string; fullCopy?: string }[];
}

/** The run's copy passes (the copy.pass events) from `v2o status --json`. */
export function copyPasses(statusJson: string): CopyPass[] {
  const view = JSON.parse(statusJson) as { copyPasses?: CopyPass[] };
  return view.copyPasses ?? [];
}

/**
 * The run ended as one server on one volume per disk, no image, each volume detached from the
 * conversion host and holding exactly the bytes its source disk had when the guest was shut down.
 */
export async function expectVolumesAreTheSource(runId: string, vm: string, disks: number): Promise<void> {
  const { volumes, servers, images } = await runResources(await openTarget(), runId);
  expect(volumes).toHaveLength(disks);
  expect(servers).toHaveLength(1);
  expect(images).toHaveLength(0);
  for (const v of volumes) {
    const disk = Number(v.metadata.v2o_disk);
    const src = await diskContent(vm, disk);
    expect(await volumeSha256(v.id, src.sizeBytes), `disk ${disk} (volume ${v.id})`).toBe(src.sha256);
    expect(v.attachedServerIds).toEqual([servers[0]!.id]);
  }
}
