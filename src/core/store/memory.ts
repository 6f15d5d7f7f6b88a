// In-memory PresenceStore for unit tests of other modules: the same contract as the SQLite store
// (spec/unit/store.test.ts runs both), nothing survives the process.
import { StoreClosedError, StoreConflictError } from './errors.js';
import { conflict, normS2x, normX2s, pageSize, presenceArgs } from './records.js';
import type {
  Clock, ListS2xFilter, ListX2sFilter, PresenceEntry, PresenceStore, S2xInput, S2xRecord, X2sInput, X2sRecord,
} from './types.js';

const pairKey = (a: string, b: string): string => JSON.stringify([a, b]);

/** Records by key, plus the unique dialog-id index. */
class Table<R extends { dialog?: { dialogId: string } }> {
  private rows = new Map<string, R>();
  private byDialog = new Map<string, string>();

  constructor(private readonly keyOf: (r: R) => string) {}

  get(key: string): R | undefined {
    return copy(this.rows.get(key));
  }

  put(rec: R): void {
    const key = this.keyOf(rec);
    const dialogId = rec.dialog?.dialogId;
    if (dialogId !== undefined) {
      const owner = this.byDialog.get(dialogId);
      if (owner !== undefined && owner !== key) throw new StoreConflictError(conflict(dialogId));
    }
    const old = this.rows.get(key)?.dialog?.dialogId;
    if (old !== undefined) this.byDialog.delete(old);
    this.rows.set(key, rec);
    if (dialogId !== undefined) this.byDialog.set(dialogId, key);
  }

  /** All or nothing, like a transaction. */
  putMany(recs: readonly R[]): void {
    const rows = new Map(this.rows);
    const byDialog = new Map(this.byDialog);
    try {
      for (const r of recs) this.put(r);
    } catch (err) {
      this.rows = rows;
      this.byDialog = byDialog;
      throw err;
    }
  }

  delete(key: string): boolean {
    const old = this.rows.get(key);
    if (old === undefined) return false;
    if (old.dialog !== undefined) this.byDialog.delete(old.dialog.dialogId);
    return this.rows.delete(key);
  }

  byDialogId(dialogId: string): R | undefined {
    const key = this.byDialog.get(dialogId);
    return key === undefined ? undefined : this.get(key);
  }

  filter(pred: (r: R) => boolean): R[] {
    const out: R[] = [];
    for (const r of this.rows.values()) if (pred(r)) out.push(structuredClone(r));
    return out;
  }
}

function copy<T>(v: T | undefined): T | undefined {
  return v === undefined ? undefined : structuredClone(v);
}

interface CachedPresence extends PresenceEntry {
  expiresAt: number;
}

class MemoryStore implements PresenceStore {
  private readonly x2s = new Table<X2sRecord>((r) => pairKey(r.xmppUser, r.sipContact));
  private readonly s2x = new Table<S2xRecord>((r) => pairKey(r.sipWatcher, r.xmppUser));
  private readonly presence = new Map<string, Map<string, CachedPresence>>();
  private closed = false;

  constructor(private readonly now: Clock) {}

  private open(): void {
    if (this.closed) throw new StoreClosedError();
  }

  async getX2s(xmppUser: string, sipContact: string): Promise<X2sRecord | undefined> {
    this.open();
    return this.x2s.get(pairKey(xmppUser, sipContact));
  }

  async putX2s(rec: X2sInput): Promise<void> {
    this.open();
    this.x2s.put(normX2s(rec, this.now()));
  }

  async putX2sMany(recs: readonly X2sInput[]): Promise<void> {
    this.open();
    const now = this.now();
    this.x2s.putMany(recs.map((r) => normX2s(r, now)));
  }

  async deleteX2s(xmppUser: string, sipContact: string): Promise<boolean> {
    this.open();
    return this.x2s.delete(pairKey(xmppUser, sipContact));
  }

