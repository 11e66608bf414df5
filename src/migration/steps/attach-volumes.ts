// For every volume-route disk: an empty Cinder volume (bootable for the boot disk) in the
// conversion host's availability zone, attached to the conversion host, and its block device
// found by the volume id (never guessed as /dev/vdX). Look before create: the run's volumes are
// found by metadata (v2o_run, v2o_disk), each id journaled right after its create, and a volume
// the host already holds is not attached again.
import { V2oError } from '../../errors.js';
import { findAttachedDevice } from '../../transfer/find-device.js';
import {
  conversionHost,
  conversionHostSettings,
  deviceOptions,
  pinToThisWorker,
} from '../copy/conversion-host.js';
import { namedError, volumeLimit } from '../copy/errors.js';
import type { AttachedDisk } from '../copy/pass.js';
import { volumeDisks } from '../copy/routes.js';
import { runMetadata } from '../params.js';
import type { VolumeInfo } from '../services.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';

export interface AttachVolumesOutput {
  hostId: string;
  hostName: string;
  disks: (AttachedDisk & { name: string; bootable: boolean })[];
}

interface Saved {
  hostId?: string;
  /** Volume id per disk index, journaled right after its create. */
  volumeIds: Record<number, string>;
}

export const attachVolumes: MigrationStep<AttachVolumesOutput> = {
  id: 'attach-volumes',
  title: 'Attach volumes to the conversion host',
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 60_000,
    nonRetryable: ['ConversionHostError', 'VolumeLimitError', 'DeviceNotFoundError'],
  },
  timeoutMs: 30 * 60_000,
  plan: ({ params }) => {
    const disks = params.plan.disks.filter((d) => d.route === 'volume');
    if (disks.length === 0)
      return { summary: 'every disk goes through Glance: no volume to attach', skip: true };
    const h = params.plan.settings.conversionHost;
    const host = params.plan.conversionHost;
    const routes = params.plan.disks
      .map(
        (d) =>
          `${d.label} → ${d.route}${d.resumesMidDisk ? ' (resumes mid-disk)' : ' (a Glance upload starts the disk again)'}${d.allocatedAreas ? ` [${d.allocatedAreas}]` : ''}`,
      )
      .join('; ');
    return {
      summary: `${routes}. ${disks.length} empty volume(s) attached to conversion host ${host?.name ?? h?.server}${host?.availabilityZone ? ` in zone ${host.availabilityZone}` : ''}, devices found by id under ${h?.deviceDir}`,
      details: {
        conversionHost: { ...h, ...host },
        disks: disks.map((d) => ({
          disk: d.label,
          route: d.route,
          resumesMidDisk: d.resumesMidDisk,
          layout: d.layout,
          allocatedAreas: d.allocatedAreas,
          volume: d.volume,
        })),
      },
    };
  },
  skipIf: (ctx) => volumeDisks(ctx).length === 0,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { target } = ctx.services;
    const sig = { signal: ctx.signal };
    const host = await conversionHost(ctx);
    pinToThisWorker(ctx); // from the first attach on, the volumes are this host's
    const saved: Saved = structuredClone((ctx.lastCheckpoint as Saved | undefined) ?? { volumeIds: {} });
    saved.hostId = host.id;
    const mine = await target.findVolumesByMetadata({ v2o_run: ctx.runId }, sig);
    const out: AttachVolumesOutput['disks'] = [];
    for (const disk of volumeDisks(ctx)) {
      const v = disk.volume!;
      let vol: VolumeInfo | undefined =
        mine.find((x) => x.id === saved.volumeIds[disk.index]) ??
        mine.find((x) => x.metadata.v2o_disk === String(disk.index) && x.name === v.name);
      if (vol && (vol.status === 'error' || vol.status === 'error_deleting')) {
        ctx.log.warn({ volumeId: vol.id, status: vol.status }, 'replacing a failed volume');
        await target.deleteVolume(vol.id, sig);
        vol = undefined;
      }
      if (!vol) {
        vol = await target
          .createEmptyVolume(
            {
              name: v.name,
              sizeGiB: v.sizeGiB,
              volumeType: v.volumeType,
              availabilityZone: host.availabilityZone,
              bootable: disk.role === 'boot',
              metadata: { ...runMetadata(ctx.runId), v2o_disk: String(disk.index) },
            },
            sig,
          )
          .catch((err) => {
            throw volumeLimit(err, `volume ${v.name}`, host.name);
          });
        saved.volumeIds[disk.index] = vol.id;
        ctx.checkpoint(saved); // journaled before anything else can fail
        ctx.event('volume.created', { volumeId: vol.id, name: v.name });
      }
      const held = host.attachedVolumeIds.includes(vol.id) || vol.attachedServerIds?.includes(host.id);
      if (!held) {
        if (vol.status !== 'available') vol = await target.waitVolume(vol.id, 'available', 10 * 60_000, sig);
        await target.attachVolume(host.id, vol.id, sig).catch((err) => {
          throw volumeLimit(err, `volume ${v.name}`, host.name);
        });
      }
      crashPoint(ctx, 'mid');
      const device = await findAttachedDevice(vol.id, deviceOptions(ctx)).catch((err) => {
        // C's DeviceNotFoundError names what was looked for and the fix; keep it as it is.
        if (namedError(err, 'DeviceNotFoundError')) throw err;
        throw new V2oError(
          `the device of volume ${vol!.id} did not appear on ${host.name}: ${(err as Error).message}`,
          {
            cause: err,
            hint: `check \`lsblk\` and the device directory ${conversionHostSettings(ctx).deviceDir} (conversionHost.deviceDir, or v2o worker --device-dir), and the attachment in \`openstack server show ${host.id}\``,
          },
        );
      });
      if (!held) ctx.event('volume.attached', { volumeId: vol.id, device });
      const fresh = (await target.getVolume(vol.id, sig)) ?? vol;
      out.push({
        index: disk.index,
        key: disk.key,
        volumeId: vol.id,
        device,
        encrypted: fresh.encrypted ?? false,
        sizeGiB: v.sizeGiB,
        name: v.name,
        bootable: disk.role === 'boot',
      });
    }
    crashPoint(ctx, 'after');
    return { hostId: host.id, hostName: host.name, disks: out };
  },
  async compensate(ctx, output) {
    const { target } = ctx.services;
    const sig = { signal: ctx.signal };
    const hostId = output?.hostId ?? (ctx.lastCheckpoint as Saved | undefined)?.hostId;
    for (const v of await target.findVolumesByMetadata({ v2o_run: ctx.runId }, sig)) {
      if (hostId && (v.attachedServerIds === undefined || v.attachedServerIds.includes(hostId))) {
        await target.detachVolume(hostId, v.id, sig);
        ctx.event('volume.detached', { volumeId: v.id });
      }
      await target.deleteVolume(v.id, sig);
    }
  },
};
