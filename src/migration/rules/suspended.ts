// A suspended VM's memory state does not move, and it can neither run the driver install nor shut down.
import { blocker, type Rule } from './types.js';

export const suspendedRule: Rule = {
  codes: ['suspended'],
  side: 'source',
  evaluate: (vm) =>
    vm.powerState === 'suspended'
      ? [
          blocker(
            'suspended',
            'the VM is suspended',
            'resume it and shut it down cleanly, or power it on, first',
          ),
        ]
      : [],
};
