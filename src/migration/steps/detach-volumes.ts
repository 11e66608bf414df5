// The written volumes off the conversion host, so launch can boot from them: each detached (Nova
// waits for the guest to release it), then the boot volume given the Windows image properties
// (volume_image_metadata: what Nova reads as the image's properties when booting from a volume,
// the same upload-images puts on a Glance image: hw_disk_bus, hw_firmware_type, os_type, ...).
import { volumeDisks } from '../copy/routes.js';
import type { AttachVolumesOutput } from './attach-volumes.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import type { CreatedVolume } from './create-volumes.js';

export interface DetachVolumesOutput {
  /** In the shape of create-volumes' output: launch takes the volumes of both. */
  volumes: CreatedVolume[];
}

export const detachVolumes: MigrationStep<DetachVolumesOutput> = {
  id: 'detach-volumes',
  title: 'Detach the volumes',
  retry: { attempts: 3, initialDelayMs: 5_000, backoff: 2, maxDelayMs: 60_000 },
  timeoutMs: 30 * 60_000,
  plan: ({ params }) => {
    const disks = params.plan.disks.filter((d) => d.route === 'volume');
    if (disks.length === 0) return { summary: 'no volume to detach', skip: true };
    const boot = disks.find((d) => d.role === 'boot');
    return {
      summary: `detach ${disks.length} volume(s) from the conversion host${boot ? '; the boot volume gets the Windows image properties' : ''}`,
      details: boot ? { bootVolumeImageMetadata: boot.image.properties } : {},
    };
  },
  skipIf: (ctx) => volumeDisks(ctx).length === 0,
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const { target } = ctx.services;
    const sig = { signal: ctx.signal };
    const att = ctx.outputOf<AttachVolumesOutput>('attach-volumes')!;
    const out: CreatedVolume[] = [];
    for (const disk of volumeDisks(ctx)) {
      const a = att.disks.find((x) => x.key === disk.key)!;
      // From whichever conversion host holds it now (a reassigned run moved it from att.hostId).
      const holders = (await target.getVolume(a.volumeId, sig))?.attachedServerIds ?? [att.hostId];
      for (const server of holders) {
        await target.detachVolume(server, a.volumeId, sig);
        ctx.event('volume.detached', { volumeId: a.volumeId, from: server });
      }
      if (disk.role === 'boot') {
        await target.updateVolumeImageMetadata(a.volumeId, disk.image.properties, [], sig);
      }
      out.push({
        index: disk.index,
        name: a.name,
        id: a.volumeId,
        sizeGiB: a.sizeGiB,
        bootable: a.bootable,
        fromImageId: '',
      });
    }
    // Off every conversion host: any worker may drive the rest (launch, verify-boot).
    void ctx.setAffinity(null);
    crashPoint(ctx, 'after');
    return { volumes: out };
  },
};
