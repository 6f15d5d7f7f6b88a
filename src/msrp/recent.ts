/** A bounded, insertion-ordered set of ids that forgets its oldest entries (bounded memory for per-session id tables). */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly max: number) {}

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.max) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  clear(): void {
    this.ids.clear();
  }
}
