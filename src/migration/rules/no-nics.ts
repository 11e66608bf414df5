// A VM without network adapters migrates, but the server is unreachable.
import { type Rule, warning } from './types.js';

export const noNicsRule: Rule = {
  codes: ['no-nics'],
  side: 'source',
  evaluate: (vm) =>
    vm.nics.length === 0
      ? [warning('no-nics', 'the VM has no network adapters', 'the server will have no network')]
      : [],
};
