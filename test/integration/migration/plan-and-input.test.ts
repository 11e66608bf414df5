// `v2o plan` is read-only: the journal, vcsim and OpenStack look the same before and after.
// Blocked plans exit 2 with a fix; bad plan files name the line.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestState, labVm, openTarget, resetVm, tmpDir, v2o, writePlan } from './helpers.js';

/**
 * What a migration of `vm` would create: anything named after it in the demo project. The lab is
 * shared with other test runs, so the comparison stays with what this VM's plan could touch.
 */
async function openstackSnapshot(vm: string) {
  const t = await openTarget();
  try {
    const mine = (n: string) => n.includes(vm);
    const [images, volumes, ports, servers] = await Promise.all([
      t.listImageNames(),
      t.findVolumesByMetadata({}),
      t.cloud.network.get<{ ports: { id: string; name: string }[] }>(t.cloud.network.url('ports')),
      t.findServersByTag([]),
    ]);
    return {
      images: images.filter(mine).sort(),
      volumes: volumes
        .filter((v) => mine(v.name))
        .map((v) => `${v.id}:${v.status}`)
        .sort(),
      ports: ports.ports
        .filter((p) => mine(p.name))
        .map((p) => p.id)
        .sort(),
      servers: servers
        .filter((x) => mine(x.name))
        .map((x) => `${x.id}:${x.status}`)
        .sort(),
    };
  } finally {
    await t.close();
  }
}

describe('v2o plan', () => {
  it('changes nothing: no journal, same VMs and guest, same OpenStack resources; exit 0 when ready', async () => {
    const vm = 'win2012r2-legacy01';
    await resetVm(vm);
    const state = tmpDir('plan');
    const plan = writePlan(state, { [vm]: '' });
    const before = { vm: await labVm(vm), guest: await guestState(vm), os: await openstackSnapshot(vm) };
    const r = await v2o(state, ['plan', plan, '--vm', vm]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Concrete values, per step.
    expect(r.stdout).toContain('→ image v2o-win2012r2-legacy01-disk0 (vmdk');
    expect(r.stdout).toContain('os_version=2012r2');
    expect(r.stdout).toContain('hw_disk_bus=virtio');
    expect(r.stdout).toContain('viostor\\2k12R2\\amd64');
    // The NIC, the adapter Windows shows for it (captured in the guest), and where its port goes.
    expect(r.stdout).toContain(
      '00:50:56:a1:12:01, guest adapter "Ethernet0" on "VM Network" → network lab-net, MAC kept',
    );
    expect(r.stdout).toMatch(/ 18\. upload-images: /);
    expect(r.stdout).toMatch(
      / 22\. verify-boot: wait up to 900 s for the first-boot report .*virtio, then sata/,
    );
    const after = { vm: await labVm(vm), guest: await guestState(vm), os: await openstackSnapshot(vm) };
    expect(after.vm).toEqual(before.vm);
    expect(after.guest.cdDrives).toEqual(before.guest.cdDrives);
    // The only programs it ran: the read-only capture (one PowerShell) and the removal of its folder.
    const ran = ((after.guest.history ?? []) as { program: string; args: string }[]).slice(
      ((before.guest.history ?? []) as unknown[]).length,
    );
    expect(
      ran.map((h) => `${h.program.split('\\').pop()} ${h.args.split(' ').slice(0, 3).join(' ')}`),
    ).toEqual([
      'powershell.exe -NoProfile -NonInteractive -EncodedCommand',
      expect.stringMatching(/^cmd\.exe \/c rmdir \/S/i),
    ]);
    expect(after.guest.files).toEqual(before.guest.files);
    expect(after.guest.registry).toEqual(before.guest.registry);
    expect(after.guest.tasks).toEqual(before.guest.tasks);
    expect(after.guest.drivers).toEqual(before.guest.drivers);
    expect(after.os).toEqual(before.os);
    // No journal, no run logs.
    expect(existsSync(join(state, 'journal.db'))).toBe(false);
    expect(readdirSync(state).sort()).toEqual(['plan.yaml']);

    const j = await v2o(state, ['plan', plan, '--vm', vm, '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.ready).toBe(true);
    expect(doc.vms[0].plan.disks[0].image.properties.os_type).toBe('windows');
    expect(doc.vms[0].steps.map((s: { id: string }) => s.id)).toHaveLength(23);
  });

  it('exits 2 for a blocked plan (a VM with a snapshot), naming the fix, and migrate starts nothing', async () => {
    const state = tmpDir('blocked');
    // The datastore route reads the base disk, stale under a snapshot: a blocker (the lease only warns).
    const plan = writePlan(state, {
      'win2016-snap01': '    exportMethod: datastore\n    imageFormat: qcow2\n',
    });
    const r = await v2o(state, ['plan', plan]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/BLOCKER: the VM has \d+ snapshot/);
    expect(r.stdout).toContain('govc snapshot.remove');
    const m = await v2o(state, ['migrate', plan]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('the plan is blocked; nothing was started');
    expect(existsSync(join(state, 'journal.db'))).toBe(false);
  });

  it('names the line and field of a bad plan file, exit 2', async () => {
    const state = tmpDir('badplan');
    const file = join(state, 'plan.yaml');
    writeFileSync(
      file,
      'version: 1\nsource: {}\ntarget: { cloud: v2o-lab }\nvms:\n  - name: win2019-app01\n    diskBus: ide\n    flavour: big\n',
    );
    for (const cmd of ['plan', 'migrate']) {
      const r = await v2o(state, [cmd, file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${file}:6: vms[0].diskBus: must be one of "virtio", "scsi", "sata"`);
      expect(r.stderr).toContain(`${file}:7: vms[0].flavour: unknown field \`flavour\``);
    }
  });
});
