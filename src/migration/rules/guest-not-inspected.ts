// The guest could not be inspected: the in-guest checks (BitLocker, DC, pending reboot …) and the
// network identity the first-boot task replays are then unknown. A capture that ran and failed
// (PowerShell blocked, output that does not parse) blocks: preflight would fail on it too.
import { blocker, type Rule, warning } from './types.js';

export const guestNotInspectedRule: Rule = {
  codes: ['guest-not-inspected', 'guest-capture-failed'],
  side: 'guest',
  evaluate(_vm, _s, g) {
    if (g.facts || !g.missing) return [];
    if (g.missing.failed) return [blocker('guest-capture-failed', g.missing.reason, g.missing.fix)];
    return [
      warning(
        'guest-not-inspected',
        `the guest was not inspected (${g.missing.reason}): BitLocker, domain controller, pending reboot and the other in-guest checks were not made, and its network identity is not known`,
        g.missing.fix,
      ),
    ];
  },
};
