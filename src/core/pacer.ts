// Spreads a burst of work over time at a fixed rate: start-up
// re-establishment of thousands of subscriptions must not hit the SIP proxy
// or the XMPP server all at once (issue: "spread over time, rate-limited").
//
// Tasks are released by elapsed time since the burst began, so time spent
// running them and late timers are made up for: the rate is kept as long as
// the process can keep up, and never exceeded.
import { performance } from 'node:perf_hooks';

export class Pacer {
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** When the current burst began, and how many of its tasks have run. */
  private startedAt = 0;
  private released = 0;

  /** `perSecond` tasks per second at most (a positive number). */
  constructor(private readonly perSecond: number) {
    if (!(perSecond > 0)) throw new TypeError('perSecond must be positive');
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues a task; tasks run in order. Ignored after close(). */
  add(task: () => void): void {
    if (this.closed) return;
    this.queue.push(task);
    if (this.timer === undefined) {
      this.startedAt = performance.now();
      this.released = 0;
      this.timer = setTimeout(() => this.tick(), 0);
    }
  }

  private tick(): void {
    const elapsed = performance.now() - this.startedAt;
    // One at once, then one per 1/perSecond s since the burst began.
    const due = Math.floor((elapsed * this.perSecond) / 1000) + 1 - this.released;
    for (let i = 0; i < due && this.queue.length > 0; i++) {
      this.released += 1;
      this.queue.shift()!();
    }
    if (this.queue.length === 0) {
      this.timer = undefined;
      return;
    }
    const nextAt = this.startedAt + (this.released * 1000) / this.perSecond;
    // Timers are not finer than about a millisecond; batches make up the rest.
    this.timer = setTimeout(() => this.tick(), Math.max(1, nextAt - performance.now()));
  }

  /** Drops what has not run yet. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
