// TargetOps on the project's OpenStack clients (src/openstack), the disk upload included
// (src/transfer's transferDisk into a Glance image). Deletes wait until the resource is gone,
// so a rollback can delete servers, then volumes they held, then images, in one pass. One class
// implementing one interface (TargetOps), method by method: one file over 400 lines.
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { getVolumeLimits } from '../openstack/block-storage/limits/requests.js';
import {
  createVolume,
  deleteVolume,
  extendVolume,
  getVolume,
  listVolumes,
  setVolumeBootable,
  setVolumeImageMetadata,
  unsetVolumeImageMetadata,
  VolumeError,
  waitForVolumeDeleted,
  waitForVolumeStatus,
} from '../openstack/block-storage/volumes/requests.js';
import type { Volume } from '../openstack/block-storage/volumes/results.js';
import { type Cloud, openCloud } from '../openstack/cloud.js';
import { listFlavors } from '../openstack/compute/flavors/requests.js';
import { getComputeLimits } from '../openstack/compute/limits/requests.js';
import {
  createServer,
  deleteServer,
  getConsoleOutput,
  getServer,
  listServers,
  waitForServerDeleted,
  waitForServerStatus,
} from '../openstack/compute/servers/requests.js';
import type { Server } from '../openstack/compute/servers/results.js';
import {
  attachVolume,
  detachVolume,
  listVolumeAttachments,
} from '../openstack/compute/volume-attachments/requests.js';
import { loadCloudConfig } from '../openstack/config.js';
import { isStatus } from '../openstack/errors.js';
import {
  createImage,
  deleteImage,
  getImage,
  listImages,
  updateImage,
} from '../openstack/image/images/requests.js';
import type { Image } from '../openstack/image/images/results.js';
import { getInstanceMetadata } from '../openstack/metadata/instance/requests.js';
import { listNetworks } from '../openstack/network/networks/requests.js';
import { createPort, deletePort, listPorts } from '../openstack/network/ports/requests.js';
import type { Port } from '../openstack/network/ports/results.js';
import { listSubnets } from '../openstack/network/subnets/requests.js';
import { poll } from '../openstack/util/wait.js';
import { sharedLimiter } from '../transfer/limiter.js';
import { glanceSink } from '../transfer/sinks/glance-sink.js';
import { transferDisk } from '../transfer/transfer-disk.js';
import type { TransferCheckpoint } from '../transfer/types.js';
import type { PlanFile } from './plan-file.js';
import type {
  ConversionHostInfo,
  DiskUpload,
  DiskUploadResult,
  EmptyVolumeSpec,
  ImageInfo,
  ImageSpec,
  PortInfo,
  PortSpec,
  ServerInfo,
  ServerSpec,
  Sig,
  TargetOps,
  VolumeInfo,
  VolumeSpec,
} from './services.js';

const toImageInfo = (i: Image): ImageInfo => ({
  id: i.id,
  name: i.name ?? '',
  status: i.status,
  tags: i.tags,
  properties: i.properties,
  size: i.size,
  checksum: i.checksum,
  osHashAlgo: i.osHashAlgo,
  osHashValue: i.osHashValue,
});
const toVolumeInfo = (v: Volume): VolumeInfo => ({
  id: v.id,
  name: v.name ?? '',
  status: v.status,
  sizeGiB: v.size,
  metadata: v.metadata,
  encrypted: v.encrypted,
  bootable: v.bootable,
  ...(v.availabilityZone ? { availabilityZone: v.availabilityZone } : {}),
  attachedServerIds: v.attachments.map((a) => a.serverId),
});
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Waits for attach/detach and extend: a few minutes is generous for Cinder + Nova + os-brick. */
const VOLUME_ACTION_TIMEOUT_MS = 10 * 60_000;
const toPortInfo = (p: Port): PortInfo => ({
  id: p.id,
  name: p.name,
  macAddress: p.macAddress,
  networkId: p.networkId,
  fixedIps: p.fixedIps,
  ...(p.allowedAddressPairs.length
    ? { allowedAddressPairs: p.allowedAddressPairs.map((a) => ({ ipAddress: a.ipAddress })) }
    : {}),
  deviceId: p.deviceId || undefined,
  tags: p.tags,
});
const toServerInfo = (s: Server): ServerInfo => ({
  id: s.id,
  name: s.name,
  status: s.status,
  tags: s.tags,
  fault: s.fault?.message,
});
/** What a limit leaves (max − used); undefined when unlimited (-1) or not reported. */
const remaining = (max: number | undefined, used: number | undefined) =>
  max === undefined || max < 0 ? undefined : Math.max(0, max - (used ?? 0));

