// Rollback by tag: everything this run created in OpenStack carries its tag (Cinder: metadata),
// so it can be found and deleted even when the step that created it never finished.
// Order matters: servers hold ports and volumes; volumes may hold images' data.
import type { Logger } from 'pino';
import { runTag } from './params.js';
import type { TargetOps } from './services.js';

export interface SweepResult {
  servers: string[];
  ports: string[];
  volumes: string[];
  images: string[];
}

export async function sweepRunResources(
  target: TargetOps,
  runId: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<SweepResult> {
  const tag = runTag(runId);
  const o = { signal };
  const out: SweepResult = { servers: [], ports: [], volumes: [], images: [] };
  for (const s of await target.findServersByTag([tag], o)) {
    await target.deleteServer(s.id, o);
    out.servers.push(s.id);
  }
  for (const p of await target.findPortsByTag([tag], o)) {
    await target.deletePort(p.id, o);
    out.ports.push(p.id);
  }
  for (const v of await target.findVolumesByMetadata({ v2o_run: runId }, o)) {
    await target.deleteVolume(v.id, o);
    out.volumes.push(v.id);
  }
  for (const i of await target.findImagesByTag([tag], o)) {
    await target.deleteImage(i.id, o);
    out.images.push(i.id);
  }
  log.info(out, 'rollback: deleted the run’s OpenStack resources');
  return out;
}
