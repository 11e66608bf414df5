// The conversion host: warm needs one (the volumes are attached to it while v2o writes them), and
// one that is set must be found in the target project.
import { blocker, type Finding, type Rule } from './types.js';

export const conversionHostRule: Rule = {
  codes: ['no-conversion-host', 'conversion-host'],
  side: 'target',
  evaluate(_vm, settings, _g, m) {
    const out: Finding[] = [];
    if (settings.migrationKind === 'warm' && !settings.conversionHost) {
      out.push(
        blocker(
          'no-conversion-host',
          'migration: warm needs a conversion host: the OpenStack server v2o runs on, which the volumes are attached to while they are written',
          'run v2o on a server in the target project and set conversionHost: { server: auto } (or its name), or set migration: cold',
        ),
      );
    }
    if (settings.conversionHost && m.conversionHostProblem) {
      out.push(blocker('conversion-host', m.conversionHostProblem.message, m.conversionHostProblem.fix));
    }
    return out;
  },
};
