// Step 13: ACTIVE is not a boot. Wait for the first-boot task's own line on the server's console
// log (this run's id AND this server's SMBIOS UUID) within bootTimeoutSeconds. Without it, and when
// the plan allows (bootFallback: sata), delete the server (ports and volumes stay), set
// hw_disk_bus=sata on the boot image or volume (Nova copies image properties into the instance at
// create, so only a new server changes the bus), create a new one through launch's code and wait
// again. Never two servers of a run at once. Each attempt is journaled (checkpoint), so a resumed
// step continues the attempt it was in and reaches the same end. A guest that reported is then
// held to what the plan meant its first-boot task to replay (firstboot/compare.ts): a mismatch
// fails the run, keeps the server and never falls back to SATA (the guest did boot).
import { NonRetryableError } from '../../errors.js';
import { FIRSTBOOT_MAX_BOOTS } from '../firstboot/actions.js';
import { compareReplay, describeReplayProblems } from '../firstboot/compare.js';
import { firstbootConfigV2 } from '../firstboot/config.js';
import { consoleTail, type FirstbootMarker, findMarker } from '../firstboot/marker.js';
import { runTag } from '../params.js';
import type { DiskBus } from '../plan-file.js';
import { bootDisksOf, createRunServer, waitRunServerActive } from '../run-server.js';
import { type Ctx, crashPoint, type MigrationStep } from './common.js';
import { plannedBootBus } from './install-firstboot.js';
import type { LaunchOutput } from './launch.js';

export interface BootAttempt {
  serverId: string;
  /** The bus Nova was asked for (hw_disk_bus). */
  bus: DiskBus;
  outcome: 'booted' | 'no-marker';
  /** When this attempt's wait began (ms since the epoch): a resumed wait keeps its deadline. */
  startedAt: number;
  endedAt: number;
  marker?: FirstbootMarker;
  /** The end of the console log when the attempt gave up: the evidence. */
  consoleTail?: string;
}

export interface VerifyBootOutput {
  outcome: 'booted' | 'unchecked';
  /** The bus the guest reported for its boot disk (unchecked: the planned one). */
  bus: string;
  /** The server that booted (it replaces launch's after a fallback). */
  serverId: string;
  attempts: BootAttempt[];
  marker?: FirstbootMarker;
  warning?: string;
  /** The first-boot replay held against the plan: what Windows decides itself is only said. */
  replay?: { checked: boolean; boot?: number; notes: string[] };
}

interface BootCheckpoint {
  attempts: BootAttempt[];
  /** The attempt in flight: its server (once created) and when its wait began. */
  current?: { bus: DiskBus; serverId?: string; startedAt?: number };
}

export class BootVerificationError extends NonRetryableError {}
/** Windows booted, but its first-boot task did not make it the same server: nothing to fall back to. */
export class FirstbootReplayError extends NonRetryableError {}
export class ConsoleLogUnavailableError extends NonRetryableError {}

/** The buses to try, in order: the planned one, then SATA when the plan allows the fallback. Pure. */
export function attemptBuses(planned: DiskBus, fallback: 'sata' | 'none'): DiskBus[] {
  return fallback === 'sata' && planned !== 'sata' ? [planned, 'sata'] : [planned];
}

/** How often the console log is read: every 5 s, more often for short test timeouts. */
const pollIntervalMs = (timeoutMs: number) => Math.min(5_000, Math.max(1_000, timeoutMs / 10));

