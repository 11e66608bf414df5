// Fires once when nothing calls touch() for `timeoutMs` while armed. One coarse interval per transfer
// instead of a timer per chunk (chunks arrive tens of thousands of times a second).

/** No bytes for this long counts as a stall, unless the caller (the plan) says otherwise. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export class StallWatchdog {
  private last = Date.now();
  private armed = true;
  private fired = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly timeoutMs: number,
    private readonly onStall: () => void,
    private readonly now: () => number = Date.now,
    /** While this returns true the silence is someone else's (e.g. the source is reconnecting). */
    private readonly excused: () => boolean = () => false,
  ) {
    this.last = now();
    const tick = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
    this.timer = setInterval(() => this.check(), tick);
    this.timer.unref();
  }

  /** Progress was made. */
  touch(): void {
    this.last = this.now();
  }

  /** Stop watching (e.g. while the other side is the one waiting) until arm(). */
  disarm(): void {
    this.armed = false;
  }

  arm(): void {
    if (!this.armed) this.last = this.now();
    this.armed = true;
  }

  get stalled(): boolean {
    return this.fired;
  }

  /** Exposed for tests with a fake clock; the interval calls it too. */
  check(): void {
    if (this.fired || !this.armed) return;
    if (this.excused()) {
      this.last = this.now();
      return;
    }
    if (this.now() - this.last >= this.timeoutMs) {
      this.fired = true;
      this.stop();
      this.onStall();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
