// The volumes of a run must be attached to the conversion host this process runs on. attach-volumes
// attached them to the host of its day; when the run is driven from another one since (`v2o
// reassign` after a host was lost, or a resume on another conversion host), each volume is detached
// from wherever it is and attached here before a byte is copied. Idempotent: a kill half-way leaves
// volumes that the next attempt finds and moves the rest of the way. A worker pins the run to
// itself (the copy steps that call this run on the host that holds the volumes).
import type { AttachVolumesOutput } from '../steps/attach-volumes.js';
import type { Ctx } from '../steps/common.js';
import { conversionHost, pinToThisWorker } from './conversion-host.js';

export async function volumesOnThisHost(ctx: Ctx): Promise<AttachVolumesOutput['disks']> {
  const { target } = ctx.services;
  const sig = { signal: ctx.signal };
  const out = ctx.outputOf<AttachVolumesOutput>('attach-volumes')!;
  const here = await conversionHost(ctx);
  pinToThisWorker(ctx);
  if (here.id === out.hostId && out.disks.every((d) => here.attachedVolumeIds.includes(d.volumeId)))
    return out.disks;
  for (const d of out.disks) {
    const vol = await target.getVolume(d.volumeId, sig);
    for (const server of vol?.attachedServerIds ?? []) {
      if (server === here.id) continue;
      // Nova detaches from a server that is SHUTOFF or ERROR too; a deleted server holds nothing.
      await target.detachVolume(server, d.volumeId, sig);
      ctx.event('volume.detached', { volumeId: d.volumeId, from: server });
    }
    if (!(vol?.attachedServerIds ?? []).includes(here.id)) {
      await target.attachVolume(here.id, d.volumeId, sig);
      ctx.event('volume.attached', { volumeId: d.volumeId, to: here.id, reassignedFrom: out.hostId });
    }
  }
  return out.disks;
}
