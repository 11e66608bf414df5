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
