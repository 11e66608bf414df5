// A disk other VMs write to (multi-writer, or any disk on a SCSI bus with bus sharing) is a
// cluster disk: a copy of it would be inconsistent, and Cinder needs a shared volume set up by hand.
import type { SourceDisk } from '../inventory.js';
import { blocker, diskName, type Rule } from './types.js';

const isShared = (d: SourceDisk) =>
  (d.sharing !== undefined && d.sharing !== 'sharingNone') ||
  (d.controllerSharedBus !== undefined && d.controllerSharedBus !== 'noSharing');

export const sharedDiskRule: Rule = {
  codes: ['shared-disk'],
  side: 'source',
  evaluate: (vm) =>
    vm.disks
      .filter(isShared)
      .map((d) =>
        blocker(
          'shared-disk',
          `${diskName(d)} is shared with other VMs (${d.sharing && d.sharing !== 'sharingNone' ? d.sharing : `SCSI bus sharing ${d.controllerSharedBus}`})`,
          'detach the shared disk or turn bus sharing off (clustered disks need a shared Cinder volume set up by hand)',
        ),
      ),
};
