// ViewManager and View methods.
import { child, el, moref, toMoRef } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

export async function createContainerView(
  c: SoapCaller,
  viewManager: MoRef,
  container: MoRef,
  types: string[],
  recursive: boolean,
  opts?: CallOptions,
): Promise<MoRef> {
  const res = await c.call(
    'CreateContainerView',
    `<CreateContainerView>${moref('_this', viewManager)}${moref('container', container)}${types.map((t) => el('type', t)).join('')}${el('recursive', recursive)}</CreateContainerView>`,
    opts,
  );
  return toMoRef(child(res, 'returnval'))!;
}

export async function destroyView(c: SoapCaller, view: MoRef, opts?: CallOptions): Promise<void> {
  await c.call('DestroyView', `<DestroyView>${moref('_this', view)}</DestroyView>`, opts);
}
