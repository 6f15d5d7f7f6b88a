// Work in progress, so shutdown can wait for it (bounded) instead of cutting
// a transaction off half-way.
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  get size(): number {
    return this.pending.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    const p = work.finally(() => this.pending.delete(p));
    p.catch(() => undefined); // the caller handles the rejection; this copy must not be "unhandled"
    this.pending.add(p);
    return work;
  }

  /** Resolves true when everything finished, false when graceMs ran out first. */
  async drain(graceMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); });
    const all = Promise.allSettled([...this.pending]).then(() => true as const);
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }
}
