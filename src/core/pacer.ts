// Spreads a burst of work over time at a fixed rate: start-up
// re-establishment of thousands of subscriptions must not hit the SIP proxy
// or the XMPP server all at once (issue: "spread over time, rate-limited").
export class Pacer {
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly intervalMs: number;

  /** `perSecond` tasks per second at most (a positive number). */
  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new TypeError('perSecond must be positive');
    this.intervalMs = 1000 / perSecond;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues a task; tasks run in order, one per interval. Ignored after close(). */
  add(task: () => void): void {
    if (this.closed) return;
    this.queue.push(task);
    this.timer ??= setTimeout(() => this.tick(), 0);
  }

  private tick(): void {
    // Several tasks per tick when the interval is below the timer resolution.
    const batch = Math.max(1, Math.floor(10 / this.intervalMs));
    for (let i = 0; i < batch && this.queue.length > 0; i++) this.queue.shift()!();
    this.timer = this.queue.length > 0 ? setTimeout(() => this.tick(), this.intervalMs * batch) : undefined;
  }

  /** Drops what has not run yet. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
