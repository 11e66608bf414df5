// The transfer limits (overall / per source host / per target) over the whole fleet: the same `run`
// shape as TransferLimiter, with each slot taken from the PostgreSQL SlotPool instead of this process.
import { DEFAULT_TRANSFER_LIMITS, type TransferLimits, type TransferSlotKeys } from '../transfer/limiter.js';
import { holdSlot, type SlotPool } from './slots.js';

/** Slot names in the pool: one namespace per limit, keyed like the local limiter. */
export const transferSlotNames = (keys: TransferSlotKeys) => ({
  source: `transfer:source:${keys.source}`,
  target: `transfer:target:${keys.target}`,
  overall: 'transfer:overall',
});

/** vCenter's HttpNfcLease timeout (info.leaseTimeout) and how often v2o reports progress on a lease. */
const EXPORT_LEASE_TIMEOUT_MS = 300_000;
const LEASE_PROGRESS_EVERY_MS = 30_000;

export class FleetTransferLimiter {
  readonly limits: TransferLimits;

  constructor(
    private readonly pool: SlotPool,
    private readonly holder: { runId: string; worker: string },
    limits: Partial<TransferLimits> = {},
    /** A slot not renewed for this long returns to the fleet (a dead worker's copy). Default 30 s. */
    private readonly ttlMs = 30_000,
  ) {
    this.limits = { ...DEFAULT_TRANSFER_LIMITS, ...limits };
  }

  /**
   * As TransferLimiter.runSource: one fleet slot for the source (an export session) while fn runs.
   * A dead worker's export lease stays open on vSphere until it times out — info.leaseTimeout,
   * 300 s on vCenter, counted from its last HttpNfcLeaseProgress, which v2o sends every 30 s — and
   * another process cannot abort it (the lease belongs to the dead process's session). So the
   * slot is renewed every 30 s and outlives the holder by the lease timeout plus one renewal:
   * the fleet never opens more sessions on a host than the plan allows, even around a crash.
   */
  async runSource<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const slot = await holdSlot(
      this.pool,
      transferSlotNames({ source: key, target: '' }).source,
      this.limits.perSource,
      this.holder,
      {
        ttlMs: EXPORT_LEASE_TIMEOUT_MS + LEASE_PROGRESS_EVERY_MS,
        renewEveryMs: LEASE_PROGRESS_EVERY_MS,
        signal: signal ?? new AbortController().signal,
      },
    );
    try {
      return await fn();
    } finally {
      await slot.release().catch(() => {});
    }
  }

  /** Run fn while holding a fleet slot for its source, its target and overall (overall last, as locally). */
  async run<T>(keys: TransferSlotKeys, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const names = transferSlotNames(keys);
    const sig = signal ?? new AbortController().signal;
    const held: { release(): Promise<void> }[] = [];
    try {
      for (const [name, limit] of [
        [names.source, this.limits.perSource],
        [names.target, this.limits.perTarget],
        [names.overall, this.limits.overall],
      ] as const) {
        held.push(await holdSlot(this.pool, name, limit, this.holder, { ttlMs: this.ttlMs, signal: sig }));
      }
      return await fn();
    } finally {
      for (const h of held.reverse()) await h.release().catch(() => {});
    }
  }
}
