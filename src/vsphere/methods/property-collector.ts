// PropertyCollector and PropertyFilter methods, and the PropertyFilterSpec builder.
import { VSphereFault } from '../errors.js';
import {
  child,
  children,
  el,
  moref,
  raw,
  textOf,
  toMoRef,
  toValue,
  type XmlNode,
  type XmlValue,
} from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

/** Which objects: a list, or every object of a ContainerView. */
export type ObjectSelection = { objects: MoRef[] } | { view: MoRef };

export interface FilterSpecArgs {
  select: ObjectSelection;
  /** Managed object type whose properties are read (VirtualMachine, Task …). */
  type: string;
  /** Property paths; empty reads none (just the references). */
  paths: string[];
}

/** A pure builder: the `<specSet>`/`<spec>` content for RetrievePropertiesEx and CreateFilter. */
export function toPropertyFilterSpec(args: FilterSpecArgs): string {
  const propSet = raw(
    'propSet',
    `${el('type', args.type)}${args.paths.map((p) => el('pathSet', p)).join('')}`,
  );
  let objectSet: string;
  if ('view' in args.select) {
    objectSet = raw(
      'objectSet',
      `${moref('obj', args.select.view)}${el('skip', true)}${raw('selectSet', `${el('name', 'traverseEntities')}${el('type', 'ContainerView')}${el('path', 'view')}${el('skip', false)}`, 'TraversalSpec')}`,
    );
  } else {
    objectSet = args.select.objects
      .map((o) => raw('objectSet', `${moref('obj', o)}${el('skip', false)}`))
      .join('');
  }
  return `${propSet}${objectSet}`;
}

export interface MissingProperty {
  path: string;
  faultName: string;
  message?: string;
}

export interface ObjectContent {
  obj: MoRef;
  /** Property values by path, decoded with toValue (strings, MoRefs, objects with `_type`, arrays). */
  props: Record<string, XmlValue>;
  missing: MissingProperty[];
}

export interface RetrieveResult {
  objects: ObjectContent[];
  /** Set when more pages follow (ContinueRetrievePropertiesEx). */
  token?: string;
}

function decodeLocalizedFault(n: XmlNode | undefined): { faultName: string; message?: string } {
  const f = child(n, 'fault');
  return {
    faultName: f?.xsiType ?? f?.name ?? 'Unknown',
    message: textOf(n, 'localizedMessage') ?? undefined,
  };
}

export function decodeObjectContent(n: XmlNode): ObjectContent {
  const props: Record<string, XmlValue> = {};
  for (const p of children(n, 'propSet')) {
    const name = textOf(p, 'name') ?? '';
    const val = child(p, 'val');
    if (val) props[name] = toValue(val);
  }
  const missing = children(n, 'missingSet').map((m) => ({
    path: textOf(m, 'path') ?? '',
    ...decodeLocalizedFault(child(m, 'fault')),
  }));
  return { obj: toMoRef(child(n, 'obj'))!, props, missing };
}

function decodeRetrieveResult(res: XmlNode): RetrieveResult {
  const rv = child(res, 'returnval');
  if (!rv) return { objects: [] };
  return {
    objects: children(rv, 'objects').map(decodeObjectContent),
    token: textOf(rv, 'token') || undefined,
  };
}

// A lost session shows up as a per-object missingSet, not a fault: raise it so the client logs in again.
function checkNotAuthenticated(res: XmlNode): void {
  for (const o of children(child(res, 'returnval'), 'objects')) {
    for (const m of children(o, 'missingSet')) {
      const f = decodeLocalizedFault(child(m, 'fault'));
      if (f.faultName === 'NotAuthenticated')
        throw new VSphereFault('NotAuthenticated', f.message ?? 'session is not authenticated');
    }
  }
}

export async function retrievePropertiesEx(
  c: SoapCaller,
  propertyCollector: MoRef,
  specs: FilterSpecArgs[],
  options: { maxObjects?: number } = {},
  opts?: CallOptions,
): Promise<RetrieveResult> {
  const body = `<RetrievePropertiesEx>${moref('_this', propertyCollector)}${specs.map((s) => raw('specSet', toPropertyFilterSpec(s))).join('')}${raw('options', el('maxObjects', options.maxObjects))}</RetrievePropertiesEx>`;
  const res = await c.call('RetrievePropertiesEx', body, { ...opts, check: checkNotAuthenticated });
  return decodeRetrieveResult(res);
}

