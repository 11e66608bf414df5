// In-memory SourceOps/TargetOps and a step context, to drive single steps without labs.
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { buildPlan } from '../../../src/migration/build-plan.js';
import type { MigrationParams } from '../../../src/migration/params.js';
import { toParams } from '../../../src/migration/prepare.js';
import type {
  ConversionHostInfo,
  DiskUpload,
  DiskUploadResult,
  ImageInfo,
  MigrationServices,
  PortInfo,
  PortSpec,
  ServerInfo,
  SourceOps,
  TargetOps,
  VolumeInfo,
} from '../../../src/migration/services.js';
import type { Ctx } from '../../../src/migration/steps/common.js';
import { efi2022, inventory, resolved, staticInventory } from './fixtures.js';

let seq = 0;
const id = (p: string) => `${p}-${++seq}`;

export class FakeTarget implements TargetOps {
  images: ImageInfo[] = [];
  volumes: VolumeInfo[] = [];
  ports: PortInfo[] = [];
  servers: ServerInfo[] = [];
  calls: string[] = [];
  async listFlavors() {
    return inventory(undefined).flavors;
  }
  async listNetworks() {
    return inventory(undefined).networks;
  }
  async quota() {
    return undefined;
  }
  async listImageNames() {
    return this.images.map((i) => i.name);
  }
  async findImagesByTag(tags: string[]) {
    return this.images.filter((i) => tags.every((t) => i.tags.includes(t)));
  }
  async createImage(spec: { name: string; tags: string[]; properties: Record<string, string> }) {
    this.calls.push(`createImage ${spec.name}`);
    const img = {
      id: id('img'),
      name: spec.name,
      status: 'queued',
      tags: spec.tags,
      properties: spec.properties,
    };
    this.images.push(img);
    return img;
  }
  async getImage(i: string) {
    return this.images.find((x) => x.id === i);
  }
  async deleteImage(i: string) {
    this.calls.push(`deleteImage ${i}`);
    this.images = this.images.filter((x) => x.id !== i);
  }
  async findVolumesByMetadata(meta: Record<string, string>) {
    return this.volumes.filter((v) => Object.entries(meta).every(([k, x]) => v.metadata[k] === x));
  }
  async createVolumeFromImage(spec: { name: string; sizeGiB: number; metadata: Record<string, string> }) {
    this.calls.push(`createVolume ${spec.name}`);
    const v = {
      id: id('vol'),
      name: spec.name,
      status: 'creating',
      sizeGiB: spec.sizeGiB,
      metadata: spec.metadata,
    };
    this.volumes.push(v);
    return v;
  }
  async waitVolume(i: string, status: string) {
    const v = this.volumes.find((x) => x.id === i)!;
    v.status = status;
    return v;
  }
  async deleteVolume(i: string) {
    this.calls.push(`deleteVolume ${i}`);
    this.volumes = this.volumes.filter((x) => x.id !== i);
  }
  async findPortsByTag(tags: string[]) {
    return this.ports.filter((p) => tags.every((t) => p.tags.includes(t)));
  }
  async findPortsByMac(macs: string[]) {
    return this.ports.filter((p) => macs.includes(p.macAddress));
  }
  async addressesInUse() {
    return Object.fromEntries(this.ports.flatMap((p) => p.fixedIps.map((f) => [f.ipAddress, p.id])));
  }
  /** Every PortSpec createPort was given, in order. */
  portSpecs: PortSpec[] = [];
  async createPort(spec: PortSpec) {
    this.calls.push(`createPort ${spec.name}`);
    this.portSpecs.push(spec);
    const p = {
      id: id('port'),
      name: spec.name,
      macAddress: spec.macAddress ?? 'fa:16:3e:00:00:01',
      networkId: spec.networkId,
      fixedIps: (spec.fixedIps ?? [])
        .filter((f) => f.ipAddress)
        .map((f) => ({ ipAddress: f.ipAddress!, subnetId: f.subnetId ?? 'sub-1' })),
      tags: spec.tags,
    };
    this.ports.push(p);
    return p;
  }
  async deletePort(i: string) {
    this.calls.push(`deletePort ${i}`);
    this.ports = this.ports.filter((x) => x.id !== i);
  }
  async findServersByTag(tags: string[]) {
    return this.servers.filter((s) => tags.every((t) => s.tags.includes(t)));
  }
  async createServer(spec: {
    name: string;
    tags: string[];
    imageId?: string;
    bootVolumeId?: string;
    dataVolumeIds: string[];
  }) {
    this.calls.push(
      `createServer ${spec.name} image=${spec.imageId ?? '-'} boot=${spec.bootVolumeId ?? '-'} data=${spec.dataVolumeIds.join(',')}`,
    );
    const s = { id: id('srv'), name: spec.name, status: 'BUILD', tags: spec.tags };
    this.servers.push(s);
    return s;
  }
  async waitServer(i: string, status: string) {
    const s = this.servers.find((x) => x.id === i)!;
    s.status = status;
    return s;
  }
  async consoleLogTail() {
    return 'Windows Boot Manager';
  }
  /** Per server id: the whole console log; a server without an entry has an empty log. */
  consoles = new Map<string, string>();
  /** When set, the cloud serves no console log (os-getConsoleOutput 404/409/501). */
  consoleDisabled = false;
  async consoleLog(i: string) {
    if (this.consoleDisabled) return undefined;
    return this.consoles.get(i) ?? '';
  }
  async updateImageProperties(i: string, set: Record<string, string>, remove: string[]) {
    this.calls.push(`updateImage ${i} ${JSON.stringify(set)} -${remove.join(',')}`);
    const img = this.images.find((x) => x.id === i)!;
    for (const k of remove) delete img.properties[k];
    Object.assign(img.properties, set);
  }
  volumeImageMetadata = new Map<string, Record<string, string>>();
  async updateVolumeImageMetadata(i: string, set: Record<string, string>, remove: string[]) {
    this.calls.push(`updateVolumeImageMetadata ${i} ${JSON.stringify(set)} -${remove.join(',')}`);
    const m = { ...this.volumeImageMetadata.get(i) };
    for (const k of remove) delete m[k];
    this.volumeImageMetadata.set(i, { ...m, ...set });
  }
  async deleteServer(i: string) {
    this.calls.push(`deleteServer ${i}`);
    this.servers = this.servers.filter((x) => x.id !== i);
  }
  /** The conversion host (findConversionHost answers it; undefined: not found). */
  host?: ConversionHostInfo = {
    id: 'srv-conv',
    name: 'v2o-conversion-host',
    availabilityZone: 'nova',
    attachedVolumeIds: [],
  };
  encryptedVolumes = false;
  async findConversionHost(spec: { server: string }) {
    if (!this.host) throw new Error(`no server ${spec.server} in this project`);
    return structuredClone(this.host);
  }
  async createEmptyVolume(spec: {
    name: string;
    sizeGiB: number;
    bootable: boolean;
    availabilityZone?: string;
    metadata: Record<string, string>;
  }) {
    this.calls.push(
      `createEmptyVolume ${spec.name} ${spec.sizeGiB} GiB${spec.bootable ? ' bootable' : ''} az=${spec.availabilityZone}`,
    );
    const v: VolumeInfo = {
      id: id('vol'),
      name: spec.name,
      status: 'available',
      sizeGiB: spec.sizeGiB,
      metadata: spec.metadata,
      bootable: spec.bootable,
      encrypted: this.encryptedVolumes,
      attachedServerIds: [],
    };
    this.volumes.push(v);
    return structuredClone(v);
  }
  async getVolume(i: string) {
    const v = this.volumes.find((x) => x.id === i);
    return v && structuredClone(v);
  }
  async extendVolume(i: string, sizeGiB: number) {
    this.calls.push(`extendVolume ${i} ${sizeGiB}`);
    this.volumes.find((x) => x.id === i)!.sizeGiB = sizeGiB;
  }
  async attachVolume(serverId: string, volumeId: string) {
    this.calls.push(`attachVolume ${volumeId}`);
    const v = this.volumes.find((x) => x.id === volumeId)!;
    if (v.attachedServerIds?.includes(serverId)) throw new Error('attached twice');
    v.attachedServerIds = [...(v.attachedServerIds ?? []), serverId];
    v.status = 'in-use';
    if (this.host?.id === serverId) this.host.attachedVolumeIds.push(volumeId);
  }
  async detachVolume(serverId: string, volumeId: string) {
    this.calls.push(`detachVolume ${volumeId}`);
    const v = this.volumes.find((x) => x.id === volumeId);
    if (v) {
      v.attachedServerIds = (v.attachedServerIds ?? []).filter((x) => x !== serverId);
      v.status = 'available';
    }
    if (this.host) this.host.attachedVolumeIds = this.host.attachedVolumeIds.filter((x) => x !== volumeId);
  }
  /** Tests replace it to watch what the upload step asks for. */
  async uploadDisk(_o: DiskUpload): Promise<DiskUploadResult> {
    return { bytes: 4, hashes: { md5: 'ab' } };
  }
}

