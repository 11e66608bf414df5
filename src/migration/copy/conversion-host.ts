// Which conversion host a run's volumes are attached to, and where their devices appear: the plan's
// conversionHost, unless the process driving the run says which host it is (`v2o worker
// --conversion-host/--device-dir`): in a fleet the plan is shared, and a plan that names a server
// would send every worker's volumes to that one. The journaled params are never rewritten; every
// step that looks up the host goes through conversionHostSettings().
import type { HostSettings } from '../../engine/types.js';
import { V2oError } from '../../errors.js';
import type { ConversionHostSettings } from '../plan-file.js';
import type { ConversionHostInfo } from '../services.js';
import type { Ctx } from '../steps/common.js';
import { ConversionHostError } from './errors.js';

/** This machine's word on its conversion host (MigrationServices.conversionHost); unset: the plan's. */
export interface ConversionHostOverride {
  /** `auto` (the metadata service at the plan's metadataUrl) or a server name or id. */
  server?: string;
  deviceDir?: string;
}

/** The keys of EngineOptions.hostSettings the migration reads (the worker's flags). */
export function conversionHostOverride(host: HostSettings): ConversionHostOverride {
  return {
    ...(host.conversionHost ? { server: host.conversionHost } : {}),
    ...(host.deviceDir ? { deviceDir: host.deviceDir } : {}),
  };
}

/**
 * Pure: the plan's conversion host with this machine's override applied. Undefined when the plan
 * has none: it then routes no disk to volumes, and an override does not make it.
 */
export function effectiveConversionHost(
  plan: ConversionHostSettings | undefined,
  here: ConversionHostOverride | undefined,
): ConversionHostSettings | undefined {
  if (!plan) return undefined;
  return {
    ...plan,
    ...(here?.server ? { server: here.server } : {}),
    ...(here?.deviceDir ? { deviceDir: here.deviceDir } : {}),
  };
}

/** The run's conversion host as this process sees it; throws with the fix when the plan has none. */
export function conversionHostSettings(ctx: Ctx): ConversionHostSettings {
  const h = effectiveConversionHost(ctx.params.plan.settings.conversionHost, ctx.services.conversionHost);
  if (!h) {
    throw new ConversionHostError('the plan has no conversion host, but a disk takes the volume route', {
      hint: 'set conversionHost in the plan file and migrate again',
    });
  }
  return h;
}

/** Where the devices of volumes attached here appear, and how long to wait for one. */
export function deviceOptions(ctx: Ctx) {
  const h = conversionHostSettings(ctx);
  return {
    deviceDir: h.deviceDir,
    timeoutMs: h.deviceTimeoutSeconds * 1000,
    signal: ctx.signal,
    sleep: (ms: number) => ctx.sleep(ms, ctx.signal),
  };
}

/** The server v2o runs on (or the one the plan or the worker names), found in the target project. */
export async function conversionHost(ctx: Ctx): Promise<ConversionHostInfo> {
  const h = conversionHostSettings(ctx);
  try {
    return await ctx.services.target.findConversionHost(
      { server: h.server, metadataUrl: h.metadataUrl },
      { signal: ctx.signal },
    );
  } catch (err) {
    if (err instanceof V2oError && err.hint) throw err;
    const from = ctx.services.conversionHost?.server
      ? 'v2o worker --conversion-host'
      : 'conversionHost.server';
    throw new ConversionHostError(
      `the conversion host (${h.server}) was not found in the target cloud: ${(err as Error).message}`,
      {
        cause: err,
        hint:
          h.server === 'auto'
            ? `run v2o on a server of the target project (its metadata service, ${h.metadataUrl}, names it), or set ${from} to that server's name or id`
            : `check that server ${h.server} exists in the project of the target cloud (openstack server show ${h.server}), or fix ${from}`,
      },
    );
  }
}

/** A worker that holds a run's volumes on its host pins the run to itself: only it can copy them. */
export function pinToThisWorker(ctx: Ctx): void {
  if (ctx.worker) void ctx.setAffinity(ctx.worker);
}