export async function connectTarget(
  target: PlanFile['target'],
  env: NodeJS.ProcessEnv,
  log: Logger,
  signal?: AbortSignal,
): Promise<OpenStackTarget> {
  const config = loadCloudConfig({ cloud: target.cloud, env });
  if (target.region) (config as { regionName?: string }).regionName = target.region;
  return new OpenStackTarget(await openCloud(config, { log, signal }), log);
}

export class OpenStackTarget implements TargetOps {
  constructor(
    readonly cloud: Cloud,
    /** Where the disk transfer's events (reconnects, restarts) go. */
    private readonly log?: Logger,
  ) {}

  async listFlavors(o: Sig = {}) {
    return (await listFlavors(this.cloud.compute, { isPublic: 'all', signal: o.signal }))
      .filter((f) => !f.disabled)
      .map((f) => ({ id: f.id, name: f.name, vcpus: f.vcpus, ramMiB: f.ram, diskGiB: f.disk }));
  }

  async listNetworks(o: Sig = {}) {
    const [nets, subnets] = await Promise.all([
      listNetworks(this.cloud.network, {}, o),
      listSubnets(this.cloud.network, {}, o),
    ]);
    return nets.map((n) => ({
      id: n.id,
      name: n.name,
      subnets: subnets
        .filter((s) => s.networkId === n.id)
        .map((s) => ({ id: s.id, name: s.name, cidr: s.cidr })),
      ...(n.mtu === undefined ? {} : { mtu: n.mtu }),
    }));
  }

  async quota(o: Sig = {}) {
    const [c, v] = await Promise.all([
      getComputeLimits(this.cloud.compute, o),
      getVolumeLimits(this.cloud.volume, o).catch(() => undefined),
    ]);
    return {
      cores: remaining(c.maxTotalCores, c.totalCoresUsed),
      ramMiB: remaining(c.maxTotalRAMSize, c.totalRAMUsed),
      instances: remaining(c.maxTotalInstances, c.totalInstancesUsed),
      volumes: v ? remaining(v.maxTotalVolumes, v.totalVolumesUsed) : undefined,
      volumeGiB: v ? remaining(v.maxTotalVolumeGigabytes, v.totalGigabytesUsed) : undefined,
    };
  }

  async listImageNames(o: Sig = {}) {
    return (await listImages(this.cloud.image, {}, o)).map((i) => i.name ?? '').filter(Boolean);
  }

  async findImagesByTag(tags: string[], o: Sig = {}) {
    return (await listImages(this.cloud.image, { tags }, o)).map(toImageInfo);
  }

  async createImage(spec: ImageSpec, o: Sig = {}) {
    const img = await createImage(
      this.cloud.image,
      {
        name: spec.name,
        diskFormat: spec.diskFormat,
        containerFormat: 'bare',
        visibility: 'private',
        minDisk: spec.minDiskGiB,
        minRam: spec.minRamMiB,
        tags: spec.tags,
        properties: spec.properties,
      },
      o,
    );
    return toImageInfo(img);
  }

