// vSphere VM encryption: the exported disks would be ciphertext the target cannot read.
import { blocker, type Rule } from './types.js';

export const encryptedRule: Rule = {
  codes: ['encrypted'],
  side: 'source',
  evaluate: (vm) =>
    vm.encrypted
      ? [
          blocker(
            'encrypted',
            'the VM is encrypted by vSphere (VM encryption)',
            'decrypt the VM in vSphere before migrating',
          ),
        ]
      : [],
};
