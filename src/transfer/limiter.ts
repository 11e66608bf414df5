// Concurrency limits for disk copies: per source host (an ESXi host's NFC service tolerates only a few
// streams), per target (Glance API / Cinder backend) and overall. Limits are data from the plan.
import { InterruptedError } from '../errors.js';

export interface TransferLimits {
  /** Copies in flight in total. */
  overall: number;
  /** Copies reading from one ESXi host / vCenter at once. */
  perSource: number;
  /** Copies writing into one target (Glance endpoint, Cinder backend) at once. */
  perTarget: number;
}

/** Defaults: vSphere NFC caps streams per host (VMware documents 52 per host, but throughput saturates far
 * sooner); Glance on one API node writes a few uploads well. */
export const DEFAULT_TRANSFER_LIMITS: TransferLimits = { overall: 4, perSource: 2, perTarget: 4 };

/** A counting semaphore whose waiters are served in order and can be cancelled by a signal. */
export class Semaphore {
  private inUse = 0;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be >= 1, got ${limit}`);
  }
  get active(): number {
    return this.inUse;
  }
  get pending(): number {
    return this.waiters.length;
  }
  async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new InterruptedError('aborted while waiting for a transfer slot');
    if (this.inUse < this.limit) {
      this.inUse++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const w = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new InterruptedError('aborted while waiting for a transfer slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }
  release(): void {
    const next = this.waiters.shift();
    if (next)
      next.resolve(); // the slot passes straight to the next waiter
    else this.inUse--;
  }
}

export interface TransferSlotKeys {
  source: string;
  target: string;
}

/**
 * Keyed semaphores for the three limits. Slots are taken in a fixed order (overall is last) so a copy
 * waiting for a busy source host does not hold an overall slot another host could use.
 */
export class TransferLimiter {
  readonly limits: TransferLimits;
  private readonly overall: Semaphore;
  private readonly bySource = new Map<string, Semaphore>();
  private readonly byTarget = new Map<string, Semaphore>();

  constructor(limits: Partial<TransferLimits> = {}) {
    this.limits = { ...DEFAULT_TRANSFER_LIMITS, ...limits };
    this.overall = new Semaphore(this.limits.overall);
  }

  private keyed(map: Map<string, Semaphore>, key: string, limit: number): Semaphore {
    let s = map.get(key);
    if (!s) {
      s = new Semaphore(limit);
      map.set(key, s);
    }
    return s;
  }

  /** Copies running now, overall and per key (for tests and status lines). */
  stats(): { overall: number; source: Record<string, number>; target: Record<string, number> } {
    const count = (m: Map<string, Semaphore>) => Object.fromEntries([...m].map(([k, s]) => [k, s.active]));
    return { overall: this.overall.active, source: count(this.bySource), target: count(this.byTarget) };
  }

  /**
   * Run fn while holding only a source slot: an export session (an HttpNfcLease) counts against
   * its ESXi host for as long as it is open, whatever its disks' streams do (VMware caps NFC
   * sessions per host); its disks then take their stream slots with a key of their own.
   */
  async runSource<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const s = this.keyed(this.bySource, key, this.limits.perSource);
    await s.acquire(signal);
    try {
      return await fn();
    } finally {
      s.release();
    }
  }

  /** Run fn while holding a slot for its source, its target and overall. */
  async run<T>(keys: TransferSlotKeys, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const taken: Semaphore[] = [];
    try {
      for (const s of [
        this.keyed(this.bySource, keys.source, this.limits.perSource),
        this.keyed(this.byTarget, keys.target, this.limits.perTarget),
        this.overall,
      ]) {
        await s.acquire(signal);
        taken.push(s);
      }
      return await fn();
    } finally {
      for (const s of taken.reverse()) s.release();
    }
  }
}

/** What a copy needs of a limiter: this process's TransferLimiter, or one shared by a fleet of workers. */
export type SlotLimiter = Pick<TransferLimiter, 'run' | 'runSource' | 'limits'>;

let provider: ((l: TransferLimits) => SlotLimiter) | undefined;
const local = new Map<string, TransferLimiter>();

/**
 * Where copies take their slots: a `v2o worker` on PostgreSQL installs the fleet's (slots in the
 * database, so the plan's limits hold over all workers together); otherwise one limiter per set of
 * limits for the whole process, so parallel runs share the plan's limits.
 */
export function useLimiterProvider(p: ((l: TransferLimits) => SlotLimiter) | undefined): void {
  provider = p;
}

export function sharedLimiter(l: TransferLimits): SlotLimiter {
  if (provider) return provider(l);
  const key = JSON.stringify(l);
  let x = local.get(key);
  if (!x) {
    x = new TransferLimiter(l);
    local.set(key, x);
  }
  return x;
}
