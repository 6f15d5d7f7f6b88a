// The embedded PresenceStore: one SQLite file in dataDir, WAL mode so that readers never block the
// writer and a second process may open the same file. Every value is bound; timestamps are integers.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreClosedError, StoreConflictError, StoreOpenError } from './errors.js';
import { migrate } from './sqlite-schema.js';
import { conflict, normS2x, normX2s, pageSize, presenceArgs } from './records.js';
import type {
  Clock, ListS2xFilter, ListX2sFilter, PresenceEntry, PresenceStore, S2xInput, S2xRecord, X2sInput, X2sRecord,
} from './types.js';

export const DEFAULT_FILENAME = 'gateway.db';
const BUSY_TIMEOUT_MS = 5000;

interface X2sRow {
  xmpp_user: string; sip_contact: string; state: X2sRecord['state']; interested: number;
  dialog_id: string | null; call_id: string | null; local_tag: string | null; remote_tag: string | null;
  expires_at: number | null; retry_at: number | null; updated_at: number;
}
interface S2xRow {
  sip_watcher: string; xmpp_user: string; authz: S2xRecord['authorization'];
  dialog_id: string | null; call_id: string | null; remote_tag: string | null; local_tag: string | null;
  expires_at: number | null; watcher_contact: string | null; updated_at: number;
}
type Pair = [string, string];

function x2sFromRow(r: X2sRow): X2sRecord {
  const rec: X2sRecord = {
    xmppUser: r.xmpp_user, sipContact: r.sip_contact, state: r.state, interested: r.interested === 1, updatedAt: r.updated_at,
  };
  if (r.dialog_id !== null) {
    rec.dialog = { dialogId: r.dialog_id, callId: r.call_id ?? '', localTag: r.local_tag ?? '', expiresAt: r.expires_at ?? 0 };
    if (r.remote_tag !== null) rec.dialog.remoteTag = r.remote_tag;
  }
  if (r.retry_at !== null) rec.retryAt = r.retry_at;
  return rec;
}

function x2sToRow(rec: X2sRecord): X2sRow {
  const d = rec.dialog;
  return {
    xmpp_user: rec.xmppUser, sip_contact: rec.sipContact, state: rec.state, interested: rec.interested ? 1 : 0,
    dialog_id: d?.dialogId ?? null, call_id: d?.callId ?? null, local_tag: d?.localTag ?? null,
    remote_tag: d?.remoteTag ?? null, expires_at: d?.expiresAt ?? null, retry_at: rec.retryAt ?? null,
    updated_at: rec.updatedAt,
  };
}

function s2xFromRow(r: S2xRow): S2xRecord {
  const rec: S2xRecord = { sipWatcher: r.sip_watcher, xmppUser: r.xmpp_user, authorization: r.authz, updatedAt: r.updated_at };
  if (r.dialog_id !== null) {
    rec.dialog = {
      dialogId: r.dialog_id, callId: r.call_id ?? '', remoteTag: r.remote_tag ?? '', localTag: r.local_tag ?? '',
      expiresAt: r.expires_at ?? 0,
    };
    if (r.watcher_contact !== null) rec.dialog.watcherContact = r.watcher_contact;
  }
  return rec;
}

function s2xToRow(rec: S2xRecord): S2xRow {
  const d = rec.dialog;
  return {
    sip_watcher: rec.sipWatcher, xmpp_user: rec.xmppUser, authz: rec.authorization,
    dialog_id: d?.dialogId ?? null, call_id: d?.callId ?? null, remote_tag: d?.remoteTag ?? null,
    local_tag: d?.localTag ?? null, expires_at: d?.expiresAt ?? null, watcher_contact: d?.watcherContact ?? null,
    updated_at: rec.updatedAt,
  };
}

/** Runs a write, turning a dialog-id unique-index violation into StoreConflictError. */
function write<T>(fn: () => T, dialogIds: () => string): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreConflictError(conflict(dialogIds()), { cause: err });
    throw err;
  }
}

