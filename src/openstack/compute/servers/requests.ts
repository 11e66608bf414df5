// Nova servers: create (image or block_device_mapping_v2; networks or ports; metadata, tags, AZ),
// get, list by name/tag/metadata, wait for a status (with the fault on ERROR), delete, console log.
import { ConfigError, V2oError } from '../../../errors.js';
import { listAllPages } from '../../client/pagination.js';
import type { ServiceClient } from '../../client/service-client.js';
import { poll, type WaitOptions, waitUntilGone } from '../../util/wait.js';
import { type Server, type ServerFault, toServer } from './results.js';
import { serverActionUrl, serversDetailUrl, serversUrl, serverUrl } from './urls.js';

type Sig = { signal?: AbortSignal };

export interface BlockDeviceMapping {
  sourceType: 'image' | 'volume' | 'snapshot' | 'blank';
  destinationType: 'volume' | 'local';
  uuid?: string;
  bootIndex?: number;
  /** GiB, for new volumes (source image/blank). */
  volumeSize?: number;
  deleteOnTermination?: boolean;
  diskBus?: 'virtio' | 'scsi' | 'sata' | 'ide' | 'usb';
  deviceType?: 'disk' | 'cdrom';
  volumeType?: string;
  tag?: string;
}

export type ServerNetwork = { uuid: string; fixedIp?: string; tag?: string } | { port: string; tag?: string };

export interface CreateServerOptions {
  name: string;
  flavorRef: string;
  /** Omit when booting from a volume in blockDevices. */
  imageRef?: string;
  blockDevices?: BlockDeviceMapping[];
  /** Ports (with their MAC and IP) or networks; 'none'/'auto' need microversion 2.37+. */
  networks: ServerNetwork[] | 'none' | 'auto';
  metadata?: Record<string, string>;
  /** Needs microversion 2.52+. */
  tags?: string[];
  availabilityZone?: string;
  keyName?: string;
  /** Plain text; base64-encoded by the builder. */
  userData?: string;
  securityGroups?: string[];
  configDrive?: boolean;
  description?: string;
  schedulerHints?: Record<string, unknown>;
}

/** POST /servers body (pure). Throws ConfigError for what Nova would refuse with a 400. */
export function toServerCreateBody(o: CreateServerOptions): Record<string, unknown> {
  const s: Record<string, unknown> = { name: o.name, flavorRef: o.flavorRef };
  const boot = o.blockDevices?.find((b) => b.bootIndex === 0);
  if (o.imageRef) s.imageRef = o.imageRef;
  else if (!boot) {
    throw new ConfigError(`server '${o.name}' has neither imageRef nor a block device with bootIndex 0`, {
      hint: 'give an image, or a block device mapping with bootIndex 0 (boot from volume)',
    });
  } else if (boot.sourceType === 'image' && boot.destinationType === 'local') {
    s.imageRef = boot.uuid;
  }
  if (o.blockDevices?.length) {
    s.block_device_mapping_v2 = o.blockDevices.map((b) => {
      if (b.sourceType !== 'blank' && !b.uuid) {
        throw new ConfigError(`block device of server '${o.name}' with source ${b.sourceType} needs a uuid`);
      }
      const m: Record<string, unknown> = { source_type: b.sourceType, destination_type: b.destinationType };
      if (b.uuid) m.uuid = b.uuid;
      if (b.bootIndex !== undefined) m.boot_index = b.bootIndex;
      if (b.volumeSize !== undefined) m.volume_size = b.volumeSize;
      if (b.deleteOnTermination !== undefined) m.delete_on_termination = b.deleteOnTermination;
      if (b.diskBus) m.disk_bus = b.diskBus;
      if (b.deviceType) m.device_type = b.deviceType;
      if (b.volumeType) m.volume_type = b.volumeType;
      if (b.tag) m.tag = b.tag;
      return m;
    });
  }
  if (typeof o.networks === 'string') s.networks = o.networks;
  else {
    s.networks = o.networks.map((n) => {
      const out: Record<string, unknown> = 'port' in n ? { port: n.port } : { uuid: n.uuid };
      if ('fixedIp' in n && n.fixedIp) out.fixed_ip = n.fixedIp;
      if (n.tag) out.tag = n.tag;
      return out;
    });
  }
  if (o.metadata && Object.keys(o.metadata).length) {
    for (const [k, v] of Object.entries(o.metadata)) {
      if (k.length === 0 || k.length > 255 || String(v).length > 255) {
        throw new ConfigError(
          `metadata '${k.slice(0, 40)}' of server '${o.name}' is empty or longer than 255`,
        );
      }
    }
    s.metadata = o.metadata;
  }
  if (o.tags?.length) {
    for (const t of o.tags) {
      if (!t || t.length > 60 || /[/,]/.test(t)) {
        throw new ConfigError(`server tag '${t}' is empty, longer than 60, or has '/' or ','`);
      }
    }
    s.tags = o.tags;
  }
  if (o.availabilityZone) s.availability_zone = o.availabilityZone;
  if (o.keyName) s.key_name = o.keyName;
  if (o.userData !== undefined) s.user_data = Buffer.from(o.userData).toString('base64');
  if (o.securityGroups?.length) s.security_groups = o.securityGroups.map((name) => ({ name }));
  if (o.configDrive !== undefined) s.config_drive = o.configDrive;
  if (o.description !== undefined) s.description = o.description;
  const body: Record<string, unknown> = { server: s };
  if (o.schedulerHints) body['OS-SCH-HNT:scheduler_hints'] = o.schedulerHints;
  return body;
}

