// An execution policy set by Group Policy beats `-ExecutionPolicy Bypass` on the command line
// (Microsoft: about_Execution_Policies, "Group Policy ... overrides"), so the first-boot task's
// script file would not run under AllSigned or Restricted.
import { blocker, guestRule } from './types.js';

export const executionPolicyRule = guestRule(['execution-policy-gpo'], (g) => {
  const p = g.executionPolicyByGpo;
  if (!p || !/^(AllSigned|Restricted)$/i.test(p)) return [];
  return [
    blocker(
      'execution-policy-gpo',
      `Group Policy sets the PowerShell execution policy to ${p}: it overrides -ExecutionPolicy Bypass, so the first-boot script would not run on OpenStack`,
      'exempt this server from the policy (Turn on Script Execution: RemoteSigned or not configured) and run gpupdate /force, then plan again',
    ),
  ];
});