function prepare(db: Database.Database) {
  return {
    getX2s: db.prepare<Pair, X2sRow>('SELECT * FROM x2s WHERE xmpp_user = ? AND sip_contact = ?'),
    // An upsert that keeps the row (INSERT OR REPLACE would silently delete the holder of a dialog id).
    putX2s: db.prepare<X2sRow>(`INSERT INTO x2s (xmpp_user, sip_contact, state, interested, dialog_id, call_id,
        local_tag, remote_tag, expires_at, retry_at, updated_at)
      VALUES (@xmpp_user, @sip_contact, @state, @interested, @dialog_id, @call_id,
        @local_tag, @remote_tag, @expires_at, @retry_at, @updated_at)
      ON CONFLICT (xmpp_user, sip_contact) DO UPDATE SET state = excluded.state, interested = excluded.interested,
        dialog_id = excluded.dialog_id, call_id = excluded.call_id, local_tag = excluded.local_tag,
        remote_tag = excluded.remote_tag, expires_at = excluded.expires_at, retry_at = excluded.retry_at,
        updated_at = excluded.updated_at`),
    deleteX2s: db.prepare<Pair>('DELETE FROM x2s WHERE xmpp_user = ? AND sip_contact = ?'),
    x2sByUser: db.prepare<[string], X2sRow>('SELECT * FROM x2s WHERE xmpp_user = ?'),
    countX2s: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM x2s WHERE xmpp_user = ?'),
    x2sByDialog: db.prepare<[string], X2sRow>('SELECT * FROM x2s WHERE dialog_id = ?'),
    // Keyset pagination: each page starts after the last key of the previous one.
    x2sPage: db.prepare<{ a: string; b: string; state: string | null; interested: number | null; limit: number }, X2sRow>(
      `SELECT * FROM x2s WHERE (xmpp_user, sip_contact) > (@a, @b)
        AND (@state IS NULL OR state = @state) AND (@interested IS NULL OR interested = @interested)
        ORDER BY xmpp_user, sip_contact LIMIT @limit`),
    getS2x: db.prepare<Pair, S2xRow>('SELECT * FROM s2x WHERE sip_watcher = ? AND xmpp_user = ?'),
    putS2x: db.prepare<S2xRow>(`INSERT INTO s2x (sip_watcher, xmpp_user, authz, dialog_id, call_id, remote_tag,
        local_tag, expires_at, watcher_contact, updated_at)
      VALUES (@sip_watcher, @xmpp_user, @authz, @dialog_id, @call_id, @remote_tag,
        @local_tag, @expires_at, @watcher_contact, @updated_at)
      ON CONFLICT (sip_watcher, xmpp_user) DO UPDATE SET authz = excluded.authz, dialog_id = excluded.dialog_id,
        call_id = excluded.call_id, remote_tag = excluded.remote_tag, local_tag = excluded.local_tag,
        expires_at = excluded.expires_at, watcher_contact = excluded.watcher_contact,
        updated_at = excluded.updated_at`),
    deleteS2x: db.prepare<Pair>('DELETE FROM s2x WHERE sip_watcher = ? AND xmpp_user = ?'),
    s2xByUser: db.prepare<[string], S2xRow>('SELECT * FROM s2x WHERE xmpp_user = ?'),
    countS2x: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM s2x WHERE sip_watcher = ?'),
    s2xByDialog: db.prepare<[string], S2xRow>('SELECT * FROM s2x WHERE dialog_id = ?'),
    s2xPage: db.prepare<{ a: string; b: string; authz: string | null; limit: number }, S2xRow>(
      `SELECT * FROM s2x WHERE (sip_watcher, xmpp_user) > (@a, @b) AND (@authz IS NULL OR authz = @authz)
        ORDER BY sip_watcher, xmpp_user LIMIT @limit`),
    putPresence: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO presence (entity, resource, json, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (entity, resource) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at,
        expires_at = excluded.expires_at`),
    getPresence: db.prepare<[string, number], { resource: string; json: string; updated_at: number }>(
      'SELECT resource, json, updated_at FROM presence WHERE entity = ? AND expires_at > ?'),
    deletePresence: db.prepare<[string]>('DELETE FROM presence WHERE entity = ?'),
    deleteResource: db.prepare<[string, string]>('DELETE FROM presence WHERE entity = ? AND resource = ?'),
    purgePresence: db.prepare<[number]>('DELETE FROM presence WHERE expires_at <= ?'),
  };
}

class SqliteStore implements PresenceStore {
  private readonly q: ReturnType<typeof prepare>;

  constructor(private readonly db: Database.Database, private readonly now: Clock) {
    this.q = prepare(db);
  }

  private get st(): ReturnType<typeof prepare> {
    if (!this.db.open) throw new StoreClosedError();
    return this.q;
  }

  async getX2s(xmppUser: string, sipContact: string): Promise<X2sRecord | undefined> {
    const r = this.st.getX2s.get(xmppUser, sipContact);
    return r && x2sFromRow(r);
  }

  async putX2s(rec: X2sInput): Promise<void> {
    await this.putX2sMany([rec]);
  }

  async putX2sMany(recs: readonly X2sInput[]): Promise<void> {
    const { putX2s } = this.st;
    const now = this.now();
    const rows = recs.map((r) => x2sToRow(normX2s(r, now)));
    const tx = this.db.transaction(() => { for (const r of rows) putX2s.run(r); });
    write(tx, () => rows.map((r) => r.dialog_id).filter((d) => d !== null).join(' or '));
  }

  async deleteX2s(xmppUser: string, sipContact: string): Promise<boolean> {
    return this.st.deleteX2s.run(xmppUser, sipContact).changes > 0;
  }

  async listX2sByUser(xmppUser: string): Promise<X2sRecord[]> {
    return this.st.x2sByUser.all(xmppUser).map(x2sFromRow);
  }

  async *listX2s(filter: ListX2sFilter = {}): AsyncIterable<X2sRecord> {
    const limit = pageSize(filter.pageSize);
    const state = filter.state ?? null;
    const interested = filter.interested === undefined ? null : filter.interested ? 1 : 0;
    let a = '';
    let b = '';
    for (;;) {
      const page = this.st.x2sPage.all({ a, b, state, interested, limit });
      for (const r of page) yield x2sFromRow(r);
      const last = page.at(-1);
      if (last === undefined || page.length < limit) return;
      a = last.xmpp_user;
      b = last.sip_contact;
    }
  }

  async findX2sByDialog(dialogId: string): Promise<X2sRecord | undefined> {
    const r = this.st.x2sByDialog.get(dialogId);
    return r && x2sFromRow(r);
  }

  async countX2sByUser(xmppUser: string): Promise<number> {
    return this.st.countX2s.get(xmppUser)?.n ?? 0;
  }

  async getS2x(sipWatcher: string, xmppUser: string): Promise<S2xRecord | undefined> {
    const r = this.st.getS2x.get(sipWatcher, xmppUser);
    return r && s2xFromRow(r);
  }

  async putS2x(rec: S2xInput): Promise<void> {
    await this.putS2xMany([rec]);
  }

  async putS2xMany(recs: readonly S2xInput[]): Promise<void> {
    const { putS2x } = this.st;
    const now = this.now();
    const rows = recs.map((r) => s2xToRow(normS2x(r, now)));
    const tx = this.db.transaction(() => { for (const r of rows) putS2x.run(r); });
    write(tx, () => rows.map((r) => r.dialog_id).filter((d) => d !== null).join(' or '));
  }

  async deleteS2x(sipWatcher: string, xmppUser: string): Promise<boolean> {
    return this.st.deleteS2x.run(sipWatcher, xmppUser).changes > 0;
  }

  async listS2xByUser(xmppUser: string): Promise<S2xRecord[]> {
    return this.st.s2xByUser.all(xmppUser).map(s2xFromRow);
  }

  async *listS2x(filter: ListS2xFilter = {}): AsyncIterable<S2xRecord> {
    const limit = pageSize(filter.pageSize);
    const authz = filter.authorization ?? null;
    let a = '';
    let b = '';
    for (;;) {
      const page = this.st.s2xPage.all({ a, b, authz, limit });
      for (const r of page) yield s2xFromRow(r);
      const last = page.at(-1);
      if (last === undefined || page.length < limit) return;
      a = last.sip_watcher;
      b = last.xmpp_user;
    }
  }

  async findS2xByDialog(dialogId: string): Promise<S2xRecord | undefined> {
    const r = this.st.s2xByDialog.get(dialogId);
    return r && s2xFromRow(r);
  }

  async countS2xByWatcher(sipWatcher: string): Promise<number> {
    return this.st.countS2x.get(sipWatcher)?.n ?? 0;
  }

  async putPresence(entity: string, resource: string, json: string, ttlMs: number): Promise<void> {
    const { putPresence } = this.st;
    const ttl = presenceArgs(entity, resource, json, ttlMs);
    const now = this.now();
    putPresence.run(entity, resource, json, now, now + ttl);
  }

  async getPresence(entity: string): Promise<PresenceEntry[]> {
    return this.st.getPresence.all(entity, this.now())
      .map((r) => ({ resource: r.resource, json: r.json, updatedAt: r.updated_at }));
  }

  async deletePresence(entity: string, resource?: string): Promise<void> {
    if (resource === undefined) this.st.deletePresence.run(entity);
    else this.st.deleteResource.run(entity, resource);
  }

  async purgeExpiredPresence(): Promise<number> {
    return this.st.purgePresence.run(this.now()).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating if missing) the store file `opts.filename` (default gateway.db) in dataDir
 * (created if missing) and migrates it to the current schema. Throws StoreOpenError, naming the
 * file and the cause, when the directory or file cannot be used.
 */
export function openSqliteStore(dataDir: string, opts: { filename?: string; now?: Clock } = {}): PresenceStore {
  const filename = opts.filename ?? DEFAULT_FILENAME;
  if (filename === '' || filename === '.' || filename === '..' || path.basename(filename) !== filename) {
    throw new TypeError(`store filename must be a plain file name, not ${JSON.stringify(filename)}`);
  }
  const now = opts.now ?? Date.now;
  const file = path.resolve(dataDir, filename);
  let db: Database.Database | undefined;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS }); // sets busy_timeout
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, now());
    return new SqliteStore(db, now);
  } catch (err) {
    if (db?.open) db.close();
    const cause = err instanceof Error ? err.message : String(err);
    throw new StoreOpenError(`cannot open the presence store ${file}: ${cause}`, { cause: err });
  }
}
