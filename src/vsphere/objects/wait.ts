// Waiting on property changes through WaitForUpdatesEx (govmomi's property.Wait): a private
// PropertyCollector per wait, so concurrent waits on one session do not steal each other's updates.
import { InterruptedError } from '../../errors.js';
import { VSphereFault, VSphereTimeoutError } from '../errors.js';
import {
  createFilter,
  createPropertyCollector,
  destroyPropertyCollector,
  waitForUpdatesEx,
} from '../methods/property-collector.js';
import type { XmlObject, XmlValue } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Waits until `done(props)` returns something other than undefined, and returns it. `props` holds the
 * latest value of each path (absent = unset). Throws VSphereTimeoutError after `timeoutMs`.
 */
export async function waitForProperties<T>(
  client: VSphereClient,
  obj: MoRef,
  paths: string[],
  done: (props: Record<string, XmlValue | undefined>) => T | undefined,
  opts: WaitOptions = {},
): Promise<T> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const signal = opts.signal;
  const pc = await createPropertyCollector(client, client.serviceContent.propertyCollector, { signal });
  try {
    await createFilter(client, pc, { select: { objects: [obj] }, type: obj.type, paths }, true, { signal });
    const props: Record<string, XmlValue | undefined> = {};
    let version = '';
    for (;;) {
      if (signal?.aborted)
        throw new InterruptedError(`waiting for ${obj.type} ${obj.value} was aborted`, {
          cause: signal.reason,
        });
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0)
        throw new VSphereTimeoutError(
          `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${obj.type} ${obj.value}`,
        );
      const maxWaitSeconds = Math.max(1, Math.min(60, Math.ceil(left / 1000)));
      const set = await waitForUpdatesEx(
        client,
        pc,
        version,
        { maxWaitSeconds },
        { signal, timeoutMs: (maxWaitSeconds + 30) * 1000 },
      );
      if (!set) continue;
      version = set.version;
      for (const f of set.filters) {
        for (const o of f.objects) {
          if (o.kind === 'leave')
            throw new VSphereFault('ManagedObjectNotFound', `${obj.type} ${obj.value} was deleted`);
          for (const ch of o.changes) applyChange(props, ch.name, ch.op, ch.val);
          for (const m of o.missing) {
            if (m.faultName === 'NotAuthenticated' || m.faultName === 'ManagedObjectNotFound') {
              throw new VSphereFault(m.faultName, m.message ?? m.path);
            }
          }
        }
      }
      const result = done(props);
      if (result !== undefined) return result;
    }
  } finally {
    await destroyPropertyCollector(client, pc).catch((err: Error) =>
      client.log?.debug({ err: err.message }, 'DestroyPropertyCollector failed'),
    );
  }
}

// Partial updates name nested paths ("info.progress"); keep a flat map and let readers use both.
function applyChange(
  props: Record<string, XmlValue | undefined>,
  name: string,
  op: string,
  val: XmlValue | undefined,
): void {
  if (op === 'remove' || op === 'indirectRemove') {
    props[name] = undefined;
    return;
  }
  props[name] = val;
  // Also merge into a parent object that was reported whole earlier (info → info.progress).
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const parent = props[name.slice(0, dot)];
    if (
      parent &&
      typeof parent === 'object' &&
      !Array.isArray(parent) &&
      !('value' in parent && 'type' in parent)
    ) {
      (parent as XmlObject)[name.slice(dot + 1)] = val;
    }
  }
}
