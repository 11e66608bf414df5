// The plan file's settings that the steps act on and that buildPlan does not already turn into
// plan values (image formats, driver mode, ISO and source-after are in the plan itself). Fixed when
// the run is made and stored with its plan, so a resumed run keeps them whatever the plan file
// says by then. Pure; the lead folds it into the planner chain (src/migration/plan/).
import type {
  BitlockerMode,
  BootCheck,
  BootFallback,
  ClockMode,
  ConversionHostSettings,
  DomainControllerMode,
  MigrationKind,
  UploadHash,
  VmMigrationConfig,
  WarmSettings,
} from './plan-file.js';

export interface PlanSettings {
  /** How the disks leave vSphere: the export lease, or the VMDK files on their datastore. */
  exportMethod: 'lease' | 'datastore';
  /** Hashed during the upload and compared with what Glance stored; [] checks the size only. */
  uploadHashes: UploadHash[];
  /** A disk copy with no bytes moving for this long is reopened (source) or retried (upload). */
  transferStallSeconds: number;
  /** Where qcow2/raw conversions are staged; unset: <state dir>/staging/<run>. */
  stagingDir?: string;
  /** The names of the environment variables holding the guest administrator: never the values. */
  guestCredentials: { usernameEnv: string; passwordEnv: string };
  /** `marker`: the run succeeds only on the guest's own first-boot report; `none`: on ACTIVE. */
  bootCheck: BootCheck;
  /** What verify-boot does when no report comes: re-create the server on SATA, or fail. */
  bootFallback: BootFallback;
  /** How long each server may take to report its first boot. */
  bootTimeoutSeconds: number;
  /** The QEMU guest agent's MSI is copied before shutdown and installed at first boot (vioserial staged). */
  guestAgent: boolean;
  /** The first-boot task uninstalls VMware Tools on OpenStack. */
  removeVmwareTools: boolean;
  /** `suspend`: prepare-shutdown suspends BitLocker on protected volumes (-RebootCount 0). */
  bitlocker: BitlockerMode;
  /** `allow`: a domain controller migrates; a rollback once the target booted needs --force. */
  domainController: DomainControllerMode;
  /** `localtime`: prepare-shutdown clears RealTimeIsUniversal; `utc`: it is kept. */
  clock: ClockMode;
  /** `warm`: CBT passes while the VM runs, then the cutover; `cold`: shut down first. */
  migration: MigrationKind;
  /** The precopy passes' interval and limit, and the cutover time when the plan sets one. */
  warm: WarmSettings;
  /** The server the volumes are attached to while v2o writes them; unset: no volume route. */
  conversionHost?: ConversionHostSettings;
}

export function planSettings(cfg: VmMigrationConfig): PlanSettings {
  return {
    exportMethod: cfg.exportMethod,
    uploadHashes: [...cfg.uploadHashes],
    transferStallSeconds: cfg.transferStallSeconds,
    ...(cfg.stagingDir === undefined ? {} : { stagingDir: cfg.stagingDir }),
    guestCredentials: { ...cfg.guestCredentials },
    bootCheck: cfg.bootCheck,
    bootFallback: cfg.bootFallback,
    bootTimeoutSeconds: cfg.bootTimeoutSeconds,
    guestAgent: cfg.guestAgent,
    removeVmwareTools: cfg.removeVmwareTools,
    bitlocker: cfg.bitlocker,
    domainController: cfg.domainController,
    clock: cfg.clock,
    migration: cfg.migration,
    warm: { ...cfg.warm },
    ...(cfg.conversionHost ? { conversionHost: { ...cfg.conversionHost } } : {}),
  };
}
