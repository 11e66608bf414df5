// Snapshots. Severity depends on the export method: ExportVm (lease) exports the VM's current
// state, the whole chain read through, so snapshots only deserve a warning; the datastore route
// reads the base VMDK file, which is stale once a snapshot exists (the writes go to the delta).
import { blocker, type Rule, warning } from './types.js';

export const snapshotsRule: Rule = {
  codes: ['snapshots'],
  side: 'source',
  evaluate(vm, settings) {
    if (vm.snapshots.length === 0) return [];
    const what = `the VM has ${vm.snapshots.length} snapshot(s) (${vm.snapshots.join(', ')})`;
    const fix = `delete or consolidate the snapshots first (govc snapshot.remove -vm '${vm.name}' '*')`;
    return settings.exportMethod === 'datastore'
      ? [blocker('snapshots', `${what}; the datastore route would read the stale base disk`, fix)]
      : [warning('snapshots', `${what}; the export takes the current state only`, fix)];
  },
};
