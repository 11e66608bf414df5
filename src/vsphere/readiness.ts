// Migration readiness of a VM: pure rules over the VM model, shared by `v2o inventory` and the
// migration preflight. Blockers stop a migration (exit 2); warnings need a person's attention.
// Every issue says what to do about it (`fix`).
import type { VmInfo } from './model.js';

export interface ReadinessIssue {
  /** Stable identifier, e.g. `vsphere.not-windows`. */
  code: string;
  message: string;
  fix: string;
}

export interface Readiness {
  blockers: ReadinessIssue[];
  warnings: ReadinessIssue[];
}

export function isWindows(vm: Pick<VmInfo, 'guestId' | 'guestFullName' | 'guestRunning'>): boolean {
  const ids = [vm.guestId, vm.guestRunning?.guestId].filter(Boolean) as string[];
  if (ids.some((id) => /^win/i.test(id))) return true;
  const names = [vm.guestFullName, vm.guestRunning?.fullName].filter(Boolean) as string[];
  return names.some((n) => /windows/i.test(n));
}

// Windows releases that turn BitLocker (device encryption) on by themselves when a TPM is present.
const AUTO_BITLOCKER = /windows(11|12|2019srv|2022srv|2025srv)|Windows 11|Server 20(19|22|25)/i;

export function assessReadiness(vm: VmInfo): Readiness {
  const blockers: ReadinessIssue[] = [];
  const warnings: ReadinessIssue[] = [];
  const block = (code: string, message: string, fix: string) => blockers.push({ code, message, fix });
  const warn = (code: string, message: string, fix: string) => warnings.push({ code, message, fix });

  if (vm.template)
    block(
      'vsphere.template',
      `${vm.name} is a template`,
      'deploy a VM from the template and migrate that VM',
    );
  if (!isWindows(vm)) {
    block(
      'vsphere.not-windows',
      `guest OS is ${vm.guestFullName || vm.guestId || 'unknown'}, not Windows`,
      'v2o migrates Windows guests only; migrate this VM with a tool for its OS, or correct the guest OS setting in vSphere',
    );
  }
  if (vm.encrypted)
    block(
      'vsphere.encrypted',
      'the VM is encrypted by vSphere (VM encryption)',
      'decrypt the VM in vSphere before migrating',
    );
  const disks = vm.disks;
  if (disks.length === 0)
    block('vsphere.no-disks', 'the VM has no virtual disks', 'attach the system disk, or pick the right VM');
  for (const d of disks) {
    const name = `${d.label || `disk ${d.key}`} (${d.fileName})`;
    if (d.rdm) {
      block(
        'vsphere.rdm-disk',
        `${name} is a raw device mapping (${d.rdm.compatibilityMode}); it cannot be exported`,
        "migrate the LUN's data separately, or Storage vMotion it to a virtual disk (virtual-mode RDM) first",
      );
    }
    if (
      d.sharing === 'sharingMultiWriter' ||
      (d.controllerSharedBus && d.controllerSharedBus !== 'noSharing')
    ) {
      block(
        'vsphere.shared-disk',
        `${name} is shared (multi-writer or a shared SCSI bus)`,
        'remove the sharing (cluster disks are not migrated), then retry',
      );
    }
    if (d.diskMode === 'independent_nonpersistent') {
      block(
        'vsphere.independent-nonpersistent',
        `${name} is independent-nonpersistent: its changes vanish at power-off`,
        'change the disk mode to persistent, then retry',
      );
    } else if (d.independent) {
      warn(
        'vsphere.independent-disk',
        `${name} is independent (${d.diskMode}); snapshots do not cover it`,
        'nothing to do for export; note that it is not in snapshots',
      );
    }
  }
  if (vm.tools.status === 'toolsNotInstalled') {
    block(
      'vsphere.tools-not-installed',
      'VMware Tools are not installed',
      'install VMware Tools in the guest: v2o uses them to shut down and to install the virtio drivers',
    );
  } else if (vm.tools.runningStatus !== 'guestToolsRunning') {
    warn(
      'vsphere.tools-not-running',
      `VMware Tools are not running (${vm.tools.runningStatus ?? 'unknown'}, VM ${vm.powerState})`,
      'power the VM on and make sure VMware Tools run: drivers are installed through them',
    );
  }
  if (vm.snapshots.length) {
    warn(
      'vsphere.snapshots',
      `the VM has ${vm.snapshots.length} snapshot(s) (${vm.snapshots.map((s) => s.name).join(', ')})`,
      'delete or consolidate the snapshots first; the export takes the current state only',
    );
  }
  if (vm.vtpm) {
    warn(
      'vsphere.vtpm',
      'the VM has a virtual TPM, which does not move to OpenStack',
      'check what uses the TPM (BitLocker, Windows Hello, credentials) before migrating',
    );
  }
  if (vm.vtpm || (vm.secureBoot && AUTO_BITLOCKER.test(`${vm.guestId ?? ''} ${vm.guestFullName ?? ''}`))) {
    warn(
      'vsphere.bitlocker-risk',
      'BitLocker may be on (TPM present or a Windows release that encrypts automatically); the migrated VM will ask for the recovery key',
      'check `manage-bde -status` in the guest; suspend BitLocker (`manage-bde -protectors -disable C:`) or have the recovery key ready',
    );
  }
  if (vm.firmware === 'efi' && vm.secureBoot) {
    warn(
      'vsphere.secure-boot',
      'UEFI secure boot is on',
      'the target image needs UEFI with secure boot (hw_firmware_type=uefi, os_secure_boot=required) or boot will fail',
    );
  }
  if (vm.powerState === 'suspended')
    block('vsphere.suspended', 'the VM is suspended', 'resume and shut the VM down cleanly first');
  if (vm.nics.length === 0)
    warn(
      'vsphere.no-nics',
      'the VM has no network adapters',
      'the migrated server will have no network unless the plan adds ports',
    );
  return { blockers, warnings };
}