export function fakeSource(over: Partial<SourceOps> = {}): SourceOps & { calls: string[] } {
  const calls: string[] = [];
  const base: SourceOps = {
    findVm: async () => efi2022(),
    powerState: async () => 'poweredOn',
    powerOn: async () => void calls.push('powerOn'),
    powerOff: async () => void calls.push('powerOff'),
    shutdownGuest: async () => void calls.push('shutdownGuest'),
    datastoreStat: async () => undefined,
    datastoreUpload: async (_ds, path) => void calls.push(`upload ${path}`),
    datastoreReadText: async () => undefined,
    attachIso: async (_vm, _iso, o) => {
      o?.beforeChange?.({ key: 3000, existed: true });
      calls.push('attachIso');
      return { key: 3000, existed: true };
    },
    restoreCdrom: async (_vm, previous) => void calls.push(`restoreCdrom ${JSON.stringify(previous)}`),
    runInGuest: async (_vm, _c, command) => {
      calls.push(command);
      return { exitCode: 0, output: '' };
    },
    writeGuestFile: async (_vm, _c, path) => void calls.push(`write ${path}`),
    runProgramInGuest: async (_vm, _c, program, args) => {
      calls.push(`${program} ${args}`);
      return { exitCode: 0 };
    },
    readGuestFile: async (_vm, _c, path) => void calls.push(`read ${path}`),
    makeGuestDirectory: async (_vm, _c, path) => void calls.push(`mkdir ${path}`),
    exportVm: async () => ({
      disks: efi2022().disks.map((d) => ({
        key: d.key,
        size: 4,
        supportsRange: true,
        description: `disk ${d.key}`,
        open: async () => Readable.from([Buffer.from('data')]),
      })),
      progress: async () => {},
      startKeepAlive: () => {
        calls.push('lease.keepAlive');
        return { stop: () => void calls.push('lease.keepAlive.stop') };
      },
      complete: async () => void calls.push('lease.complete'),
      abort: async () => void calls.push('lease.abort'),
    }),
    datastoreDisks: async () => {
      throw new Error('not used');
    },
    abortExportLease: async (ref) => void calls.push(`lease.abort ${ref}`),
    changeTracking: async () => ({
      enabled: false,
      hardwareVersion: 19,
      consolidationNeeded: false,
      powerState: 'poweredOn',
      disks: [],
    }),
    setChangeTracking: async (_vm, enabled) => void calls.push(`setChangeTracking ${enabled}`),
    createSnapshot: async () => {
      throw new Error('not used');
    },
    removeSnapshot: async (ref) => void calls.push(`removeSnapshot ${ref}`),
    listSnapshots: async () => [],
    changedAreas: async () => {
      throw new Error('not used');
    },
    diskLayout: async (fileName) => ({
      createType: 'monolithicFlat',
      flatExtent: fileName.replace(/\.vmdk$/, '-flat.vmdk'),
    }),
    openDiskReader: () => {
      throw new Error('not used');
    },
    close: async () => {},
  };
  return Object.assign({ ...base, ...over }, { calls });
}

