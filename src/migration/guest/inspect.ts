// Whether and how the guest is inspected for a plan or a preflight: only a running VM with VMware
// Tools and the guest administrator's variables set; otherwise the reason, for the
// guest-not-inspected rule. The credentials are read from the environment and never logged.
import type { GuestMissing, SourceVm } from '../inventory.js';
import type { SourceOps } from '../services.js';
import { captureGuest } from './capture.js';
import type { GuestFacts } from './facts.js';

export interface GuestCredentialNames {
  usernameEnv: string;
  passwordEnv: string;
}

/** The guest's credentials from the variables the plan names; undefined when either is empty. */
export function guestCredentialsFrom(
  env: NodeJS.ProcessEnv,
  names: GuestCredentialNames,
): { username: string; password: string } | undefined {
  const username = env[names.usernameEnv];
  const password = env[names.passwordEnv];
  return username && password ? { username, password } : undefined;
}

export async function inspectGuest(
  source: SourceOps,
  vm: SourceVm | undefined,
  names: GuestCredentialNames,
  env: NodeJS.ProcessEnv,
  o: { signal?: AbortSignal } = {},
): Promise<{ guest?: GuestFacts; guestMissing?: GuestMissing }> {
  if (!vm) return {};
  const setCreds = `export ${names.usernameEnv} and ${names.passwordEnv} (a local administrator of the guest)`;
  if (vm.powerState !== 'poweredOn' || !vm.toolsRunning) {
    const reason =
      vm.powerState !== 'poweredOn' ? `the VM is ${vm.powerState}` : 'VMware Tools is not running';
    return {
      guestMissing: {
        reason,
        failed: false,
        fix: `power the VM on with VMware Tools running and ${setCreds}, then plan again`,
      },
    };
  }
  const creds = guestCredentialsFrom(env, names);
  if (!creds) {
    return {
      guestMissing: {
        reason: `${names.usernameEnv} / ${names.passwordEnv} are not set`,
        failed: false,
        fix: `${setCreds}, then plan again`,
      },
    };
  }
  try {
    return { guest: await captureGuest(source, vm.moref, creds, o) };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const e = err as Error & { hint?: string };
    return {
      guestMissing: {
        reason: /guest/i.test(e.message) ? e.message : `the guest inspection failed: ${e.message}`,
        failed: true,
        fix:
          e.hint ??
          `check that ${names.usernameEnv} is a local administrator of the guest and its password in ${names.passwordEnv} is right, then plan again`,
      },
    };
  }
}
