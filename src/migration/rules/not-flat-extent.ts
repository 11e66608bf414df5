// The datastore reader reads a disk at offsets with HTTP Range requests on its data file, which
// only a single flat extent allows (VMware Virtual Disk Format 1.1: createType vmfs / monolithicFlat
// keep the bytes as they are; sparse, seSparse, vsanSparse and streamOptimized keep grains and
// tables). A warm migration has no other reader; a cold one sends such a disk through Glance.
import { blocker, type Rule } from './types.js';

export const notFlatExtentRule: Rule = {
  codes: ['not-flat-extent'],
  side: 'target',
  evaluate(_vm, settings, _g, m) {
    if (settings.migrationKind !== 'warm') return [];
    return m.disks
      .filter((d) => d.layout && !d.layout.flatExtent)
      .map((d) =>
        blocker(
          'not-flat-extent',
          `${d.label} (${d.fileName}) is ${d.layout!.createType}, which the datastore reader cannot read at offsets${d.layout!.notFlatReason ? ` (${d.layout!.notFlatReason})` : ''}`,
          'use migration: cold for this VM (its disks then go through the export lease and Glance)',
        ),
      );
  },
};
