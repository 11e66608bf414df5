// Independent disks: non-persistent ones lose their changes at power-off, which the migration
// does before the export; persistent ones export fine but are outside snapshots.
import { blocker, diskName, type Finding, type Rule, warning } from './types.js';

export const independentDiskRule: Rule = {
  codes: ['independent-nonpersistent', 'independent-disk'],
  side: 'source',
  evaluate(vm) {
    const out: Finding[] = [];
    for (const d of vm.disks) {
      if (d.diskMode === 'independent_nonpersistent') {
        out.push(
          blocker(
            'independent-nonpersistent',
            `${diskName(d)} is independent non-persistent: its changes are thrown away at power-off`,
            'change the disk mode to persistent (VM settings → disk → mode) before migrating',
          ),
        );
      } else if (d.diskMode.startsWith('independent')) {
        out.push(
          warning(
            'independent-disk',
            `${diskName(d)} is independent (${d.diskMode}); snapshots skip it, but the export includes it`,
            'nothing to do unless a backup tool relies on it',
          ),
        );
      }
    }
    return out;
  },
};
