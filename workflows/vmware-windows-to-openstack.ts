// The Windows migration, vSphere → OpenStack, as an ordered list of steps with their policies.
// Data only: the steps (src/migration/steps/) do the I/O, services() connects the clients.
// Drivers go in and are verified while the VM still runs; only then is it shut down. The run
// succeeds only when Windows itself reports its first boot on OpenStack (verify-boot).
import type { WorkflowDefinition } from '../src/engine/types.js';
import type { MigrationParams } from '../src/migration/params.js';
import { parseMigrationParams } from '../src/migration/params-schema.js';
import { checkDomainControllerRollback } from '../src/migration/rollback.js';
import type { MigrationServices } from '../src/migration/services.js';
import { attachIso } from '../src/migration/steps/attach-iso.js';
import { createVolumes } from '../src/migration/steps/create-volumes.js';
import { fetchVirtioIso } from '../src/migration/steps/fetch-virtio-iso.js';
import { finish } from '../src/migration/steps/finish.js';
import { installDrivers } from '../src/migration/steps/install-drivers.js';
import { installFirstboot } from '../src/migration/steps/install-firstboot.js';
import { launch } from '../src/migration/steps/launch.js';
import { preflight } from '../src/migration/steps/preflight.js';
import { prepareShutdown } from '../src/migration/steps/prepare-shutdown.js';
import { restoreCdrom } from '../src/migration/steps/restore-cdrom.js';
import { shutdown } from '../src/migration/steps/shutdown.js';
import { uploadImages } from '../src/migration/steps/upload-images.js';
import { uploadIso } from '../src/migration/steps/upload-iso.js';
import { verifyBoot } from '../src/migration/steps/verify-boot.js';
import { verifyDrivers } from '../src/migration/steps/verify-drivers.js';

export const WORKFLOW_NAME = 'vmware-windows-to-openstack';

export const vmwareWindowsToOpenstack: WorkflowDefinition<MigrationParams, MigrationServices> = {
  name: WORKFLOW_NAME,
  // 2: the params carry plan.settings and plan.inputs instead of config (a v1 run is refused rather
  // than run on fallbacks), and install-firstboot and verify-boot are new steps.
  // 3: the guest's facts and the bitlocker/domainController/clock settings in the params, and the
  // new step prepare-shutdown.
  version: 3,
  description:
    'Migrate a Windows VM from vSphere to OpenStack: virtio drivers in, shut down, disks to Glance/Cinder, launch, verify the boot',
  steps: [
    preflight, //        1. the VM and the cloud still match the stored plan
    fetchVirtioIso, //   2. the ISO, downloaded (resumable) and verified
    uploadIso, //        3. onto the datastore, unless already there
    attachIso, //        4. mounted, previous CD-ROM state kept
    installDrivers, //   5. pnputil + Start=0 (auto), or a gate (manual)
    verifyDrivers, //    6. before anything goes down
    installFirstboot, // 7. the first-boot task that reports the boot on COM1
    prepareShutdown, //  8. BitLocker suspended, RealTimeIsUniversal cleared (as the plan says)
    shutdown, //         9. ShutdownGuest; hard only with --force-poweroff
    restoreCdrom, //    10. the CD-ROM as it was
    uploadImages, //    11. export lease → Glance, streamed and hashed
    createVolumes, //   12. Cinder volumes for data disks (and boot-from-volume)
    launch, //          13. ports with kept MACs, server, ACTIVE
    verifyBoot, //      14. Windows reports its first boot (SATA fallback)
    finish, //          15. summary; the source stays off
  ],
  parseParams: parseMigrationParams,
  checkRollback: checkDomainControllerRollback,
  // Imported when a run starts, so listing or resuming other workflows does not load the clients.
  services: async (params, env) =>
    (await import('../src/migration/connect.js')).connectServices({
      source: params.source,
      target: params.target,
      datacenter: params.plan.source?.datacenter,
      env: env.env,
      log: env.log,
      stateDir: env.stateDir,
      signal: env.signal,
    }),
  closeServices: async (s) => (await import('../src/migration/connect.js')).closeServices(s),
};
