// Opening the lab's clouds through src/openstack, a per-file tag, and best-effort cleanup.
import { randomBytes } from 'node:crypto';
import { type Cloud, openCloud, type ServiceName } from '../../../src/openstack/cloud.js';
import { loadCloudConfig } from '../../../src/openstack/config.js';
import { labEnv, labProcessEnv } from '../../helpers/lab-env.js';

/** The demo cloud (OS_CLOUD), or the admin cloud. */
export async function openLab(which: 'demo' | 'admin' = 'demo', services?: ServiceName[]): Promise<Cloud> {
  const env = labProcessEnv();
  const cloud = which === 'admin' ? labEnv().V2O_LAB_OS_ADMIN_CLOUD : undefined;
  return openCloud(loadCloudConfig({ env, cloud }), { services });
}

/** A tag unique to this test file's run, so cleanup only touches what it made. */
export function runTag(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The lab's shared network (V2O_LAB_OS_NETWORK overrides). */
export const LAB_NET = labEnv().V2O_LAB_OS_NETWORK ?? 'lab-net';

export async function quietly(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch {
    // cleanup is best effort; the lab's reset.sh catches the rest
  }
}
