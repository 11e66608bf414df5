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
import { attachVolumes } from '../src/migration/steps/attach-volumes.js';
import { baseCopy } from '../src/migration/steps/base-copy.js';
import { copyVolumes } from '../src/migration/steps/copy-volumes.js';
import { createVolumes } from '../src/migration/steps/create-volumes.js';
import { cutover } from '../src/migration/steps/cutover.js';
import { detachVolumes } from '../src/migration/steps/detach-volumes.js';
import { enableCbt } from '../src/migration/steps/enable-cbt.js';
import { fetchVirtioIso } from '../src/migration/steps/fetch-virtio-iso.js';
import { finish } from '../src/migration/steps/finish.js';
import { installDrivers } from '../src/migration/steps/install-drivers.js';
import { installFirstboot } from '../src/migration/steps/install-firstboot.js';
import { launch } from '../src/migration/steps/launch.js';
import { precopy } from '../src/migration/steps/precopy.js';
import { preflight } from '../src/migration/steps/preflight.js';
import { prepareShutdown } from '../src/migration/steps/prepare-shutdown.js';
import { restoreCbt } from '../src/migration/steps/restore-cbt.js';
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
  // 4: warm migration and volume copies (issue 14): eight new steps between install-firstboot and
  // launch (enable-cbt … detach-volumes), disks with a route, and launch booting from volumes that
  // no step of v3 made. The engine resumes a run by step position and id: a v3 run stopped at, say,
  // upload-images would meet enable-cbt/attach-volumes as never-run steps and shutdown's output
  // without the times finish needs, so it is refused rather than half-followed.
  version: 4,
  description:
    'Migrate a Windows VM from vSphere to OpenStack: virtio drivers in, (warm: CBT passes while it runs,) shut down, disks to Glance/Cinder, launch, verify the boot',
  steps: [
    preflight, //        1. the VM and the cloud still match the stored plan
    fetchVirtioIso, //   2. the ISO, downloaded (resumable) and verified
    uploadIso, //        3. onto the datastore, unless already there
    attachIso, //        4. mounted, previous CD-ROM state kept
    installDrivers, //   5. pnputil + Start=0 (auto), or a gate (manual)
    verifyDrivers, //    6. before anything goes down
    installFirstboot, // 7. the first-boot task that reports the boot on COM1
    enableCbt, //        8. warm: changeTrackingEnabled on (the old value journaled)
    attachVolumes, //    9. volume route: empty volumes attached to the conversion host
    baseCopy, //        10. warm: snapshot, allocated areas → volumes, changeId from the snapshot
    precopy, //         11. warm: a pass of changed areas per interval, waiting in the journal
    cutover, //         12. warm: gate until `v2o cutover` or warm.cutoverAt
    prepareShutdown, // 13. BitLocker suspended, RealTimeIsUniversal cleared (as the plan says)
    shutdown, //        14. ShutdownGuest; hard only with --force-poweroff
    restoreCdrom, //    15. the CD-ROM as it was
    copyVolumes, //     16. volume route: warm final pass, or cold copy from the flat extent
    restoreCbt, //      17. warm: the CBT setting as it was
    uploadImages, //    18. image route: export lease → Glance, streamed and hashed
    createVolumes, //   19. image route: Cinder volumes for data disks (and boot-from-volume)
    detachVolumes, //   20. volume route: off the conversion host, boot volume's image metadata
    launch, //          21. ports with kept MACs, server, ACTIVE
    verifyBoot, //      22. Windows reports its first boot (SATA fallback)
    finish, //          23. summary with the downtime; the source stays off
  ],
  parseParams: parseMigrationParams,
  checkRollback: checkDomainControllerRollback,
  // Imported when a run starts, so listing or resuming other workflows does not load the clients.
  services: async (params, env) => {
    const [{ connectServices }, { conversionHostOverride }] = await Promise.all([
      import('../src/migration/connect.js'),
      import('../src/migration/copy/conversion-host.js'),
    ]);
    return connectServices({
      source: params.source,
      target: params.target,
      datacenter: params.plan.source?.datacenter,
      env: env.env,
      log: env.log,
      stateDir: env.stateDir,
      signal: env.signal,
      conversionHost: conversionHostOverride(env.hostSettings),
    });
  },
  closeServices: async (s) => (await import('../src/migration/connect.js')).closeServices(s),
};
