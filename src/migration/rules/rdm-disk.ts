// A raw device mapping is a LUN, not a file: neither ExportVm nor the datastore can read it.
import { blocker, diskName, type Rule } from './types.js';

export const rdmDiskRule: Rule = {
  codes: ['rdm-disk'],
  side: 'source',
  evaluate: (vm) =>
    vm.disks
      .filter((d) => d.rdm)
      .map((d) =>
        blocker(
          'rdm-disk',
          `${diskName(d)} is a raw device mapping (RDM); it cannot be exported`,
          'convert it to a virtual disk with Storage vMotion, or move the LUN separately and detach it',
        ),
      ),
};
