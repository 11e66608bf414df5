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
  /** The first-boot task installs the QEMU guest agent (plan: guestAgent). */
  guestAgent: boolean;
}

export function bootImageProperties(i: BootImageInput): Record<string, string> {
  const p: Record<string, string> = {
    os_type: 'windows',
    os_distro: 'windows',
    os_version: i.windows.osVersion,
    hw_disk_bus: i.bus,
    hw_vif_model: i.vifModel,
    // "yes" gives the instance the virtio-serial channel the agent talks on; only when the first-boot
    // task installs it, as Nova waits for an agent that is not there on quiesce (snapshots).
    hw_qemu_guest_agent: i.guestAgent ? 'yes' : 'no',
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