export async function continueRetrievePropertiesEx(
  c: SoapCaller,
  propertyCollector: MoRef,
  token: string,
  opts?: CallOptions,
): Promise<RetrieveResult> {
  const res = await c.call(
    'ContinueRetrievePropertiesEx',
    `<ContinueRetrievePropertiesEx>${moref('_this', propertyCollector)}${el('token', token)}</ContinueRetrievePropertiesEx>`,
    { ...opts, check: checkNotAuthenticated },
  );
  const rv = child(res, 'returnval');
  return {
    objects: children(rv, 'objects').map(decodeObjectContent),
    token: textOf(rv, 'token') || undefined,
  };
}

export async function createPropertyCollector(
  c: SoapCaller,
  propertyCollector: MoRef,
  opts?: CallOptions,
): Promise<MoRef> {
  const res = await c.call(
    'CreatePropertyCollector',
    `<CreatePropertyCollector>${moref('_this', propertyCollector)}</CreatePropertyCollector>`,
    opts,
  );
  return toMoRef(child(res, 'returnval'))!;
}

export async function destroyPropertyCollector(
  c: SoapCaller,
  propertyCollector: MoRef,
  opts?: CallOptions,
): Promise<void> {
  await c.call(
    'DestroyPropertyCollector',
    `<DestroyPropertyCollector>${moref('_this', propertyCollector)}</DestroyPropertyCollector>`,
    opts,
  );
}

export async function createFilter(
  c: SoapCaller,
  propertyCollector: MoRef,
  spec: FilterSpecArgs,
  partialUpdates: boolean,
  opts?: CallOptions,
): Promise<MoRef> {
  const res = await c.call(
    'CreateFilter',
    `<CreateFilter>${moref('_this', propertyCollector)}${raw('spec', toPropertyFilterSpec(spec))}${el('partialUpdates', partialUpdates)}</CreateFilter>`,
    opts,
  );
  return toMoRef(child(res, 'returnval'))!;
}

export interface PropertyChange {
  name: string;
  op: string;
  val?: XmlValue;
}

export interface ObjectUpdate {
  kind: string;
  obj: MoRef;
  changes: PropertyChange[];
  missing: MissingProperty[];
}

export interface UpdateSet {
  version: string;
  truncated: boolean;
  filters: { filter: MoRef; objects: ObjectUpdate[] }[];
}

/** PropertyCollector.WaitForUpdatesEx. Undefined when maxWaitSeconds passed without updates. */
export async function waitForUpdatesEx(
  c: SoapCaller,
  propertyCollector: MoRef,
  version: string,
  options: { maxWaitSeconds?: number; maxObjectUpdates?: number } = {},
  opts?: CallOptions,
): Promise<UpdateSet | undefined> {
  const o = `${el('maxWaitSeconds', options.maxWaitSeconds)}${el('maxObjectUpdates', options.maxObjectUpdates)}`;
  const res = await c.call(
    'WaitForUpdatesEx',
    `<WaitForUpdatesEx>${moref('_this', propertyCollector)}${el('version', version)}${raw('options', o)}</WaitForUpdatesEx>`,
    opts,
  );
  const rv = child(res, 'returnval');
  if (!rv) return undefined;
  return {
    version: textOf(rv, 'version') ?? '',
    truncated: textOf(rv, 'truncated') === 'true',
    filters: children(rv, 'filterSet').map((f) => ({
      filter: toMoRef(child(f, 'filter'))!,
      objects: children(f, 'objectSet').map((os) => ({
        kind: textOf(os, 'kind') ?? '',
        obj: toMoRef(child(os, 'obj'))!,
        changes: children(os, 'changeSet').map((ch) => {
          const val = child(ch, 'val');
          return {
            name: textOf(ch, 'name') ?? '',
            op: textOf(ch, 'op') ?? '',
            val: val ? toValue(val) : undefined,
          };
        }),
        missing: children(os, 'missingSet').map((m) => ({
          path: textOf(m, 'path') ?? '',
          ...decodeLocalizedFault(child(m, 'fault')),
        })),
      })),
    })),
  };
}
