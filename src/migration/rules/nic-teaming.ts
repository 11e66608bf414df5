// An LBFO team's configuration lives on the team interface over the vmxnet3 members, which all
// vanish on OpenStack: nothing would carry the team's addresses there.
import { blocker, guestRule } from './types.js';

export const nicTeamingRule = guestRule(['nic-teaming'], (g) =>
  g.teams.map((t) =>
    blocker(
      'nic-teaming',
      `the guest has the NIC team "${t.name}" (LBFO, members ${t.members.join(', ') || 'none'}): its members disappear on OpenStack and its configuration with them`,
      'remove the team in the guest and put its configuration on one adapter (Remove-NetLbfoTeam), then plan again; Neutron gives each port its own redundancy',
    ),
  ),
);