export const verifyBoot: MigrationStep<VerifyBootOutput> = {
  id: 'verify-boot',
  title: 'Verify that Windows boots',
  // A failed read of the console log (a 5xx) retries the step, which continues its attempt.
  retry: {
    attempts: 3,
    initialDelayMs: 5_000,
    backoff: 2,
    maxDelayMs: 30_000,
    nonRetryable: ['BootVerificationError', 'ConsoleLogUnavailableError', 'FirstbootReplayError'],
  },
  plan: ({ params }) => {
    const s = params.plan.settings;
    const planned = plannedBootBus({ params });
    if (s.bootCheck === 'none') {
      return {
        summary: 'not checked (bootCheck: none): ACTIVE counts as booted',
        warnings: ['bootCheck: none: no boot verification and no SATA fallback'],
      };
    }
    const buses = attemptBuses(planned, s.bootFallback);
    return {
      summary: `wait up to ${s.bootTimeoutSeconds} s for the first-boot report on the console log (${buses.join(', then ')}${buses.length > 1 ? ' on a new server' : ''}; bootFallback: ${s.bootFallback}), then hold its result to the planned replay`,
      details: { ...s, buses },
    };
  },
  async run(ctx: Ctx) {
    crashPoint(ctx, 'before');
    const s = ctx.params.plan.settings;
    const launched = ctx.outputOf<LaunchOutput>('launch');
    if (!launched) throw new BootVerificationError('no server: the launch step has no output');
    const planned = plannedBootBus(ctx);
    if (s.bootCheck === 'none') {
      const warning =
        'bootCheck: none: the boot was not verified; the server is ACTIVE, which does not mean Windows came up';
      ctx.log.warn(warning);
      ctx.event('boot.unchecked', { serverId: launched.serverId });
      crashPoint(ctx, 'after');
      return { outcome: 'unchecked', bus: planned, serverId: launched.serverId, attempts: [], warning };
    }

    const buses = attemptBuses(planned, s.bootFallback);
    const timeoutMs = s.bootTimeoutSeconds * 1000;
    const cp: BootCheckpoint = structuredClone(
      (ctx.lastCheckpoint as BootCheckpoint | undefined) ?? { attempts: [] },
    );
    const save = () => ctx.checkpoint(cp);

    // A resumed step whose guest had reported (and failed the replay check): never a new server.
    if (cp.attempts.at(-1)?.outcome === 'booted') return recheck(ctx, cp, save, planned);

    while (cp.attempts.length < buses.length) {
      const n = cp.attempts.length;
      const bus = buses[n]!;
      if (!cp.current) {
        cp.current = { bus, serverId: n === 0 ? launched.serverId : undefined };
        save();
      }
      const current = cp.current;
      if (!current.serverId) {
        current.serverId = await replaceServer(ctx, cp, bus, launched);
        save();
        crashPoint(ctx, 'mid');
      }
      const serverId = current.serverId;
      if (n > 0) await waitRunServerActive(ctx, serverId);
      if (current.startedAt === undefined) {
        current.startedAt = ctx.clock.now();
        save();
      }
      const found = await waitForMarker(ctx, serverId, current.startedAt + timeoutMs, timeoutMs);
      const attempt: BootAttempt = {
        serverId,
        bus,
        outcome: found.marker ? 'booted' : 'no-marker',
        startedAt: current.startedAt,
        endedAt: ctx.clock.now(),
        marker: found.marker,
        consoleTail: found.marker ? undefined : consoleTail(found.log),
      };
      cp.attempts.push(attempt);
      cp.current = undefined;
      save();
      ctx.event(found.marker ? 'boot.reported' : 'boot.no-report', {
        serverId,
        bus,
        ...(found.marker ? { marker: found.marker } : { waitedSeconds: s.bootTimeoutSeconds }),
      });
      if (found.marker) {
        crashPoint(ctx, 'after');
        return succeeded(ctx, cp.attempts, planned);
      }
      ctx.log.warn({ serverId, bus }, `no first-boot report within ${s.bootTimeoutSeconds} s`);
    }

    // Every attempt failed. A resumed run looks once more: the guest may have reported meanwhile.
    const last = cp.attempts.at(-1)!;
    const late = await ctx.services.target
      .consoleLog(last.serverId, { signal: ctx.signal })
      .catch(() => undefined);
    const marker = late ? findMarker(late, ctx.runId, last.serverId) : undefined;
    if (marker) {
      last.outcome = 'booted';
      last.marker = marker;
      last.consoleTail = undefined;
      save();
      return succeeded(ctx, cp.attempts, planned);
    }
    throw failed(ctx, cp.attempts, s.bootTimeoutSeconds);
  },
  // No compensate: the servers carry the run's tag, and launch's compensation deletes every one.
};

/** The guest booted already: its latest line (the task tries again at each boot), checked again. */
async function recheck(ctx: Ctx, cp: BootCheckpoint, save: () => void, planned: DiskBus) {
  const reported = cp.attempts.at(-1)!;
  const log = await ctx.services.target
    .consoleLog(reported.serverId, { signal: ctx.signal })
    .catch(() => undefined);
  const latest = log ? findMarker(log, ctx.runId, reported.serverId) : undefined;
  if (latest) {
    reported.marker = latest;
    save();
  }
  return succeeded(ctx, cp.attempts, planned);
}

