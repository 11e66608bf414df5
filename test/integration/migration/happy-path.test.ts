// The whole migration against both labs: a BIOS VM with one disk, and an EFI + secure boot VM
// with three disks (boot image + two data volumes). Checks what really landed in Glance, Cinder,
// Neutron and Nova, and that the bytes are the source disks' bytes.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hashFile,
  labDisks,
  labVm,
  openTarget,
  resetVm,
  rollbackRuns,
  runIdOf,
  runResources,
  type StartedRun,
  stepOutput,
  stepStates,
  tmpDir,
  v2o,
  volumeFile,
  writePlan,
} from './helpers.js';

const cleanup: StartedRun[] = [];
// Leave the labs as found: delete what the runs created, power the VMs back on.
afterAll(() => rollbackRuns(cleanup));

describe('migrate (happy path)', () => {
  it('BIOS VM win2019-app01: Windows image properties, server ACTIVE with the kept MAC, same bytes', async () => {
    const vm = 'win2019-app01';
    await resetVm(vm);
    const state = tmpDir('bios');
    // The lab's Nova boots a prepared lab disk at once: a minute is plenty, and bounds a failure.
    const plan = writePlan(state, { [vm]: '    bootTimeoutSeconds: 60\n' });
    const r = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const st = await v2o(state, ['status', runId, '--json']);
    expect(Object.values(stepStates(st.stdout)).every((s) => s === 'succeeded' || s === 'skipped')).toBe(
      true,
    );
    // Windows itself said it came up, on the planned bus, from this run's server.
    const boot = stepOutput<{
      outcome: string;
      bus: string;
      serverId: string;
      marker: { runId: string; uuid: string };
    }>(st.stdout, 'verify-boot');
    expect(boot).toMatchObject({ outcome: 'booted', bus: 'virtio' });
    expect(boot!.marker).toMatchObject({ runId, uuid: boot!.serverId });

    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      expect(res.images).toHaveLength(1);
      expect(res.volumes).toHaveLength(0);
      expect(res.servers).toHaveLength(1);
      expect(res.ports).toHaveLength(1);
      const img = res.images[0]!;
      expect(img.name).toBe('v2o-win2019-app01-disk0');
      expect(img.status).toBe('active');
      expect(img.tags).toEqual(expect.arrayContaining(['v2o', `v2o-run-${runId}`]));
      expect(img.properties).toMatchObject({
        os_type: 'windows',
        os_distro: 'windows',
        os_version: '2019',
        hw_disk_bus: 'virtio',
        hw_vif_model: 'virtio',
        hw_qemu_guest_agent: 'yes', // guestAgent: true (default): installed by the first-boot task
        hw_video_model: 'vga',
      });
      expect(img.properties.hw_firmware_type).toBeUndefined();
      expect(img.properties.os_secure_boot).toBeUndefined();
      // Glance's own sha512 of the data equals the source disk's exported bytes.
      const disk = labDisks(vm)[0]!;
      expect(img.osHashValue).toBe(await hashFile(disk.export.localPath, 'sha512'));
      expect(res.ports[0]!.macAddress).toBe('00:50:56:a1:19:01');
      expect(res.servers[0]!.status).toBe('ACTIVE');
    } finally {
      await t.close();
    }
    expect((await labVm(vm)).powerState).toBe('poweredOff');

    // cancel --rollback: everything of the run deleted (found by its tags), the source powered on again.
    const rb = await v2o(state, ['cancel', runId, '--rollback']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    cleanup.splice(
      cleanup.findIndex((c) => c.runId === runId),
      1,
    );
    const t2 = await openTarget();
    try {
      const left = await runResources(t2, runId);
      expect([left.images, left.volumes, left.ports, left.servers].map((x) => x.length)).toEqual([
        0, 0, 0, 0,
      ]);
    } finally {
      await t2.close();
    }
    expect((await labVm(vm)).powerState).toBe('poweredOn');
  });

  it('EFI + secure boot VM win2022-db01 with three disks: uefi/q35/secure boot, data disks as volumes', async () => {
    const vm = 'win2022-db01';
    await resetVm(vm);
    const state = tmpDir('efi');
    const plan = writePlan(state, { [vm]: '    diskBus: scsi\n    bootTimeoutSeconds: 60\n' });
    const r = await v2o(state, ['migrate', plan, '--vm', vm]);
    const runId = runIdOf(r.stdout + r.stderr);
    cleanup.push({ state, runId, vm });
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const t = await openTarget();
    try {
      const res = await runResources(t, runId);
      expect(res.images.map((i) => i.name)).toEqual(['v2o-win2022-db01-disk0']);
      expect(res.images[0]!.properties).toMatchObject({
        os_version: '2022',
        hw_disk_bus: 'scsi',
        hw_scsi_model: 'virtio-scsi',
        hw_firmware_type: 'uefi',
        hw_machine_type: 'q35',
        os_secure_boot: 'required',
      });
      const disks = labDisks(vm);
      expect(res.images[0]!.osHashValue).toBe(await hashFile(disks[0]!.export.localPath, 'sha512'));
      // Each data disk is one Cinder volume whose raw bytes are the source disk's content.
      const vols = res.volumes.sort((a, b) => a.name.localeCompare(b.name));
      expect(vols.map((v) => [v.name, v.status])).toEqual([
        ['v2o-win2022-db01-vol1', 'in-use'],
        ['v2o-win2022-db01-vol2', 'in-use'],
      ]);
      for (const [i, v] of vols.entries()) {
        const d = disks[i + 1]!;
        const file = volumeFile(v.id);
        expect(existsSync(file), file).toBe(true);
        expect(await hashFile(file, 'sha256', d.capacityBytes)).toBe(d.rawSha256);
      }
      expect(res.ports.map((p) => p.macAddress).sort()).toEqual(['00:50:56:a1:22:01', '00:50:56:a1:22:02']);
      expect(res.servers.map((s) => s.status)).toEqual(['ACTIVE']);
    } finally {
      await t.close();
    }
    const st = await v2o(state, ['status', runId, '--json']);
    expect(stepOutput(st.stdout, 'verify-boot')).toMatchObject({ outcome: 'booted', bus: 'scsi' });
    expect((await labVm(vm)).powerState).toBe('poweredOff');
  });
});