/** Create (202). Not retried on failure: look for the server by tag/metadata before creating again. */
export async function createServer(
  compute: ServiceClient,
  opts: CreateServerOptions,
  o: Sig = {},
): Promise<{ id: string }> {
  const r = await compute.post<{ server: { id: string } }>(serversUrl(compute), toServerCreateBody(opts), {
    okCodes: [202],
    signal: o.signal,
  });
  return { id: r.server.id };
}

export async function getServer(compute: ServiceClient, id: string, o: Sig = {}): Promise<Server> {
  return toServer(await compute.getOne(serverUrl(compute, id), 'server', o));
}

export interface ListServersOptions {
  /** Exact name (Nova filters by regex; it is anchored and escaped here). */
  name?: string;
  /** Servers carrying all these tags (2.26+). */
  tags?: string[];
  /** Filtered here: Nova cannot filter on metadata for non-admins. */
  metadata?: Record<string, string>;
  status?: string;
  limit?: number;
}

export async function listServers(
  compute: ServiceClient,
  opts: ListServersOptions = {},
  o: Sig = {},
): Promise<Server[]> {
  const found = await listAllPages(
    compute,
    serversDetailUrl(compute),
    'servers',
    {
      name: opts.name ? `^${opts.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$` : undefined,
      tags: opts.tags?.length ? opts.tags.join(',') : undefined,
      status: opts.status,
    },
    { signal: o.signal, limit: opts.limit },
  );
  const out = found.map(toServer);
  return out.filter(
    (s) =>
      (!opts.name || s.name === opts.name) &&
      (opts.tags ?? []).every((t) => s.tags.includes(t)) &&
      Object.entries(opts.metadata ?? {}).every(([k, v]) => s.metadata[k] === v),
  );
}

/** The server went to ERROR; carries Nova's fault. */
export class ServerFaultError extends V2oError {
  constructor(
    readonly serverId: string,
    readonly fault: ServerFault | undefined,
    wanted: string,
  ) {
    const f = fault
      ? `: ${fault.message}${fault.code ? ` (code ${fault.code})` : ''}`
      : ' (Nova gave no fault)';
    super(`server ${serverId} went to ERROR while waiting for ${wanted}${f}`, {
      hint: /No valid host/i.test(fault?.message ?? '')
        ? 'no compute host can take this flavor/image/volume combination: pick a smaller flavor or check the hosts, delete the server and resume'
        : 'see `openstack server show` and `openstack server event list` for the server, fix the cause, delete it and resume',
    });
  }
}

/** Poll until the server has `status` (e.g. 'ACTIVE', 'SHUTOFF'); ERROR fails with the fault. */
export async function waitForServerStatus(
  compute: ServiceClient,
  id: string,
  status: string,
  opts: WaitOptions = {},
): Promise<Server> {
  return poll<Server>(
    async () => {
      const s = await getServer(compute, id, { signal: opts.signal });
      if (s.status === status) return { done: true, value: s };
      if (s.status === 'ERROR') throw new ServerFaultError(id, s.fault, status);
      return { done: false, seen: `${s.status}${s.taskState ? `/${s.taskState}` : ''}` };
    },
    `server ${id} to be ${status}`,
    { intervalMs: 1000, ...opts },
  );
}

/** Delete (204). With ignoreMissing a 404 counts as done. */
export async function deleteServer(
  compute: ServiceClient,
  id: string,
  o: Sig & { ignoreMissing?: boolean } = {},
): Promise<void> {
  await compute.request('DELETE', serverUrl(compute, id), {
    okCodes: o.ignoreMissing ? [204, 404] : [204],
    signal: o.signal,
  });
}

/** Poll until GET says 404. */
export async function waitForServerDeleted(
  compute: ServiceClient,
  id: string,
  opts: WaitOptions = {},
): Promise<void> {
  await waitUntilGone(
    (signal) => getServer(compute, id, { signal }),
    (s) => {
      if (s.status === 'ERROR' && s.taskState !== 'deleting')
        throw new ServerFaultError(id, s.fault, 'deletion');
      return `${s.status}${s.taskState ? `/${s.taskState}` : ''}`;
    },
    `server ${id} to be deleted`,
    { intervalMs: 500, ...opts },
  );
}

/** os-getConsoleOutput: the last `lines` lines (all when omitted). Read-only, so retried. */
export async function getConsoleOutput(
  compute: ServiceClient,
  id: string,
  opts: { lines?: number } & Sig = {},
): Promise<string> {
  const r = await compute.post<{ output: string }>(
    serverActionUrl(compute, id),
    { 'os-getConsoleOutput': opts.lines ? { length: opts.lines } : {} },
    { okCodes: [200], idempotent: true, signal: opts.signal },
  );
  return r.output ?? '';
}
