// The one way a run creates its server, used by launch and by verify-boot's SATA fallback (a new
// server is the only way to change the disk bus: Nova copies image properties into the instance
// when it is created). Ports and volumes are made beforehand and outlive the server:
// pre-made ports are never deleted with it, and every volume has delete_on_termination false.
import { V2oError } from '../errors.js';
import { runTags } from './params.js';
import type { ServerInfo } from './services.js';
import type { Ctx } from './steps/common.js';
import type { CreateVolumesOutput } from './steps/create-volumes.js';
import type { DetachVolumesOutput } from './steps/detach-volumes.js';
import type { UploadImagesOutput } from './steps/upload-images.js';

/** ACTIVE can take long on a busy cloud (image download to the compute node). */
export const SERVER_ACTIVE_TIMEOUT_MS = 20 * 60_000;

export interface BootDisks {
  /** Boot from this Glance image (local disk) … */
  imageId?: string;
  /** … or from this Cinder volume. */
  volumeId?: string;
  /** In disk order. */
  dataVolumeIds: string[];
}

/** What the server boots from and which volumes it gets, from the earlier steps' outputs. */
export function bootDisksOf(ctx: Ctx): BootDisks {
  const plan = ctx.params.plan;
  const images = ctx.outputOf<UploadImagesOutput>('upload-images')?.images ?? [];
  // Volumes made from images (create-volumes) and volumes written on the conversion host (detach-volumes).
  const volumes = [
    ...(ctx.outputOf<CreateVolumesOutput>('create-volumes')?.volumes ?? []),
    ...(ctx.outputOf<DetachVolumesOutput>('detach-volumes')?.volumes ?? []),
  ];
  const volumeId = plan.bootFromVolume ? volumes.find((v) => v.index === 0)?.id : undefined;
  const imageId = plan.bootFromVolume ? undefined : images.find((i) => i.index === 0)?.id;
  if (!volumeId && !imageId) {
    throw new V2oError('nothing to boot from: no boot image or volume in the earlier steps', {
      hint: `cancel with \`v2o cancel ${ctx.runId} --rollback\` and migrate again`,
    });
  }
  const dataVolumeIds = volumes
    .filter((v) => v.index !== 0)
    .sort((a, b) => a.index - b.index)
    .map((v) => v.id);
  return { imageId, volumeId, dataVolumeIds };
}

/** Creates the run's server on these ports (tagged with the run, so a re-run finds it). */
export async function createRunServer(ctx: Ctx, disks: BootDisks, portIds: string[]): Promise<ServerInfo> {
  const plan = ctx.params.plan;
  const server = await ctx.services.target.createServer(
    {
      name: plan.server.name,
      flavorId: plan.flavor!.id,
      imageId: disks.imageId,
      bootVolumeId: disks.volumeId,
      dataVolumeIds: disks.dataVolumeIds,
      portIds,
      metadata: { ...plan.server.metadata, v2o_run: ctx.runId },
      tags: runTags(ctx.runId),
    },
    { signal: ctx.signal },
  );
  ctx.event('server.created', { serverId: server.id });
  return server;
}

export async function waitRunServerActive(ctx: Ctx, id: string): Promise<ServerInfo> {
  ctx.progress.update({ message: `waiting for ${id} to be ACTIVE` });
  return ctx.services.target.waitServer(id, 'ACTIVE', SERVER_ACTIVE_TIMEOUT_MS, { signal: ctx.signal });
}
