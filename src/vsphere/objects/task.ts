// Waiting for a Task through property updates (no sleep loop).
import { VSphereFault } from '../errors.js';
import { arr, type XmlObject, type XmlValue } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { waitForProperties } from './wait.js';

export interface WaitForTaskOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with info.progress (0–100) when it changes. */
  onProgress?: (percent: number) => void;
}

function field(
  props: Record<string, XmlValue | undefined>,
  base: string,
  name: string,
): XmlValue | undefined {
  const direct = props[`${base}.${name}`];
  if (direct !== undefined) return direct;
  const o = props[base];
  return o && typeof o === 'object' && !Array.isArray(o) ? (o as XmlObject)[name] : undefined;
}

/** Turns a LocalizedMethodFault value into a VSphereFault. */
export function faultFromLocalized(v: XmlValue | undefined, method?: string): VSphereFault {
  const o = (v ?? {}) as XmlObject;
  const f = o.fault as XmlObject | undefined;
  const name = f?._type ?? 'SystemError';
  const msg =
    typeof o.localizedMessage === 'string'
      ? o.localizedMessage
      : ((arr<XmlObject>(f?.faultMessage as XmlValue)[0]?.message as string) ?? '');
  return new VSphereFault(name, msg, { method });
}

/** Waits for the task to succeed and returns info.result; a task error is thrown as VSphereFault. */
export async function waitForTask(
  client: VSphereClient,
  task: MoRef,
  opts: WaitForTaskOptions = {},
): Promise<XmlValue | undefined> {
  let lastProgress = -1;
  const out = await waitForProperties(
    client,
    task,
    ['info'],
    (props) => {
      const state = field(props, 'info', 'state');
      const progress = Number(field(props, 'info', 'progress') ?? Number.NaN);
      if (opts.onProgress && Number.isFinite(progress) && progress !== lastProgress) {
        lastProgress = progress;
        opts.onProgress(progress);
      }
      if (state === 'success') return { result: field(props, 'info', 'result') };
      if (state === 'error') {
        const name = field(props, 'info', 'descriptionId');
        return {
          error: faultFromLocalized(
            field(props, 'info', 'error'),
            typeof name === 'string' ? name : undefined,
          ),
        };
      }
      return undefined;
    },
    { timeoutMs: opts.timeoutMs, signal: opts.signal },
  );
  if ('error' in out && out.error) throw out.error;
  if (opts.onProgress && lastProgress !== 100) opts.onProgress(100);
  return (out as { result?: XmlValue }).result;
}
