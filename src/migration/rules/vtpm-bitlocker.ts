// A virtual TPM does not move to OpenStack, and what was sealed to it (BitLocker keys, Windows
// Hello) stays behind; without a vTPM, secure-boot releases that encrypt by themselves are a risk.
import type { SourceVm } from '../inventory.js';
import { type Rule, warning } from './types.js';

// Windows releases that turn BitLocker (device encryption) on by themselves when a TPM is present.
const AUTO_BITLOCKER = /windows(11|12|2019srv|2022srv|2025srv)|Windows 11|Server 20(19|22|25)/i;

const autoEncrypts = (vm: SourceVm) =>
  vm.secureBoot && AUTO_BITLOCKER.test(`${vm.guestId} ${vm.guestFullName ?? ''}`);

export const vtpmBitlockerRule: Rule = {
  codes: ['vtpm-bitlocker', 'bitlocker-risk'],
  side: 'source',
  evaluate(vm, _settings, guest) {
    if (vm.vtpm && guest?.facts) {
      return [
        warning(
          'vtpm-bitlocker',
          'the VM has a virtual TPM: it does not move, and secrets sealed to it (Windows Hello, virtual smart cards, TPM-bound certificates) stay behind',
          'give the server a vTPM-capable flavor and image on OpenStack if the guest needs a TPM, and re-enrol what was sealed to the old one',
        ),
      ];
    }
    if (vm.vtpm) {
      return [
        warning(
          'vtpm-bitlocker',
          'the VM has a virtual TPM: it does not move, and secrets sealed to it (BitLocker keys, Windows Hello) stay behind',
          'suspend BitLocker in the guest (manage-bde -protectors -disable C: -RebootCount 2) and keep the recovery key at hand',
        ),
      ];
    }
    if (!autoEncrypts(vm) || guest?.facts) return [];
    return [
      warning(
        'bitlocker-risk',
        'BitLocker may be on (a Windows release that encrypts automatically); the migrated VM would ask for the recovery key',
        'check `manage-bde -status` in the guest; suspend BitLocker (manage-bde -protectors -disable C:) or have the recovery key ready',
      ),
    ];
  },
};
