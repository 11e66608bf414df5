// Which way each disk's bytes go. `volume`: read at offsets from its flat extent and written into
// a Cinder volume attached to the conversion host, checkpointed per extent, so a killed copy
// continues where it stopped; `image`: streamed into Glance, whose PUT cannot be resumed.
// warm → every disk `volume` (not-flat-extent blocks the rest); cold with a conversion host → the
// disks that become volumes anyway (data disks, a boot-from-volume boot disk) when they are flat;
// cold without one → all `image`, as before issue 14.
import type { Inventory } from '../inventory.js';
import type { VmMigrationConfig } from '../plan-file.js';
import type { DiskLayout } from '../services.js';
import type { PlannedDisk } from './types.js';

/**
 * What QueryChangedDiskAreas(changeId "*") answers on each kind of datastore: VMware's VDDK
 * programming guide (Changed Block Tracking) describes "*" as the allocated areas of a disk, which
 * VMFS knows; NFS, vSAN and vVol datastores may report the whole disk as allocated (issue 14),
 * which makes the base copy a full copy. Said in the plan, so nobody is surprised by its size.
 */
export function allocatedAreasNote(
  datastoreType: string | undefined,
  layout: DiskLayout | undefined,
): string {
  const type = datastoreType ?? (layout?.createType === 'vmfs' ? 'VMFS' : undefined);
  if (type?.toUpperCase() === 'VMFS') return 'VMFS: the base copy reads the allocated areas only';
  return `${type ?? 'datastore type unknown'}: QueryChangedDiskAreas("*") likely answers with the whole disk, so the base copy reads all of it`;
}

export function planRoutes(disks: PlannedDisk[], cfg: VmMigrationConfig, inv: Inventory): PlannedDisk[] {
  return disks.map((d) => {
    const layout = inv.diskLayouts?.[d.key];
    const flat = Boolean(layout?.flatExtent);
    const volume =
      cfg.migration === 'warm' || (cfg.conversionHost !== undefined && d.volume !== undefined && flat);
    return {
      ...d,
      route: volume ? 'volume' : 'image',
      resumesMidDisk: volume,
      ...(layout ? { layout } : {}),
      ...(volume ? { allocatedAreas: allocatedAreasNote(inv.datastoreTypes?.[d.datastore], layout) } : {}),
    };
  });
}
