// A template cannot be powered on or exported as a VM; the operator migrates a VM deployed from it.
import { blocker, type Rule } from './types.js';

export const templateRule: Rule = {
  codes: ['template'],
  side: 'source',
  evaluate: (vm) =>
    vm.template
      ? [blocker('template', `${vm.name} is a template`, 'deploy a VM from the template and migrate that VM')]
      : [],
};
