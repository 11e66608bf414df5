// Two VMs in one plan, migrated in parallel (concurrency.vms: 2), with the qemu-img routes:
// qcow2 for one, raw for the other (sata bus, EFI + secure boot Windows 11).
import { afterAll, describe, expect, it } from 'vitest';
import {
  hashFile,
  labDisks,
  NO_BOOT_CHECK,
  openTarget,
  resetVm,
  runIdOf,
  runResources,
  stepStates,
  tmpDir,
  v2o,
  volumeFile,
  writePlan,
} from './helpers.js';

const VMS = ['win2012r2-legacy01', 'win11-desk01'];
let state = '';
let runIds: string[] = [];
afterAll(async () => {
  for (const id of runIds) {
    const r = await v2o(state, ['cancel', id, '--rollback']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  for (const vm of VMS) await resetVm(vm);
});

describe('a plan with two VMs', () => {
  it('migrates both at once, converting to qcow2 and raw', async () => {
    for (const vm of VMS) await resetVm(vm);
    state = tmpDir('parallel');
    const plan = writePlan(
      state,
      {
        [VMS[0]!]: `    imageFormat: qcow2\n${NO_BOOT_CHECK}`,
        [VMS[1]!]: `    imageFormat: raw\n    diskBus: sata\n    uploadHashes: [md5, sha256, sha512]\n${NO_BOOT_CHECK}`,
      },
      'concurrency: { vms: 2 }\n',
    );
    const r = await v2o(state, ['migrate', plan]);
    runIds = [...(r.stdout + r.stderr).matchAll(/\] run (r-[0-9a-z]{8}) succeeded/g)].map((m) => m[1]!);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(runIds).toHaveLength(2);
    // Interleaved lines prove they ran side by side.
    expect(r.stdout).toMatch(
      /\[win2012r2-legacy01\][^\n]*\n\[win11-desk01\]|\[win11-desk01\][^\n]*\n\[win2012r2-legacy01\]/,
    );

    const t = await openTarget();
    try {
      const byVm: Record<string, Awaited<ReturnType<typeof runResources>>> = {};
      for (const id of runIds) {
        const res = await runResources(t, id);
        byVm[res.images[0]!.name.includes('legacy') ? VMS[0]! : VMS[1]!] = res;
        expect(res.servers.map((s) => s.status)).toEqual(['ACTIVE']);
      }
      const legacy = byVm[VMS[0]!]!.images[0]!;
      const desk = byVm[VMS[1]!]!.images[0]!;
      expect(legacy.properties).toMatchObject({ os_version: '2012r2', hw_disk_bus: 'virtio' });
      expect(desk.properties).toMatchObject({
        os_version: '11',
        hw_disk_bus: 'sata',
        hw_firmware_type: 'uefi',
        os_secure_boot: 'required',
      });
      // raw: the image is the guest-visible disk, byte for byte.
      expect(desk.size).toBe(labDisks(VMS[1]!)[0]!.capacityBytes);
    } finally {
      await t.close();
    }
    for (const id of runIds) {
      const st = await v2o(state, ['status', id, '--json']);
      const view = JSON.parse(st.stdout) as {
        run: { subject: string };
        steps: {
          stepId: string;
          output?: {
            images?: { hashes: Record<string, string>; osHashAlgo?: string; osHashValue?: string }[];
          };
        }[];
      };
      expect(Object.values(stepStates(st.stdout)).every((s) => s === 'succeeded' || s === 'skipped')).toBe(
        true,
      );
      const img = view.steps.find((s) => s.stepId === 'upload-images')!.output!.images![0]!;
      if (view.run.subject === VMS[1]) {
        // This VM's plan asks for all three hashes: sha256 is the raw disk's, sha512 is Glance's os_hash.
        expect(Object.keys(img.hashes).sort()).toEqual(['md5', 'sha256', 'sha512']);
        expect(img.hashes.sha256).toBe(labDisks(VMS[1]!)[0]!.rawSha256);
        expect(img.osHashAlgo).toBe('sha512');
        expect(img.hashes.sha512).toBe(img.osHashValue);
      } else {
        expect(Object.keys(img.hashes)).toEqual(['md5']);
      }
    }
  });

  it('the datastore route (no export lease) reads sparse and flat VMDKs and converts them: same bytes in Cinder', async () => {
    const vm = 'win2022-db01';
    await resetVm(vm);
    const dir = tmpDir('datastore');
    const plan = writePlan(dir, {
      [vm]: `    exportMethod: datastore\n    imageFormat: qcow2\n${NO_BOOT_CHECK}`,
    });
    const r = await v2o(dir, ['migrate', plan, '--vm', vm]);
    const id = runIdOf(r.stdout + r.stderr);
    try {
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const t = await openTarget();
      try {
        const res = await runResources(t, id);
        expect(res.images.map((i) => i.name)).toEqual(['v2o-win2022-db01-disk0']);
        const disks = labDisks(vm);
        // Disk 2 is monolithicSparse, disk 3 a flat descriptor + extent: both land as the guest's bytes.
        for (const v of res.volumes) {
          const d = disks[Number(v.name.slice(-1))]!;
          expect(await hashFile(volumeFile(v.id), 'sha256', d.capacityBytes), v.name).toBe(d.rawSha256);
        }
        expect(res.volumes).toHaveLength(2);
      } finally {
        await t.close();
      }
    } finally {
      const rb = await v2o(dir, ['cancel', id, '--rollback']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      await resetVm(vm);
    }
  });
});
