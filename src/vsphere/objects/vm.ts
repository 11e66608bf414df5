// Virtual machines: find, read the model, power operations.
import { ConfigError } from '../../errors.js';
import { isFault } from '../errors.js';
import {
  powerOffVmTask,
  powerOnVmTask,
  shutdownGuest as shutdownGuestMethod,
} from '../methods/virtual-machine.js';
import { toVmInfo, VM_PROPERTY_PATHS, type VmInfo } from '../model.js';
import type { XmlValue } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { containerViewList, retrieve, retrieveOne } from './property.js';
import { waitForTask } from './task.js';
import { waitForProperties } from './wait.js';

export interface OpOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Thrown by findVmByName when no VM has that name (bad input: exit 2). */
export class VmNotFoundError extends ConfigError {
  constructor(name: string) {
    super(`no virtual machine named "${name}"`, {
      hint: 'check the name with `v2o inventory` (names are case-sensitive)',
    });
  }
}

/** The VM with exactly this name. Throws VmNotFoundError, or ConfigError when the name is ambiguous. */
export async function findVmByName(
  client: VSphereClient,
  name: string,
  opts: OpOptions = {},
): Promise<MoRef> {
  const all = await containerViewList(client, 'VirtualMachine', ['name'], { signal: opts.signal });
  const hits = all.filter((o) => o.props.name === name);
  if (!hits.length) throw new VmNotFoundError(name);
  if (hits.length > 1) {
    throw new ConfigError(
      `${hits.length} virtual machines are named "${name}" (${hits.map((h) => h.obj.value).join(', ')})`,
      {
        hint: 'rename one of them, or select the VM by its instance UUID',
      },
    );
  }
  return hits[0]!.obj;
}

// Names and parents of the inventory above VMs, cached for one listing.
class InventoryContext {
  readonly #client: VSphereClient;
  readonly #signal?: AbortSignal;
  readonly #entity = new Map<string, { name?: string; parent?: MoRef }>();
  #portgroups?: Map<string, string>;
  constructor(client: VSphereClient, signal?: AbortSignal) {
    this.#client = client;
    this.#signal = signal;
  }

  async entity(ref: MoRef): Promise<{ name?: string; parent?: MoRef }> {
    const k = `${ref.type}:${ref.value}`;
    let e = this.#entity.get(k);
    if (!e) {
      const paths = ref.type === 'VirtualApp' ? ['name', 'parentFolder'] : ['name', 'parent'];
      const o = await retrieveOne(this.#client, ref, paths, { signal: this.#signal }).catch(() => undefined);
      e = {
        name: o?.props.name as string | undefined,
        parent: (o?.props.parent ?? o?.props.parentFolder) as MoRef | undefined,
      };
      this.#entity.set(k, e);
    }
    return e;
  }

  /** Datacenter name and inventory path (folders above it included) of an entity's parent chain. */
  async datacenter(parent: MoRef | undefined): Promise<{ name?: string; path?: string }> {
    let p = parent;
    for (let i = 0; p && i < 50; i++) {
      if (p.type === 'Datacenter') {
        const dc = await this.entity(p);
        const folders: string[] = [];
        let f = dc.parent;
        for (let j = 0; f && f.type === 'Folder' && j < 50; j++) {
          const fe = await this.entity(f);
          if (!fe.parent) break; // the root folder is not part of the path
          folders.unshift(fe.name ?? '');
          f = fe.parent;
        }
        return { name: dc.name, path: [...folders, dc.name ?? ''].join('/') };
      }
      p = (await this.entity(p)).parent;
    }
    return {};
  }

  async portgroups(): Promise<Map<string, string>> {
    if (!this.#portgroups) {
      const list = await containerViewList(this.#client, 'DistributedVirtualPortgroup', ['name', 'key'], {
        signal: this.#signal,
      }).catch(() => []);
      this.#portgroups = new Map(list.map((o) => [String(o.props.key), String(o.props.name)]));
    }
    return this.#portgroups;
  }

