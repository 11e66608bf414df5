// Secure boot carries over only where the cloud's compute hosts offer it (OVMF with SB keys, q35).
import { type Rule, warning } from './types.js';

export const secureBootRule: Rule = {
  codes: ['secure-boot'],
  side: 'source',
  evaluate: (vm) =>
    vm.firmware === 'efi' && vm.secureBoot
      ? [
          warning(
            'secure-boot',
            'secure boot is on: the target compute hosts must offer UEFI secure boot (OVMF with SB, q35)',
            'check that the cloud supports os_secure_boot=required, or turn secure boot off in the source first',
          ),
        ]
      : [],
};
