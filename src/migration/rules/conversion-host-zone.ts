// The volumes are created in the conversion host's availability zone, since Nova refuses to attach
// a volume from another zone when [cinder] cross_az_attach = False (Nova docs, "Availability
// Zones": cross_az_attach). The migrated server then boots from volumes in that zone.
import { type Rule, warning } from './types.js';

export const conversionHostZoneRule: Rule = {
  codes: ['conversion-host-zone'],
  side: 'target',
  evaluate(_vm, _s, _g, m) {
    const host = m.conversionHost;
    if (!host || !m.disks.some((d) => d.route === 'volume')) return [];
    if (host.availabilityZone) return [];
    return [
      warning(
        'conversion-host-zone',
        `conversion host ${host.name} reports no availability zone: its volumes go to Cinder's default zone, which Nova may refuse to attach across zones ([cinder] cross_az_attach = False)`,
        'check `openstack server show` for OS-EXT-AZ:availability_zone, or make sure cross-zone attachment is allowed',
      ),
    ];
  },
};