  async getImage(id: string, o: Sig = {}) {
    try {
      return toImageInfo(await getImage(this.cloud.image, id, o));
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async deleteImage(id: string, o: Sig = {}) {
    await deleteImage(this.cloud.image, id, { ...o, ignoreMissing: true });
  }

  /** Filtered here: Cinder's default resource_filters refuse `metadata` for non-admin users (400). */
  async findVolumesByMetadata(meta: Record<string, string>, o: Sig = {}) {
    return (await listVolumes(this.cloud.volume, {}, o))
      .filter(
        (v) => v.status !== 'deleting' && Object.entries(meta).every(([k, val]) => v.metadata[k] === val),
      )
      .map(toVolumeInfo);
  }

  async createVolumeFromImage(spec: VolumeSpec, o: Sig = {}) {
    const v = await createVolume(
      this.cloud.volume,
      {
        name: spec.name,
        size: spec.sizeGiB,
        imageRef: spec.imageId,
        volumeType: spec.volumeType,
        metadata: spec.metadata,
      },
      o,
    );
    return toVolumeInfo(v);
  }

  async waitVolume(id: string, status: string, timeoutMs: number, o: Sig = {}) {
    return toVolumeInfo(
      await waitForVolumeStatus(this.cloud.volume, id, status, { timeoutMs, signal: o.signal }),
    );
  }

  /** Waits for a detach (after its server was deleted) before deleting, then for the delete. */
  async deleteVolume(id: string, o: Sig = {}) {
    let v: Volume;
    try {
      v = await getVolume(this.cloud.volume, id, o);
    } catch (err) {
      if (isStatus(err, 404)) return;
      throw err;
    }
    if (['in-use', 'detaching', 'attaching', 'creating', 'downloading', 'reserved'].includes(v.status)) {
      await waitForVolumeStatus(this.cloud.volume, id, 'available', {
        timeoutMs: 10 * 60_000,
        signal: o.signal,
      }).catch(() => {});
    }
    await deleteVolume(this.cloud.volume, id, { ...o, ignoreMissing: true });
    await waitForVolumeDeleted(this.cloud.volume, id, { timeoutMs: 10 * 60_000, signal: o.signal });
  }

  /**
   * Neutron sets tags only after the port exists, so a crash in between would leave an untagged
   * port: the run tag is also written into the description at creation, and both are searched.
   */
  async findPortsByTag(tags: string[], o: Sig = {}) {
    const runTag = tags.find((t) => t.startsWith('v2o-run-'));
    const [byTag, byDesc] = await Promise.all([
      listPorts(this.cloud.network, { tags }, o),
      runTag ? listPorts(this.cloud.network, { description: runTag }, o) : Promise.resolve([]),
    ]);
    const seen = new Map<string, Port>();
    for (const p of [...byTag, ...byDesc]) seen.set(p.id, p);
    return [...seen.values()].map(toPortInfo);
  }

  async findPortsByMac(macs: string[], o: Sig = {}) {
    const lists = await Promise.all(macs.map((m) => listPorts(this.cloud.network, { macAddress: m }, o)));
    return lists.flat().map(toPortInfo);
  }

  async addressesInUse(o: Sig = {}) {
    const ports = await listPorts(this.cloud.network, { fields: ['id', 'fixed_ips'] }, o);
    const out: Record<string, string> = {};
    for (const p of ports) for (const f of p.fixedIps) out[f.ipAddress] = p.id;
    return out;
  }

  async createPort(spec: PortSpec, o: Sig = {}) {
    const p = await createPort(
      this.cloud.network,
      {
        networkId: spec.networkId,
        name: spec.name,
        description: spec.tags.find((t) => t.startsWith('v2o-run-')),
        macAddress: spec.macAddress,
        fixedIps: spec.fixedIps?.length ? spec.fixedIps : undefined,
        allowedAddressPairs: spec.allowedAddressPairs?.length ? spec.allowedAddressPairs : undefined,
        tags: spec.tags,
      },
      o,
    );
    return toPortInfo(p);
  }

  async deletePort(id: string, o: Sig = {}) {
    await deletePort(this.cloud.network, id, { ...o, ignoreMissing: true });
  }

  async findServersByTag(tags: string[], o: Sig = {}) {
    return (await listServers(this.cloud.compute, { tags }, o))
      .filter((s) => s.status !== 'DELETED')
      .map(toServerInfo);
  }

  async createServer(spec: ServerSpec, o: Sig = {}) {
    const blockDevices = [
      ...(spec.imageId
        ? [
            {
              sourceType: 'image' as const,
              destinationType: 'local' as const,
              uuid: spec.imageId,
              bootIndex: 0,
            },
          ]
        : [
            {
              sourceType: 'volume' as const,
              destinationType: 'volume' as const,
              uuid: spec.bootVolumeId,
              bootIndex: 0,
              deleteOnTermination: false,
            },
          ]),
      ...spec.dataVolumeIds.map((id, i) => ({
        sourceType: 'volume' as const,
        destinationType: 'volume' as const,
        uuid: id,
        bootIndex: i + 1,
        deleteOnTermination: false,
      })),
    ];
    const { id } = await createServer(
      this.cloud.compute,
      {
        name: spec.name,
        flavorRef: spec.flavorId,
        imageRef: spec.imageId,
        blockDevices,
        networks: spec.portIds.length ? spec.portIds.map((port) => ({ port })) : 'none',
        metadata: spec.metadata,
        tags: spec.tags,
      },
      o,
    );
    return toServerInfo(await getServer(this.cloud.compute, id, o));
  }

  async waitServer(id: string, status: string, timeoutMs: number, o: Sig = {}) {
    return toServerInfo(
      await waitForServerStatus(this.cloud.compute, id, status, { timeoutMs, signal: o.signal }),
    );
  }

  async consoleLogTail(id: string, lines: number, o: Sig = {}) {
    return getConsoleOutput(this.cloud.compute, id, { lines, signal: o.signal });
  }

  async consoleLog(id: string, o: Sig = {}) {
    try {
      return await getConsoleOutput(this.cloud.compute, id, { signal: o.signal });
    } catch (err) {
      // 501: the driver has no console log; 409/404: this cloud does not serve it for this server.
      if (isStatus(err, 404, 409, 501)) return undefined;
      throw err;
    }
  }

  async updateImageProperties(id: string, set: Record<string, string>, remove: string[], o: Sig = {}) {
    const img = await getImage(this.cloud.image, id, o);
    // JSON patch `remove` of a property that is not there is a 409: drop only what the image has.
    const present = remove.filter((k) => k in img.properties);
    if (Object.keys(set).length || present.length)
      await updateImage(this.cloud.image, id, { set, remove: present }, o);
  }

  async updateVolumeImageMetadata(id: string, set: Record<string, string>, remove: string[], o: Sig = {}) {
    if (Object.keys(set).length) await setVolumeImageMetadata(this.cloud.volume, id, set, o);
    const v = await getVolume(this.cloud.volume, id, o);
    // Unsetting a key the volume does not have is a 404: only what is there.
    for (const k of remove.filter((k) => k in v.imageMetadata))
      await unsetVolumeImageMetadata(this.cloud.volume, id, k, o);
  }

  async deleteServer(id: string, o: Sig = {}) {
    await deleteServer(this.cloud.compute, id, { ...o, ignoreMissing: true });
    await waitForServerDeleted(this.cloud.compute, id, { timeoutMs: 10 * 60_000, signal: o.signal });
  }

  /** src/transfer's transferDisk into the Glance image `o.imageId`, under the process-wide limits. */
  async uploadDisk(o: DiskUpload): Promise<DiskUploadResult> {
    const r = await transferDisk({
      limiter: o.limits ? sharedLimiter(o.limits) : undefined,
      ...(o.sourceHost ? { limiterKeys: { source: o.sourceHost, target: 'glance' } } : {}),
      source: o.source,
      sink: glanceSink(this.cloud.image, o.imageId),
      format: o.format,
      what: o.source.description,
      sourceId: o.source.description,
      workDir: o.stagingDir,
      checkpoint: (c: TransferCheckpoint) => o.checkpoint(c),
      lastCheckpoint: o.lastCheckpoint,
      hashes: o.hashes,
      stallTimeoutMs: o.stallTimeoutMs,
      onBytes: (done, total) => o.onProgress(done, total),
      onEvent: (type, data) => this.log?.info({ type, ...data }, 'transfer event'),
      signal: o.signal,
    });
    return {
      bytes: r.bytes,
      hashes: r.hashes,
      checksum: r.sink.checksum,
      osHashAlgo: r.sink.osHashAlgo,
      osHashValue: r.sink.osHashValue,
    };
  }

  /**
   * `auto`: the metadata service names the server this process runs on; it must be a server of the
   * target project (else v2o runs elsewhere and cannot attach volumes to itself). Otherwise a server
   * id or exact name in the project.
   */
  async findConversionHost(
    spec: { server: string; metadataUrl: string },
    o: Sig = {},
  ): Promise<ConversionHostInfo> {
    let server: Server | undefined;
    let mdZone: string | undefined;
    if (spec.server === 'auto') {
      const md = await getInstanceMetadata(spec.metadataUrl, o);
      mdZone = md.availabilityZone;
      server = await getServer(this.cloud.compute, md.uuid, o).catch((err: unknown) => {
        if (isStatus(err, 404)) return undefined;
        throw err;
      });
      if (!server) {
        throw new ConfigError(
          `this machine is server ${md.uuid} ("${md.name}") of project ${md.projectId ?? '?'}, which the target cloud does not know`,
          {
            hint: 'run v2o on a server of the target project (the conversion host), or name one with conversionHost.server',
          },
        );
      }
    } else {
      if (UUID.test(spec.server)) {
        server = await getServer(this.cloud.compute, spec.server, o).catch((err: unknown) => {
          if (isStatus(err, 404)) return undefined;
          throw err;
        });
      }
      if (!server) {
        const named = (await listServers(this.cloud.compute, { name: spec.server }, o)).filter(
          (s) => s.status !== 'DELETED',
        );
        if (named.length > 1) {
          throw new ConfigError(`${named.length} servers are named "${spec.server}" in the target project`, {
            hint: 'set conversionHost.server to the server id instead',
          });
        }
        server = named[0];
      }
      if (!server) {
        throw new ConfigError(`no server "${spec.server}" in the target project for conversionHost.server`, {
          hint: 'name the server v2o runs on (openstack server list), or use conversionHost.server: auto on it',
        });
      }
    }
    const attachments = await listVolumeAttachments(this.cloud.compute, server.id, o);
    return {
      id: server.id,
      name: server.name,
      ...((server.availabilityZone ?? mdZone) ? { availabilityZone: server.availabilityZone ?? mdZone } : {}),
      attachedVolumeIds: attachments.map((a) => a.volumeId),
    };
  }

  /** A blank volume; a bootable one is marked after it is available (os-set_bootable needs that). */
  async createEmptyVolume(spec: EmptyVolumeSpec, o: Sig = {}) {
    const v = await createVolume(
      this.cloud.volume,
      {
        name: spec.name,
        size: spec.sizeGiB,
        volumeType: spec.volumeType,
        availabilityZone: spec.availabilityZone,
        metadata: spec.metadata,
      },
      o,
    );
    const ready = await waitForVolumeStatus(this.cloud.volume, v.id, 'available', {
      timeoutMs: VOLUME_ACTION_TIMEOUT_MS,
      signal: o.signal,
    });
    if (spec.bootable === ready.bootable) return toVolumeInfo(ready);
    await setVolumeBootable(this.cloud.volume, v.id, spec.bootable, o);
    return toVolumeInfo(await getVolume(this.cloud.volume, v.id, o));
  }

  async getVolume(id: string, o: Sig = {}) {
    try {
      return toVolumeInfo(await getVolume(this.cloud.volume, id, o));
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async extendVolume(id: string, sizeGiB: number, o: Sig = {}) {
    const v = await getVolume(this.cloud.volume, id, o);
    if (v.size >= sizeGiB && v.status !== 'extending') return;
    if (v.size < sizeGiB && v.status !== 'extending') await extendVolume(this.cloud.volume, id, sizeGiB, o);
    await poll(
      async () => {
        const x = await getVolume(this.cloud.volume, id, o);
        if (x.status === 'error_extending') {
          throw new VolumeError(`volume ${id} could not be extended to ${sizeGiB} GiB (error_extending)`, {
            hint: 'see `openstack volume message list`; an admin resets it with `openstack volume set --state in-use|available`',
          });
        }
        return x.size >= sizeGiB && x.status !== 'extending'
          ? { done: true, value: x }
          : { done: false, seen: `${x.status}, ${x.size} GiB` };
      },
      `volume ${id} to be ${sizeGiB} GiB`,
      { intervalMs: 1000, timeoutMs: VOLUME_ACTION_TIMEOUT_MS, signal: o.signal },
    );
  }

  async attachVolume(serverId: string, volumeId: string, o: Sig = {}) {
    const v = await getVolume(this.cloud.volume, volumeId, o);
    if (!v.attachments.some((a) => a.serverId === serverId)) {
      try {
        await attachVolume(this.cloud.compute, serverId, volumeId, o);
      } catch (err) {
        // 409: an attach that an earlier attempt started is still going on (or done): wait for it below.
        const now = await getVolume(this.cloud.volume, volumeId, o);
        if (
          !(
            isStatus(err, 409) &&
            (now.status === 'attaching' || now.attachments.some((a) => a.serverId === serverId))
          )
        )
          throw err;
      }
    }
    await waitForVolumeStatus(this.cloud.volume, volumeId, 'in-use', {
      timeoutMs: VOLUME_ACTION_TIMEOUT_MS,
      signal: o.signal,
    });
  }

  async detachVolume(serverId: string, volumeId: string, o: Sig = {}) {
    let v: Volume;
    try {
      v = await getVolume(this.cloud.volume, volumeId, o);
    } catch (err) {
      if (isStatus(err, 404)) return;
      throw err;
    }
    if (v.attachments.some((a) => a.serverId === serverId)) {
      await detachVolume(this.cloud.compute, serverId, volumeId, { ...o, ignoreMissing: true });
    } else if (v.status !== 'detaching') return;
    await waitForVolumeStatus(this.cloud.volume, volumeId, 'available', {
      timeoutMs: VOLUME_ACTION_TIMEOUT_MS,
      signal: o.signal,
    });
  }

  close() {
    return this.cloud.close();
  }
}
