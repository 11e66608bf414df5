// bootCheck: none trusts Nova's ACTIVE, which says nothing about Windows coming up (issue 12): the
// run then succeeds without the guest's word, and verify-boot has no SATA fallback to offer.
import { type Rule, warning } from './types.js';

export const bootUncheckedRule: Rule = {
  codes: ['boot-unchecked'],
  side: 'target',
  evaluate: (_vm, settings) =>
    settings.bootCheck === 'none'
      ? [
          warning(
            'boot-unchecked',
            'bootCheck: none: the run succeeds once Nova says ACTIVE, without the guest saying Windows came up (no SATA fallback either)',
            'keep bootCheck: marker unless this cloud disables the console log (os-getConsoleOutput)',
          ),
        ]
      : [],
};