/** The params `v2o migrate` stores for the lab's EFI VM (through the same builder). */
export function params(yamlVm = ''): MigrationParams {
  const plan = resolved(yamlVm);
  const cfg = plan.vms[0]!;
  return toParams(plan, cfg, buildPlan(inventory(efi2022()), cfg), { shutdownTimeoutMs: 60_000 });
}

/** The params of the lab's win2022-static01 with its captured guest facts (issue 13). */
export function staticParams(yamlVm = ''): MigrationParams {
  const plan = resolved(yamlVm);
  const cfg = plan.vms[0]!;
  return toParams(plan, cfg, buildPlan(staticInventory(), cfg), { shutdownTimeoutMs: 60_000 });
}

/** What the fake context's waitUntil throws: the engine stops the step in `waiting` until `at`. */
export class WaitMarker extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(`waits until ${at}: ${reason}`);
  }
}

export function ctx(
  stepId: string,
  services: Partial<MigrationServices>,
  p: MigrationParams = params(),
  outputs: Record<string, unknown> = {},
  lastCheckpoint?: unknown,
  o: { now?: number; approvals?: Record<string, { at: number; by: string; notBefore?: number }> } = {},
): Ctx & {
  checkpoints: unknown[];
  events: string[];
  eventData: { type: string; data?: Record<string, unknown> }[];
} {
  const checkpoints: unknown[] = [];
  const events: string[] = [];
  const eventData: { type: string; data?: Record<string, unknown> }[] = [];
  let now = o.now ?? 1_000;
  return {
    runId: 'r-test0001',
    stepId,
    attempt: 1,
    params: p,
    services: {
      source: fakeSource(),
      target: new FakeTarget(),
      stateDir: '/tmp/v2o-unit',
      env: { V2O_GUEST_USERNAME: 'Administrator', V2O_GUEST_PASSWORD: 'x' },
      log: pino({ level: 'silent' }),
      ...services,
    } as MigrationServices,
    outputOf: <T>(s: string) => outputs[s] as T | undefined,
    checkpoint: async (d) => void checkpoints.push(structuredClone(d)),
    lastCheckpoint,
    signal: new AbortController().signal,
    log: pino({ level: 'silent' }),
    progress: { update: () => {} },
    // Sleeping moves the clock: a wait with a deadline ends in a test too.
    clock: { now: () => now },
    sleep: async (ms: number) => {
      now += ms;
    },
    event: async (t, data) => {
      events.push(t);
      eventData.push({ type: t, data });
    },
    setAffinity: async () => {},
    waitUntil: (at: number, message: string): never => {
      throw new WaitMarker(at, message);
    },
    approvalOf: (s: string) => o.approvals?.[s],
    checkpoints,
    events,
    eventData,
  };
}
