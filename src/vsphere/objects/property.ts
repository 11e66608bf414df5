// PropertyCollector helpers: read named property paths of objects, with paging.
import type { CallOptions } from '../methods/caller.js';
import {
  continueRetrievePropertiesEx,
  type FilterSpecArgs,
  type ObjectContent,
  retrievePropertiesEx,
} from '../methods/property-collector.js';
import { createContainerView, destroyView } from '../methods/view.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';

export interface RetrieveOptions {
  signal?: AbortSignal;
  /** Page size asked of the server (ContinueRetrievePropertiesEx fetches the rest). */
  pageSize?: number;
}

async function retrieveAll(
  client: VSphereClient,
  spec: FilterSpecArgs,
  opts: RetrieveOptions,
): Promise<ObjectContent[]> {
  const pc = client.serviceContent.propertyCollector;
  const call: CallOptions = { signal: opts.signal };
  let page = await retrievePropertiesEx(client, pc, [spec], { maxObjects: opts.pageSize }, call);
  const out = [...page.objects];
  while (page.token) {
    page = await continueRetrievePropertiesEx(client, pc, page.token, call);
    out.push(...page.objects);
  }
  return out;
}

/** Reads `paths` of the given objects (all of one type). Order follows the server's answer. */
export async function retrieve(
  client: VSphereClient,
  objs: MoRef[],
  paths: string[],
  opts: RetrieveOptions = {},
): Promise<ObjectContent[]> {
  if (!objs.length) return [];
  const byType = new Map<string, MoRef[]>();
  for (const o of objs) byType.set(o.type, [...(byType.get(o.type) ?? []), o]);
  const out: ObjectContent[] = [];
  for (const [type, objects] of byType)
    out.push(...(await retrieveAll(client, { select: { objects }, type, paths }, opts)));
  return out;
}

/** Reads one object's properties; undefined values for paths the server did not return. */
export async function retrieveOne(
  client: VSphereClient,
  obj: MoRef,
  paths: string[],
  opts: RetrieveOptions = {},
): Promise<ObjectContent> {
  const [o] = await retrieve(client, [obj], paths, opts);
  return o ?? { obj, props: {}, missing: [] };
}

/**
 * Every object of `type` under `root` (default: the root folder), with `paths`, through a
 * ContainerView that is destroyed afterwards.
 */
export async function containerViewList(
  client: VSphereClient,
  type: string,
  paths: string[],
  opts: RetrieveOptions & { root?: MoRef } = {},
): Promise<ObjectContent[]> {
  const sc = client.serviceContent;
  const view = await createContainerView(client, sc.viewManager, opts.root ?? sc.rootFolder, [type], true, {
    signal: opts.signal,
  });
  try {
    return await retrieveAll(client, { select: { view }, type, paths }, opts);
  } finally {
    await destroyView(client, view).catch((err: Error) =>
      client.log?.debug({ err: err.message }, 'DestroyView failed'),
    );
  }
}