  async model(ref: MoRef, props: Record<string, XmlValue>): Promise<VmInfo> {
    const hostRef = props['runtime.host'] as MoRef | undefined;
    const host = hostRef ? await this.entity(hostRef) : undefined;
    const dc = await this.datacenter(props.parent as MoRef | undefined);
    const usesDvs = JSON.stringify(props['config.hardware'] ?? '').includes(
      'DistributedVirtualPortBackingInfo',
    );
    return toVmInfo(ref, props, {
      hostName: host?.name,
      datacenter: dc.name,
      datacenterPath: dc.path,
      portgroupNames: usesDvs ? await this.portgroups() : undefined,
    });
  }
}

/** Reads the VM model of one VM. */
export async function getVm(client: VSphereClient, ref: MoRef, opts: OpOptions = {}): Promise<VmInfo> {
  const o = await retrieveOne(client, ref, [...VM_PROPERTY_PATHS], { signal: opts.signal });
  const gone = o.missing.find((m) => m.faultName === 'ManagedObjectNotFound');
  if (gone || !o.props.name)
    throw new ConfigError(`virtual machine ${ref.value} does not exist`, {
      hint: 'list VMs with `v2o inventory`',
    });
  return new InventoryContext(client, opts.signal).model(ref, o.props);
}

/** Every VM (templates included; see VmInfo.template), sorted by name. */
export async function listVms(client: VSphereClient, opts: OpOptions = {}): Promise<VmInfo[]> {
  const list = await containerViewList(client, 'VirtualMachine', [...VM_PROPERTY_PATHS], {
    signal: opts.signal,
  });
  const ctx = new InventoryContext(client, opts.signal);
  const out: VmInfo[] = [];
  for (const o of list) out.push(await ctx.model(o.obj, o.props));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function getPowerState(client: VSphereClient, vm: MoRef, opts: OpOptions = {}): Promise<string> {
  const [o] = await retrieve(client, [vm], ['runtime.powerState'], { signal: opts.signal });
  return String(o?.props['runtime.powerState'] ?? 'unknown');
}

/** Powers on and waits for the task. InvalidPowerState when it is already on. */
export async function powerOn(client: VSphereClient, vm: MoRef, opts: OpOptions = {}): Promise<void> {
  const task = await powerOnVmTask(client, vm, { signal: opts.signal });
  await waitForTask(client, task, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
}

/** Hard power-off and waits for the task. InvalidPowerState when it is already off. */
export async function powerOff(client: VSphereClient, vm: MoRef, opts: OpOptions = {}): Promise<void> {
  const task = await powerOffVmTask(client, vm, { signal: opts.signal });
  await waitForTask(client, task, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
}

/**
 * Asks the guest to shut down (VMware Tools) and waits until the VM is poweredOff, at most
 * `timeoutMs` (the caller's setting: the migration's is `--shutdown-timeout`). Returns at once when
 * it is already off. Throws VSphereTimeoutError on timeout, ToolsUnavailable / InvalidState faults
 * when the guest cannot be asked.
 */
export async function shutdownGuest(
  client: VSphereClient,
  vm: MoRef,
  opts: OpOptions & { timeoutMs: number },
): Promise<void> {
  if ((await getPowerState(client, vm, opts)) === 'poweredOff') return;
  try {
    await shutdownGuestMethod(client, vm, { signal: opts.signal });
  } catch (err) {
    // It may have gone off between the read and the call.
    if (isFault(err, 'InvalidPowerState') && (await getPowerState(client, vm, opts)) === 'poweredOff') return;
    throw err;
  }
  await waitForProperties(
    client,
    vm,
    ['runtime.powerState'],
    (p) => (p['runtime.powerState'] === 'poweredOff' ? true : undefined),
    { signal: opts.signal, timeoutMs: opts.timeoutMs },
  );
}
