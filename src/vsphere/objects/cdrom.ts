// CD-ROM changes through ReconfigVM_Task: mount an ISO (adding a drive when there is none) and
// restore the previous state. Every device spec carries deviceInfo: vcsim panics without it and
// vCenter shows the label from it.
import { V2oError } from '../../errors.js';
import { reconfigVmTask } from '../methods/virtual-machine.js';
import { type CdromBacking, type ControllerRef, toVmInfo, type VmCdrom } from '../model.js';
import { el, raw } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { retrieveOne } from './property.js';
import { waitForTask } from './task.js';
import type { OpOptions } from './vm.js';

/** What a CD-ROM looked like before attachIso changed it; give it back to restoreCdrom. */
export interface CdromState {
  /** The drive attachIso used (added or changed); unknown (-1) for a drive still to be added. */
  key: number;
  /** False when attachIso added the drive: restoreCdrom then removes it. */
  existed: boolean;
  /** The ISO attachIso mounts: finds an added drive whose key was not known yet. */
  isoPath?: string;
  backing: CdromBacking;
  connected: boolean;
  startConnected: boolean;
}

export interface CdromDeviceSpec {
  operation: 'add' | 'edit' | 'remove';
  key: number;
  label?: string;
  backing: CdromBacking;
  connected: boolean;
  startConnected: boolean;
  controllerKey?: number;
  unitNumber?: number;
}

function backingXml(b: CdromBacking): string {
  switch (b.kind) {
    case 'iso':
      return raw('backing', el('fileName', b.fileName), 'VirtualCdromIsoBackingInfo');
    case 'host':
      return raw(
        'backing',
        `${el('deviceName', b.deviceName)}${el('useAutoDetect', false)}`,
        'VirtualCdromAtapiBackingInfo',
      );
    default:
      // "Client device": vSphere's empty drive.
      return raw(
        'backing',
        `${el('deviceName', b.kind === 'client' ? b.deviceName : '')}${el('useAutoDetect', false)}${el('exclusive', b.kind === 'client' ? !!b.exclusive : false)}`,
        'VirtualCdromRemotePassthroughBackingInfo',
      );
  }
}

/** A pure builder: one `<deviceChange>` for a CD-ROM (VirtualDevice field order kept). */
export function toCdromDeviceChange(s: CdromDeviceSpec): string {
  const label = s.label || `CD/DVD drive ${s.key}`;
  const summary = s.backing.kind === 'iso' ? `ISO ${s.backing.fileName}` : label;
  const device =
    el('key', s.key) +
    raw('deviceInfo', `${el('label', label)}${el('summary', summary)}`, 'Description') +
    backingXml(s.backing) +
    raw(
      'connectable',
      `${el('startConnected', s.startConnected)}${el('allowGuestControl', true)}${el('connected', s.connected)}`,
    ) +
    el('controllerKey', s.controllerKey) +
    el('unitNumber', s.unitNumber);
  return raw('deviceChange', `${el('operation', s.operation)}${raw('device', device, 'VirtualCdrom')}`);
}

/** A pure builder: a SATA (AHCI) controller to add when no controller has a free unit. */
export function toAhciControllerChange(key: number, busNumber: number): string {
  const device = `${el('key', key)}${raw('deviceInfo', `${el('label', `SATA controller ${busNumber}`)}${el('summary', 'AHCI')}`, 'Description')}${el('busNumber', busNumber)}`;
  return raw('deviceChange', `${el('operation', 'add')}${raw('device', device, 'VirtualAHCIController')}`);
}

async function readCdroms(client: VSphereClient, vm: MoRef, opts: OpOptions) {
  const o = await retrieveOne(client, vm, ['config.hardware', 'runtime.powerState'], { signal: opts.signal });
  const info = toVmInfo(vm, o.props);
  const devices = (o.props['config.hardware'] as { device?: unknown } | undefined)?.device;
  return {
    info,
    devices: Array.isArray(devices)
      ? (devices as Array<Record<string, unknown>>)
      : devices
        ? [devices as Record<string, unknown>]
        : [],
  };
}

async function reconfigure(
  client: VSphereClient,
  vm: MoRef,
  deviceChanges: string,
  opts: OpOptions,
): Promise<void> {
  const task = await reconfigVmTask(client, vm, deviceChanges, { signal: opts.signal });
  await waitForTask(client, task, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5 * 60_000 });
}

const IDE_UNITS = 2;
const SATA_UNITS = 30;

