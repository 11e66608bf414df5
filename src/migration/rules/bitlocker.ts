// BitLocker on a guest volume (Get-BitLockerVolume, protection On): its keys are sealed to this
// VM's TPM or protectors, so Windows on OpenStack would stop at the recovery screen. `bitlocker:
// suspend` lets v2o suspend protection (prepare-shutdown) until the operator resumes it.
import { blocker, guestRule, warning } from './types.js';

export const bitlockerRule = guestRule(['bitlocker', 'bitlocker-suspend'], (g, s) => {
  const on = g.bitlocker.filter((v) => v.protection === 'On').map((v) => v.mountPoint);
  if (on.length === 0) return [];
  const list = on.join(', ');
  if (s.bitlocker === 'suspend') {
    return [
      warning(
        'bitlocker-suspend',
        `BitLocker protects ${list}: v2o suspends protection (Suspend-BitLocker -RebootCount 0) just before shutdown and leaves it suspended after the move, so the disk opens without a key until you protect it again (a rollback resumes it on the source)`,
        `on OpenStack, protect the disk again: on a vTPM-capable flavor and image (hw:tpm_version=2.0 / hw_tpm_version) run Resume-BitLocker -MountPoint ${on[0]}, or add another protector first (manage-bde -protectors -add ${on[0]} -RecoveryPassword) and then resume`,
      ),
    ];
  }
  return [
    blocker(
      'bitlocker',
      `BitLocker protects ${list}: its keys are sealed to this VM (TPM or protectors), so Windows on OpenStack would stop at the recovery key prompt`,
      'set bitlocker: suspend (v2o suspends protection just before shutdown), or decrypt the volumes first (manage-bde -off C:)',
    ),
  ];
});
