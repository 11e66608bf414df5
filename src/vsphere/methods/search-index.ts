// SearchIndex methods.
import { child, el, moref, toMoRef } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

/** SearchIndex.FindByInventoryPath, e.g. 'DC0/vm/folder/name'. Undefined when nothing is there. */
export async function findByInventoryPath(
  c: SoapCaller,
  searchIndex: MoRef,
  inventoryPath: string,
  opts?: CallOptions,
): Promise<MoRef | undefined> {
  const res = await c.call(
    'FindByInventoryPath',
    `<FindByInventoryPath>${moref('_this', searchIndex)}${el('inventoryPath', inventoryPath)}</FindByInventoryPath>`,
    opts,
  );
  return toMoRef(child(res, 'returnval'));
}
