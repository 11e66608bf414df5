// Constrained Language Mode (AppLocker / WDAC, or __PSLockdownPolicy) forbids Add-Type and most
// .NET calls, which the first-boot task needs (ghost adapter removal through SetupAPI).
import { blocker, guestRule } from './types.js';

export const constrainedLanguageRule = guestRule(['constrained-language'], (g) =>
  g.languageMode === 'FullLanguage'
    ? []
    : [
        blocker(
          'constrained-language',
          `Windows PowerShell runs in ${g.languageMode} mode in the guest: the first-boot task needs FullLanguage (Add-Type for removing ghost adapters)`,
          'allow v2o’s first-boot script in the AppLocker / WDAC policy (or remove the __PSLockdownPolicy variable), then plan again',
        ),
      ],
);
