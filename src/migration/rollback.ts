// Rollback by tag: everything this run created in OpenStack carries its tag (Cinder: metadata),
// so it can be found and deleted even when the step that created it never finished.
// Order matters: servers hold ports and volumes; volumes may hold images' data.
import type { Logger } from 'pino';
import type { StepState } from '../engine/types.js';
import { ConfigError } from '../errors.js';
import { type MigrationParams, runTag } from './params.js';
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

/** Step states in which the target server may have run Windows. */
const BOOTED: Record<string, readonly StepState[]> = {
  launch: ['succeeded'],
  'verify-boot': ['succeeded', 'failed', 'interrupted', 'running', 'cancelled'],
};

/**
 * A domain controller migrated with `domainController: allow` must not come back on VMware once
 * its copy ran on OpenStack: the target may have replicated changes the source never saw, and the
 * source's older USNs would then be a USN rollback (Microsoft: "Detect and recover from an Active
 * Directory USN rollback"). Refuses such a rollback unless forced.
 */
export function checkDomainControllerRollback(
  params: MigrationParams,
  steps: { id: string; state: StepState }[],
  o: { runId: string; force: boolean },
): void {
  if (!params.plan.guest?.domainController || params.plan.settings.domainController !== 'allow') return;
  const booted = steps.find((s) => BOOTED[s.id]?.includes(s.state));
  if (!booted || o.force) return;
  throw new ConfigError(
    `run ${o.runId} (${params.vm}) is not rolled back: ${params.plan.guest.hostname || params.vm} is a domain controller and its target already booted on OpenStack (${booted.id} ${booted.state}). Powering the source on again would bring back a DC whose partners already saw newer updates from its copy: a USN rollback, which Active Directory answers by quarantining the DC and which loses or diverges directory changes`,
    {
      hint: `keep the migrated DC and fix it forward; if the target DC never replicated (or you will demote it and clean up with ntdsutil metadata cleanup): v2o cancel ${o.runId} --rollback --force`,
    },
  );
}