/** Reads the whole console log until this run's marker from this server appears or the deadline passes. */
async function waitForMarker(
  ctx: Ctx,
  serverId: string,
  deadline: number,
  timeoutMs: number,
): Promise<{ marker?: FirstbootMarker; log: string }> {
  const interval = pollIntervalMs(timeoutMs);
  ctx.progress.update({ message: `waiting for Windows on ${serverId} to report its first boot` });
  for (;;) {
    const log = await ctx.services.target.consoleLog(serverId, { signal: ctx.signal });
    if (log === undefined) {
      // A 404 can also mean the server itself is gone (deleted by hand): say that instead.
      const servers = await ctx.services.target.findServersByTag([runTag(ctx.runId)], { signal: ctx.signal });
      if (!servers.some((x) => x.id === serverId)) {
        throw new BootVerificationError(
          `server ${serverId} no longer exists, so its boot cannot be verified`,
          {
            hint: `\`v2o cancel ${ctx.runId} --rollback\` removes what is left of the run; then migrate again`,
          },
        );
      }
      throw new ConsoleLogUnavailableError(
        `this cloud does not serve the console log of server ${serverId} (os-getConsoleOutput), so the boot cannot be verified`,
        {
          hint: `ask the cloud's operators to enable the serial console log, or set bootCheck: none in the plan (the run then trusts ACTIVE, with a warning) and migrate again; \`v2o cancel ${ctx.runId} --rollback\` removes this run`,
        },
      );
    }
    const marker = findMarker(log, ctx.runId, serverId);
    if (marker || ctx.clock.now() >= deadline) return { marker, log };
    await ctx.sleep(Math.min(interval, Math.max(0, deadline - ctx.clock.now())));
  }
}

/**
 * Removes every server of the run that an earlier attempt used, switches the boot disk to `bus`
 * and creates the next server — or adopts the one a killed process had created already.
 */
async function replaceServer(
  ctx: Ctx,
  cp: BootCheckpoint,
  bus: DiskBus,
  launched: LaunchOutput,
): Promise<string> {
  const { target } = ctx.services;
  const sig = { signal: ctx.signal };
  const tried = new Set(cp.attempts.map((a) => a.serverId));
  let adopted: string | undefined;
  for (const server of await target.findServersByTag([runTag(ctx.runId)], sig)) {
    if (!tried.has(server.id) && server.status !== 'ERROR' && !adopted) {
      adopted = server.id;
      continue;
    }
    ctx.progress.update({ message: `deleting server ${server.id} (no first-boot report)` });
    await target.deleteServer(server.id, sig);
    ctx.event('boot.server-deleted', { serverId: server.id });
  }
  if (adopted) return adopted;

  const disks = bootDisksOf(ctx);
  // The volumes stay (delete_on_termination false) but are detached after the server is gone.
  for (const id of [disks.volumeId, ...disks.dataVolumeIds].filter((x): x is string => !!x))
    await target.waitVolume(id, 'available', 10 * 60_000, sig);
  const set = { hw_disk_bus: bus };
  // virtio-scsi's controller model means nothing on another bus.
  const remove = bus === 'scsi' ? [] : ['hw_scsi_model'];
  if (disks.volumeId) await target.updateVolumeImageMetadata(disks.volumeId, set, remove, sig);
  else await target.updateImageProperties(disks.imageId!, set, remove, sig);
  ctx.event('boot.bus-set', {
    bus,
    on: disks.volumeId ? `volume ${disks.volumeId}` : `image ${disks.imageId}`,
  });
  const server = await createRunServer(
    ctx,
    disks,
    launched.ports.map((p) => p.id),
  );
  return server.id;
}

