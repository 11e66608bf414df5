// Glance properties of the boot image. They decide how Nova builds the instance, so each must
// match what was prepared in the guest: the disk bus is the one whose driver was made
// boot-critical, the firmware is what Windows was installed with.
import type { DiskBus } from './plan-file.js';
import type { WindowsVersion } from './windows-version.js';

export interface BootImageInput {
  windows: WindowsVersion;
  bus: DiskBus;
  firmware: 'bios' | 'efi';
  secureBoot: boolean;
  vtpm: boolean;
  vifModel: 'virtio' | 'e1000';
}

export function bootImageProperties(i: BootImageInput): Record<string, string> {
  const p: Record<string, string> = {
    os_type: 'windows',
    os_distro: 'windows',
    os_version: i.windows.osVersion,
    hw_disk_bus: i.bus,
    hw_vif_model: i.vifModel,
    // The guest agent is not installed by v2o; saying "yes" would make Nova wait for it on quiesce.
    hw_qemu_guest_agent: 'no',
    // Standard VGA works with the inbox Windows driver on BIOS and under OVMF.
    hw_video_model: 'vga',
  };
  if (i.bus === 'scsi') p.hw_scsi_model = 'virtio-scsi';
  if (i.firmware === 'efi') {
    p.hw_firmware_type = 'uefi';
    // OVMF (and secure boot) need the q35 machine type.
    p.hw_machine_type = 'q35';
  }
  if (i.secureBoot) p.os_secure_boot = 'required';
  if (i.vtpm) {
    // Windows 11 and BitLocker setups expect a TPM; its sealed secrets do not move with it.
    p.hw_tpm_version = '2.0';
    p.hw_tpm_model = 'tpm-crb';
  }
  return p;
}
