// Builds MigrationServices for a run (or for `v2o plan`): the vSphere session from GOVC_* (and the
// plan's source settings), the OpenStack clients from clouds.yaml. Credentials are read here, at
// run time, and never stored in the journal.
import type { Logger } from 'pino';
import type { ConversionHostOverride } from './copy/conversion-host.js';
import type { PlanFile } from './plan-file.js';
import type { MigrationServices } from './services.js';
import { connectSource } from './source-vsphere.js';
import { connectTarget } from './target-openstack.js';

export async function connectServices(o: {
  source: PlanFile['source'];
  target: PlanFile['target'];
  datacenter?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  stateDir: string;
  signal?: AbortSignal;
  conversionHost?: ConversionHostOverride;
}): Promise<MigrationServices> {
  const source = await connectSource(o.source, o.env, o.log, { signal: o.signal, datacenter: o.datacenter });
  try {
    const target = await connectTarget(o.target, o.env, o.log, o.signal);
    return {
      source,
      target,
      stateDir: o.stateDir,
      env: o.env,
      log: o.log,
      ...(o.conversionHost ? { conversionHost: o.conversionHost } : {}),
    };
  } catch (err) {
    await source.close().catch(() => {});
    throw err;
  }
}

export async function closeServices(s: MigrationServices): Promise<void> {
  await Promise.allSettled([s.source.close(), (s.target as { close?: () => Promise<void> }).close?.()]);
}