function freeSlot(
  controllers: ControllerRef[],
  devices: Array<Record<string, unknown>>,
): { controllerKey: number; unitNumber: number } | undefined {
  const used = (key: number) =>
    new Set(
      devices
        .filter((d) => Number(d.controllerKey) === key && d.unitNumber !== undefined)
        .map((d) => Number(d.unitNumber)),
    );
  // IDE first: every Windows installer boots from it; then SATA.
  for (const bus of ['ide', 'sata'] as const) {
    for (const c of controllers.filter((x) => x.bus === bus)) {
      const u = used(c.key);
      for (let n = 0; n < (bus === 'ide' ? IDE_UNITS : SATA_UNITS); n++)
        if (!u.has(n)) return { controllerKey: c.key, unitNumber: n };
    }
  }
  return undefined;
}

/**
 * Mounts `isoPath` ("[datastore] dir/file.iso") in the VM's first CD-ROM, connected (and connected
 * at power-on). Adds a CD-ROM (and a SATA controller if needed) when the VM has none.
 * Returns the previous state for restoreCdrom.
 */
export async function attachIso(
  client: VSphereClient,
  vm: MoRef,
  isoPath: string,
  opts: OpOptions & {
    /**
     * Called with the state to restore before anything changes, so a caller can record it first:
     * a process that dies during the reconfigure then still knows what the drive looked like.
     */
    beforeChange?: (previous: CdromState) => void;
  } = {},
): Promise<CdromState> {
  const { info, devices } = await readCdroms(client, vm, opts);
  const on = info.powerState === 'poweredOn';
  const iso: CdromBacking = { kind: 'iso', fileName: isoPath };
  const cd: VmCdrom | undefined = info.cdroms[0];
  if (cd) {
    const previous: CdromState = {
      key: cd.key,
      existed: true,
      isoPath,
      backing: cd.backing,
      connected: cd.connected,
      startConnected: cd.startConnected,
    };
    opts.beforeChange?.(previous);
    await reconfigure(
      client,
      vm,
      toCdromDeviceChange({
        operation: 'edit',
        key: cd.key,
        label: cd.label,
        backing: iso,
        connected: on,
        startConnected: true,
        controllerKey: cd.controller?.key,
        unitNumber: cd.unitNumber,
      }),
      opts,
    );
    return previous;
  }
  const none = { backing: { kind: 'none' } as const, connected: false, startConnected: false };
  opts.beforeChange?.({ key: -1, existed: false, isoPath, ...none });
  let changes = '';
  let slot = freeSlot(info.controllers, devices);
  if (!slot) {
    const sataBuses = info.controllers.filter((c) => c.bus === 'sata').map((c) => c.busNumber);
    const bus = sataBuses.length ? Math.max(...sataBuses) + 1 : 0;
    if (bus > 3)
      throw new V2oError(`VM ${info.name} has no free controller slot for a CD-ROM`, {
        hint: 'remove a device or add a controller, then retry',
      });
    changes += toAhciControllerChange(-101, bus);
    slot = { controllerKey: -101, unitNumber: 0 };
  }
  changes += toCdromDeviceChange({
    operation: 'add',
    key: -100,
    label: 'CD/DVD drive 1',
    backing: iso,
    connected: on,
    startConnected: true,
    ...slot,
  });
  await reconfigure(client, vm, changes, opts);
  const after = await readCdroms(client, vm, opts);
  const added =
    after.info.cdroms.find((c) => c.backing.kind === 'iso' && c.backing.fileName === isoPath) ??
    after.info.cdroms[0];
  if (!added)
    throw new V2oError(`the CD-ROM added to VM ${info.name} did not appear`, {
      hint: 'check the VM in vSphere and retry',
    });
  return { key: added.key, existed: false, isoPath, ...none };
}

/** Puts the CD-ROM back as `previous` describes: the old backing, or removes the drive attachIso added. */
export async function restoreCdrom(
  client: VSphereClient,
  vm: MoRef,
  previous: CdromState,
  opts: OpOptions = {},
): Promise<void> {
  const { info } = await readCdroms(client, vm, opts);
  const cd =
    info.cdroms.find((c) => c.key === previous.key) ??
    // A drive added by an attachIso that did not return: known by the ISO it holds.
    (previous.existed
      ? undefined
      : info.cdroms.find((c) => c.backing.kind === 'iso' && c.backing.fileName === previous.isoPath));
  if (!cd) return; // already gone: nothing to restore
  const on = info.powerState === 'poweredOn';
  await reconfigure(
    client,
    vm,
    toCdromDeviceChange({
      operation: previous.existed ? 'edit' : 'remove',
      key: cd.key,
      label: cd.label,
      backing: previous.existed ? previous.backing : cd.backing,
      connected: previous.existed ? previous.connected && on : false,
      startConnected: previous.existed ? previous.startConnected : false,
      controllerKey: cd.controller?.key,
      unitNumber: cd.unitNumber,
    }),
    opts,
  );
}
