// The virtio-win ISO the drivers come from. `auto` cannot install without it (a blocker); in
// `manual` the operator may bring the drivers another way (a warning). An ISO without a sha256
// cannot be verified after the download.
import { blocker, type Rule, warning } from './types.js';

export const virtioWinIsoRule: Rule = {
  codes: ['no-virtio-win', 'no-iso-sha256'],
  side: 'target',
  evaluate(_vm, settings) {
    const iso = settings.virtioWin;
    if (!iso) {
      return [
        (settings.driverMode === 'auto' ? blocker : warning)(
          'no-virtio-win',
          'no virtio-win ISO is given',
          'set drivers.virtioWin.url (or .path) in the plan, e.g. the stable virtio-win.iso from fedorapeople.org',
        ),
      ];
    }
    if (iso.sha256) return [];
    return [
      warning(
        'no-iso-sha256',
        'the virtio-win ISO has no sha256 to verify it against',
        'add drivers.virtioWin.sha256',
      ),
    ];
  },
};
