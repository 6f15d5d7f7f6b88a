// Runs tasks one at a time per key and in parallel across keys (architecture
// rule 9: order per conversation, parallel across conversations). A key's
// chain is forgotten as soon as it drains, so the table only holds keys with
// work in progress.
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  get size(): number {
    return this.tails.size;
  }

  /** Runs `task` after every task queued before it under `key`; its rejection is the caller's. */
  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
