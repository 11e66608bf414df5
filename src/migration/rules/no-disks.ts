// Nothing to migrate without a virtual disk.
import { blocker, type Rule } from './types.js';

export const noDisksRule: Rule = {
  codes: ['no-disks'],
  side: 'source',
  evaluate: (vm) =>
    vm.disks.length === 0
      ? [
          blocker(
            'no-disks',
            'the VM has no virtual disks',
            'attach the system disk, or remove the VM from the plan',
          ),
        ]
      : [],
};
