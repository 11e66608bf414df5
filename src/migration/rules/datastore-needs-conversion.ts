// The datastore route reads VMDK files as stored: a flat descriptor uploaded as vmdk would let
// Glance's consumers follow its extent paths (CVE-2022-47951), so it must be converted.
import { blocker, type Rule } from './types.js';

export const datastoreNeedsConversionRule: Rule = {
  codes: ['datastore-needs-conversion'],
  side: 'target',
  evaluate: (_vm, settings) =>
    settings.exportMethod === 'datastore' && settings.imageFormat === 'vmdk'
      ? [
          blocker(
            'datastore-needs-conversion',
            'exportMethod: datastore reads the VMDK files as they are on the datastore; uploading them as vmdk is unsafe (flat descriptors, CVE-2022-47951)',
            'set imageFormat: qcow2 (or raw), or use exportMethod: lease',
          ),
        ]
      : [],
};
