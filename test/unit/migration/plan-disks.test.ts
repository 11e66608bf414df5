import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/migration/build-plan.js';
import type { SourceDisk } from '../../../src/migration/inventory.js';
import { planDisks } from '../../../src/migration/plan/plan-disks.js';
import { bios2019, config, efi2022, inventory } from './fixtures.js';

const GiB = 1024 ** 3;
const disk = (key: number, over: Partial<SourceDisk>): SourceDisk => ({
  ...bios2019().disks[0]!,
  key,
  label: `disk ${key}`,
  fileName: `[LocalDS_0] vm/disk-${key}.vmdk`,
  ...over,
});

describe('the boot disk', () => {
  it('is the one bootOptions.bootOrder names, even when its device key is not the lowest', () => {
    const vm = { ...efi2022(), bootDiskOrder: [2002] };
    const d = planDisks(vm);
    expect(d.boot!.key).toBe(2002);
    expect(d.ordered.map((x) => x.key)).toEqual([2002, 2000, 2001]);
    const p = buildPlan(inventory(vm), config());
    expect(p.disks.map((x) => [x.role, x.key, x.image.name])).toEqual([
      ['boot', 2002, 'v2o-win2022-db01-disk0'],
      ['data', 2000, 'v2o-win2022-db01-disk1'],
      ['data', 2001, 'v2o-win2022-db01-disk2'],
    ]);
    expect(p.disks[0]!.image.properties.os_type).toBe('windows');
    expect(p.disks[1]!.image.properties.os_type).toBeUndefined();
  });

  it('skips boot order entries for disks the VM does not have', () => {
    expect(planDisks({ ...efi2022(), bootDiskOrder: [9999, 2001] }).boot!.key).toBe(2001);
  });

  it('without a boot order: controller order, then unit — not the lowest device key', () => {
    const vm = {
      ...bios2019(),
      disks: [
        // Added later on SCSI 1: a lower key, but behind controller 0.
        disk(2000, { controllerKey: 1001, busNumber: 1, unitNumber: 0, capacityBytes: 100 * GiB }),
        disk(2005, { controllerKey: 1000, busNumber: 0, unitNumber: 1 }),
        disk(2010, { controllerKey: 1000, busNumber: 0, unitNumber: 0, capacityBytes: 60 * GiB }),
        // SATA 0 comes after every SCSI controller (keys 15000+).
        disk(1999, { controllerKey: 15000, busNumber: 0, unitNumber: 0 }),
      ],
    };
    const d = planDisks(vm);
    expect(d.ordered.map((x) => x.key)).toEqual([2010, 2005, 2000, 1999]);
    expect(d.bootGiB).toBe(60);
  });

  it('a VM without disks has no boot disk', () => {
    expect(planDisks({ ...bios2019(), disks: [] })).toEqual({ ordered: [], boot: undefined, bootGiB: 0 });
  });
});
