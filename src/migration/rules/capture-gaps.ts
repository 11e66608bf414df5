// Parts of the capture the guest could not report (a cmdlet missing on its release, an error):
// what depends on them is unknown, so it is said rather than assumed.
import { guestRule, warning } from './types.js';

export const captureGapsRule = guestRule(['guest-capture-gap'], (g) =>
  g.gaps.length
    ? [
        warning(
          'guest-capture-gap',
          `the guest could not report ${g.gaps.map((x) => `${x.part} (${x.reason})`).join('; ')}`,
          g.gaps.some((x) => x.part === 'ghosts') && g.powershellVersion.startsWith('4.')
            ? 'expected on Windows PowerShell 4.0 (Server 2012 R2): ghost adapters are then found and removed by the first-boot task itself'
            : 'check that these cmdlets work for the guest administrator (run them in an elevated PowerShell), then plan again',
        ),
      ]
    : [],
);
