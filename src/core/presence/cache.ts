// Last known presence per resource, for answering probes and fetches from
// cache (RFC 6121 §4.3.2, RFC 8048 §5.3.2 and §7) and for noticing resources
// that vanished between two full-state NOTIFYs. Bounded in keys and in
// resources per key (architecture rule 7): a flood of resources or contacts
// evicts the oldest entries, never grows memory without limit.
import type { XmppPresence } from './model.js';

export interface CachedPresence {
  presence: XmppPresence;
  /** When this resource's state last changed (epoch ms): the XEP-0203 stamp of a probe answer. */
  at: number;
}

/** Resources kept per key; closed ones are dropped first. */
export const MAX_RESOURCES = 16;

export class PresenceCache {
  private readonly entries = new Map<string, Map<string, CachedPresence>>();

  constructor(readonly maxKeys: number, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  /** Every resource of a key, available and not. */
  get(key: string): CachedPresence[] {
    return [...(this.entries.get(key)?.values() ?? [])];
  }

  /** Available resources only. */
  available(key: string): CachedPresence[] {
    return this.get(key).filter((c) => c.presence.available);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Records one resource's presence; returns true when it differs from what was cached. */
  put(key: string, presence: XmppPresence): boolean {
    let resources = this.entries.get(key);
    if (resources === undefined) {
      if (this.entries.size >= this.maxKeys) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      resources = new Map();
      this.entries.set(key, resources);
    }
    const rkey = presence.resource ?? '';
    const before = resources.get(rkey);
    if (before !== undefined && samePresence(before.presence, presence)) return false;
    resources.delete(rkey);
    resources.set(rkey, { presence, at: this.now() });
    if (resources.size > MAX_RESOURCES) {
      const victim = [...resources.entries()].find(([, c]) => !c.presence.available)?.[0] ?? resources.keys().next().value;
      if (victim !== undefined) resources.delete(victim);
    }
    return true;
  }

  /** Forgets one resource; true when it was cached. */
  remove(key: string, resource: string | undefined): boolean {
    return this.entries.get(key)?.delete(resource ?? '') ?? false;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function samePresence(a: XmppPresence, b: XmppPresence): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