function succeeded(ctx: Ctx, attempts: BootAttempt[], planned: DiskBus): VerifyBootOutput {
  const last = attempts.at(-1)!;
  const marker = last.marker!;
  let warning: string | undefined;
  if (attempts.length > 1) {
    const failedOn = attempts
      .slice(0, -1)
      .map((a) => `${a.bus} (server ${a.serverId}, deleted)`)
      .join(', ');
    warning = `Windows did not report its first boot on ${failedOn}; it booted on ${last.bus} (server ${last.serverId}). To move to ${planned} later: in the running server install the virtio storage driver (pnputil /add-driver viostor.inf /install from the virtio-win ISO; vioscsi for scsi) and make it boot-critical (Start=0), shut it down, set hw_disk_bus=${planned} on its boot image or volume and rebuild or re-create the server from it`;
    ctx.log.warn({ attempts }, warning);
    ctx.event('boot.fallback', { from: attempts[0]!.bus, to: last.bus, serverId: last.serverId });
  }
  if (marker.bus !== last.bus)
    ctx.log.warn(
      { reported: marker.bus, asked: last.bus },
      'Windows reports its boot disk on another bus than asked',
    );
  const replay = checkReplay(ctx, marker, last.serverId);
  ctx.progress.update({ message: `booted on ${marker.bus} (${marker.hostname}, build ${marker.osBuild})` });
  return {
    outcome: 'booted',
    bus: marker.bus,
    serverId: last.serverId,
    attempts,
    marker,
    warning,
    ...(replay ? { replay } : {}),
  };
}

const LOG = 'C:\\ProgramData\\v2o\\firstboot.log';

/** The marker's `result` against the plan's replay; throws FirstbootReplayError on any difference. */
function checkReplay(ctx: Ctx, marker: FirstbootMarker, serverId: string): VerifyBootOutput['replay'] {
  const plan = ctx.params.plan;
  const config = firstbootConfigV2({ runId: ctx.runId, expectBus: plannedBootBus(ctx), plan });
  const expects = !!(config.network || config.disks || config.guestAgent || config.removeVmwareTools);
  if (!marker.result) {
    if (!expects) return undefined;
    const note =
      'the first-boot report has no result (a task from before firstboot.json version 2?): the replay of the network identity, disks and guest agent was not checked';
    ctx.log.warn(note);
    return { checked: false, notes: [note] };
  }
  const result = marker.result;
  const cmp = compareReplay(config, result, plan.guest);
  const problems = describeReplayProblems(cmp, result.failed);
  for (const n of cmp.notes) ctx.log.warn(n);
  if (problems.length === 0) {
    ctx.event('boot.replayed', { boot: result.boot, ghostsRemoved: result.ghostsRemoved });
    return { checked: true, boot: result.boot, notes: cmp.notes };
  }
  ctx.event('boot.replay-failed', { boot: result.boot, problems });
  const retry =
    result.failed.length > 0 && result.boot < FIRSTBOOT_MAX_BOOTS
      ? ` The task tries again at the next reboot of the server (this was boot ${result.boot} of ${FIRSTBOOT_MAX_BOOTS}): reboot it (openstack server reboot ${serverId}) and \`v2o resume ${ctx.runId}\` checks its new report.`
      : ` The task has stopped (boot ${result.boot} of ${FIRSTBOOT_MAX_BOOTS}${result.failed.length ? '' : ', nothing failed in it'}) and reports no more: fix the server by hand and keep it, or \`v2o cancel ${ctx.runId} --rollback\` to remove it.`;
  throw new FirstbootReplayError(
    `Windows booted on server ${serverId}, but its first-boot task did not make it the same server: ${problems.join('; ')}. The server is kept.`,
    {
      hint: `read ${LOG} in the server (console or RDP) for each action and Windows' words, check the adapters with Get-NetAdapter / Get-NetIPAddress / Get-DnsClientServerAddress and the disks with Get-Disk.${retry}`,
      detail: `first-boot result (boot ${result.boot}):\n${JSON.stringify(result, null, 2)}`,
    },
  );
}

function failed(ctx: Ctx, attempts: BootAttempt[], timeoutSeconds: number): BootVerificationError {
  const last = attempts.at(-1)!;
  const tried = attempts.map((a) => `${a.bus} on server ${a.serverId}`).join(', then ');
  ctx.event('boot.failed', { attempts: attempts.map((a) => ({ serverId: a.serverId, bus: a.bus })) });
  return new BootVerificationError(
    `Windows did not report its first boot within ${timeoutSeconds} s (${tried}); the last server ${last.serverId} is kept for inspection`,
    {
      hint: `read its console (openstack console log show ${last.serverId}) and the drivers in the source VM; \`v2o cancel ${ctx.runId} --rollback\` removes the server and everything else the run made`,
      detail: `console log of server ${last.serverId} (${last.bus}), last lines:\n${last.consoleTail ?? '(empty)'}`,
    },
  );
}
