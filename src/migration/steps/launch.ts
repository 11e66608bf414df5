// Step 12: a port per NIC on the mapped network (MAC kept when asked), then the server — booting
// from the image or the boot volume, with the data volumes attached — and wait for ACTIVE.
// Ports and the server carry the run's tags, so a resumed step finds them instead of duplicating.
import { NonRetryableError, V2oError } from '../../errors.js';
import { runTag, runTags } from '../params.js';
import type { PlannedPort } from '../plan/types.js';
import { bootDisksOf, createRunServer, waitRunServerActive } from '../run-server.js';
import type { PortInfo, ServerInfo } from '../services.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';

export interface LaunchOutput {
  serverId: string;
  name: string;
  status: string;
  ports: { id: string; name: string; macAddress: string; networkId: string; ips: string[] }[];
  bootFrom: { image?: string; volume?: string };
  dataVolumes: string[];
  consoleTail?: string;
  /** When the server was asked for and when it was ACTIVE (ms since the epoch). */
  startedAt?: number;
  endedAt?: number;
}

export const launch: MigrationStep<LaunchOutput> = {
  id: 'launch',
  title: 'Launch the server',
  retry: { attempts: 3, initialDelayMs: 5_000, backoff: 2, maxDelayMs: 60_000 },
  timeoutMs: 30 * 60_000,
  plan: ({ params }) => {
    const p = params.plan;
    return {
      summary: `server ${p.server.name} on flavor ${p.flavor?.name ?? '?'}, boot from ${p.bootFromVolume ? 'volume' : 'image'}, ${p.ports.length} port(s)`,
      details: {
        flavor: p.flavor,
        bootFromVolume: p.bootFromVolume,
        ports: p.ports,
        metadata: p.server.metadata,
      },
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const startedAt = ctx.clock.now();
    const { target } = ctx.services;
    const tag = runTag(ctx.runId);
    const sig = { signal: ctx.signal };

    const ports = await ensurePorts(ctx);

    const disks = bootDisksOf(ctx);

    let server: ServerInfo | undefined = (await target.findServersByTag([tag], sig))[0];
    if (server && server.status === 'ERROR') {
      ctx.log.warn(
        { serverId: server.id, fault: server.fault },
        'deleting a server a previous attempt left in ERROR',
      );
      await target.deleteServer(server.id, sig);
      server = undefined;
    }
    if (!server) {
      server = await createRunServer(
        ctx,
        disks,
        ports.map((p) => p.id),
      );
      ctx.checkpoint({ serverId: server.id });
    }
    crashPoint(ctx, 'mid');
    server = await waitRunServerActive(ctx, server.id);
    const consoleTail = await target.consoleLogTail(server.id, 50, sig).catch((err) => {
      ctx.log.warn({ err }, 'console log unavailable');
      return undefined;
    });
    crashPoint(ctx, 'after');
    return {
      serverId: server.id,
      name: server.name,
      status: server.status,
      ports: ports.map((p) => ({
        id: p.id,
        name: p.name,
        macAddress: p.macAddress,
        networkId: p.networkId,
        ips: p.fixedIps.map((i) => i.ipAddress),
      })),
      bootFrom: { image: disks.imageId, volume: disks.volumeId },
      dataVolumes: disks.dataVolumeIds,
      consoleTail,
      startedAt,
      endedAt: ctx.clock.now(),
    };
  },
  async compensate(ctx) {
    const { target } = ctx.services;
    const tag = runTag(ctx.runId);
    for (const s of await target.findServersByTag([tag], { signal: ctx.signal }))
      await target.deleteServer(s.id, { signal: ctx.signal });
    for (const p of await target.findPortsByTag([tag], { signal: ctx.signal }))
      await target.deletePort(p.id, { signal: ctx.signal });
  },
};

/** The port's fixed IPs: the plan's addresses, or (runs planned before issue 13) its one fixedIp / subnet. */
export function portFixedIps(p: PlannedPort): { subnetId?: string; ipAddress?: string }[] | undefined {
  if (p.fixedIps?.length) return p.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress }));
  if (p.fixedIp || p.subnetId) return [{ subnetId: p.subnetId, ipAddress: p.fixedIp }];
  return undefined;
}

/** The plan's ports of this run, found by tag or created; a port must carry the MAC it was planned with. */
async function ensurePorts(ctx: Ctx): Promise<PortInfo[]> {
  const { target } = ctx.services;
  const sig = { signal: ctx.signal };
  const existingPorts = await target.findPortsByTag([runTag(ctx.runId)], sig);
  const ports: PortInfo[] = [];
  for (const p of ctx.params.plan.ports) {
    let port = existingPorts.find((x) => x.name === p.name);
    if (!port) {
      port = await target
        .createPort(
          {
            name: p.name,
            networkId: p.networkId,
            macAddress: p.macAddress,
            fixedIps: portFixedIps(p),
            allowedAddressPairs: p.allowedAddressPairs,
            tags: runTags(ctx.runId),
          },
          sig,
        )
        .catch((err: Error) => {
          // Someone took the MAC since preflight: retrying cannot help, a person must decide.
          if (/IpAddressAlreadyAllocated|IpAddressInUse/.test(err.message)) {
            const ips = (p.fixedIps ?? []).map((f) => f.ipAddress).join(', ');
            throw new NonRetryableError(
              `an address of ${p.nicLabel} (${ips}) is already held by another port on network ${p.networkName}`,
              {
                cause: err,
                hint: `find it (openstack port list --fixed-ip ip-address=<address>), delete it if it is left over and \`v2o resume ${ctx.runId}\`, or cancel and migrate with other fixedIps for port group "${p.portGroup}"`,
              },
            );
          }
          if (/MacAddressInUse/.test(err.message)) {
            throw new NonRetryableError(
              `the source MAC ${p.macAddress} is already used by another port on network ${p.networkName}`,
              {
                cause: err,
                hint: `delete that port (openstack port list --mac-address ${p.macAddress}) and \`v2o resume ${ctx.runId}\`, or cancel and migrate with keepMac: false`,
              },
            );
          }
          throw err;
        });
      ctx.event('port.created', { portId: port.id, mac: port.macAddress });
    }
    if (p.macAddress && port.macAddress.toLowerCase() !== p.macAddress) {
      throw new V2oError(`port ${port.id} has MAC ${port.macAddress}, expected ${p.macAddress}`, {
        hint: 'the network refused the source MAC (port security or a MAC already in use); check `openstack port list --mac-address`',
      });
    }
    ports.push(port);
  }
  return ports;
}
