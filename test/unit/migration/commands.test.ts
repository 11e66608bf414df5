import { describe, expect, it } from 'vitest';
import { worstExitCode } from '../../../src/cli/commands/migrate.js';
import { renderVmPlan } from '../../../src/cli/commands/plan.js';
import { buildPlan } from '../../../src/migration/build-plan.js';
import { bios2019, config, inventory } from './fixtures.js';

describe('migrate exit code over several VMs', () => {
  it('is the worst outcome: interrupted > failed > waiting > ok', () => {
    expect(worstExitCode([0, 0])).toBe(0);
    expect(worstExitCode([0, 3])).toBe(3);
    expect(worstExitCode([3, 1, 0])).toBe(1);
    expect(worstExitCode([1, 130, 3])).toBe(130);
    expect(worstExitCode([])).toBe(0);
  });
});

describe('plan view', () => {
  it('shows every concrete value a person checks before migrating', () => {
    const p = buildPlan(inventory(bios2019()), config());
    const text = renderVmPlan(p, [
      { id: 'preflight', plan: { summary: 'check' } },
      { id: 'create-volumes', plan: { summary: 'none', skip: true } },
    ]);
    expect(text).toContain('win2019-app01: ready');
    expect(text).toContain(
      'Windows Server 2019 (virtio-win 2k19), bios, 2 vCPU, 4096 MiB, poweredOn, VMware Tools running',
    );
    expect(text).toContain('flavor     win.small (2 vCPU, 4096 MiB, 50 GiB disk; best match)');
    expect(text).toContain('→ image v2o-win2019-app01-disk0 (vmdk, min_disk 40 GiB)');
    expect(text).toContain('hw_disk_bus=virtio');
    // The controller as vSphere's UI names it, not its vim type.
    expect(text).toMatch(/disk0 .*, LSI Logic SAS\), boot/);
    expect(text).toContain(
      'port       v2o-win2019-app01-nic0: Network adapter 1 00:50:56:AA:BB:01 on "VM Network" → network lab-net, MAC kept',
    );
    expect(text).toContain(' 2. create-volumes: (skipped) none');
  });

  it('shows blockers with their fix', () => {
    const vm = bios2019();
    vm.snapshots = ['before patch'];
    // A snapshot blocks the datastore route (it reads the stale base disk); the lease only warns.
    const text = renderVmPlan(
      buildPlan(inventory(vm), config('    exportMethod: datastore\n    imageFormat: qcow2\n')),
      [],
    );
    expect(text).toContain('win2019-app01: BLOCKED');
    expect(text).toMatch(/BLOCKER: the VM has 1 snapshot\(s\).*\n\s+fix: delete or consolidate/);
  });
});
