// A warm migration reads the base disk that its own snapshot freezes: with an older snapshot in
// the chain, that base is the older snapshot's parent, not the disk the guest sees, and CBT's
// changed areas are relative to the delta. Snapshots v2o made itself (v2o-<run>-*) are its own.
import { blocker, type Rule } from './types.js';

/** The prefix of every snapshot a run makes (steps/snapshots.ts names them v2o-<run>-<what>). */
export const V2O_SNAPSHOT_PREFIX = 'v2o-';

export const warmSnapshotsRule: Rule = {
  codes: ['cbt-snapshots'],
  side: 'target',
  evaluate(vm, settings) {
    if (settings.migrationKind !== 'warm') return [];
    const foreign = vm.snapshots.filter((s) => !s.startsWith(V2O_SNAPSHOT_PREFIX));
    if (foreign.length === 0) return [];
    return [
      blocker(
        'cbt-snapshots',
        `CBT cannot be used on ${vm.name}: it has ${foreign.length} snapshot(s) v2o did not make (${foreign.join(', ')}); a warm copy reads the base disk its own snapshot freezes`,
        `delete or consolidate them first (govc snapshot.remove -vm '${vm.name}' '*'), or set migration: cold`,
      ),
    ];
  },
};
