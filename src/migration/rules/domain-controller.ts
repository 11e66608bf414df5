// A domain controller must never run twice: once the target DC has replicated, a source DC that
// comes back (a rollback, sourceAfter: power-on) holds older USNs than its partners remember, and
// Active Directory's USN rollback protection quarantines it (Microsoft: "USN rollback", KB 875495).
import { blocker, guestRule, warning } from './types.js';

export const domainControllerRule = guestRule(
  ['domain-controller', 'domain-controller-power-on', 'domain-controller-allowed'],
  (g, s) => {
    if (!g.domainController) return [];
    const name = g.hostname || 'the guest';
    if (s.domainController === 'block') {
      return [
        blocker(
          'domain-controller',
          `${name} is a domain controller (NTDS): if the source ever ran again after the target, Active Directory would suffer a USN rollback`,
          'promote a new domain controller on OpenStack and demote this one; or set domainController: allow (the source must then never run again once the target booted)',
        ),
      ];
    }
    if (s.sourceAfter === 'power-on') {
      return [
        blocker(
          'domain-controller-power-on',
          `${name} is a domain controller and the plan says sourceAfter: power-on: two copies of one DC would run (USN rollback)`,
          'set sourceAfter: keep-off for this VM',
        ),
      ];
    }
    return [
      warning(
        'domain-controller-allowed',
        `${name} is a domain controller (domainController: allow): once the target has booted, the source must never run again; a rollback after that needs \`v2o cancel <run> --rollback --force\``,
        'keep the source powered off after the move (and never restore it from a backup); check replication on the target with repadmin /showrepl',
      ),
    ];
  },
);