  async listX2sByUser(xmppUser: string): Promise<X2sRecord[]> {
    this.open();
    return this.x2s.filter((r) => r.xmppUser === xmppUser);
  }

  async *listX2s(filter: ListX2sFilter = {}): AsyncIterable<X2sRecord> {
    this.open();
    pageSize(filter.pageSize);
    // A snapshot: writes during the iteration cannot disturb it.
    yield* this.x2s.filter((r) => (filter.state === undefined || r.state === filter.state)
      && (filter.interested === undefined || r.interested === filter.interested));
  }

  async findX2sByDialog(dialogId: string): Promise<X2sRecord | undefined> {
    this.open();
    return this.x2s.byDialogId(dialogId);
  }

  async countX2sByUser(xmppUser: string): Promise<number> {
    return (await this.listX2sByUser(xmppUser)).length;
  }

  async getS2x(sipWatcher: string, xmppUser: string): Promise<S2xRecord | undefined> {
    this.open();
    return this.s2x.get(pairKey(sipWatcher, xmppUser));
  }

  async putS2x(rec: S2xInput): Promise<void> {
    this.open();
    this.s2x.put(normS2x(rec, this.now()));
  }

  async putS2xMany(recs: readonly S2xInput[]): Promise<void> {
    this.open();
    const now = this.now();
    this.s2x.putMany(recs.map((r) => normS2x(r, now)));
  }

  async deleteS2x(sipWatcher: string, xmppUser: string): Promise<boolean> {
    this.open();
    return this.s2x.delete(pairKey(sipWatcher, xmppUser));
  }

  async listS2xByUser(xmppUser: string): Promise<S2xRecord[]> {
    this.open();
    return this.s2x.filter((r) => r.xmppUser === xmppUser);
  }

  async *listS2x(filter: ListS2xFilter = {}): AsyncIterable<S2xRecord> {
    this.open();
    pageSize(filter.pageSize);
    yield* this.s2x.filter((r) => filter.authorization === undefined || r.authorization === filter.authorization);
  }

  async findS2xByDialog(dialogId: string): Promise<S2xRecord | undefined> {
    this.open();
    return this.s2x.byDialogId(dialogId);
  }

  async countS2xByWatcher(sipWatcher: string): Promise<number> {
    this.open();
    return this.s2x.filter((r) => r.sipWatcher === sipWatcher).length;
  }

  async putPresence(entity: string, resource: string, json: string, ttlMs: number): Promise<void> {
    this.open();
    const ttlOk = presenceArgs(entity, resource, json, ttlMs);
    const now = this.now();
    const expiresAt = now + ttlOk;
    let resources = this.presence.get(entity);
    if (resources === undefined) this.presence.set(entity, (resources = new Map()));
    resources.set(resource, { resource, json, updatedAt: now, expiresAt });
  }

  async getPresence(entity: string): Promise<PresenceEntry[]> {
    this.open();
    const now = this.now();
    const out: PresenceEntry[] = [];
    for (const e of this.presence.get(entity)?.values() ?? []) {
      if (e.expiresAt > now) out.push({ resource: e.resource, json: e.json, updatedAt: e.updatedAt });
    }
    return out;
  }

  async deletePresence(entity: string, resource?: string): Promise<void> {
    this.open();
    if (resource === undefined) this.presence.delete(entity);
    else this.presence.get(entity)?.delete(resource);
  }

  async purgeExpiredPresence(): Promise<number> {
    this.open();
    const now = this.now();
    let n = 0;
    for (const [entity, resources] of this.presence) {
      for (const [resource, e] of resources) {
        if (e.expiresAt <= now) {
          resources.delete(resource);
          n++;
        }
      }
      if (resources.size === 0) this.presence.delete(entity);
    }
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function createMemoryStore(opts: { now?: Clock } = {}): PresenceStore {
  return new MemoryStore(opts.now ?? Date.now);
}
