// A VLAN id set inside the guest tags its frames; a Neutron port expects untagged traffic (the
// network carries the segmentation), so the adapter would talk to nobody.
import { blocker, guestRule } from './types.js';

export const guestVlanRule = guestRule(['guest-vlan'], (g) =>
  g.adapters
    .filter((a) => a.vlanId)
    .map((a) =>
      blocker(
        'guest-vlan',
        `adapter "${a.name}" sets VLAN id ${a.vlanId} inside the guest: a Neutron port carries untagged frames`,
        `clear the VLAN id in the adapter's advanced properties (Set-NetAdapter -Name "${a.name}" -VlanID 0) and map its port group to the OpenStack network of VLAN ${a.vlanId}`,
      ),
    ),
);
