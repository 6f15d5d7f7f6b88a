// Schema of the SQLite presence store and its migrations, run at open. Migration N (1-based) is
// MIGRATIONS[N - 1]; schema_version records each one applied. Never edit a shipped migration:
// append a new one.
import type Database from 'better-sqlite3';
import { StoreOpenError } from './errors.js';

export const MIGRATIONS: readonly string[] = [
  // v1: the two presence directions and the presence cache. Natural keys as primary keys;
  // a dialog id belongs to at most one record (unique index, NULLs allowed many times).
  `
  CREATE TABLE x2s (
    xmpp_user   TEXT NOT NULL,
    sip_contact TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('subscribing', 'pending', 'active')),
    interested  INTEGER NOT NULL CHECK (interested IN (0, 1)),
    dialog_id   TEXT,
    call_id     TEXT,
    local_tag   TEXT,
    remote_tag  TEXT,
    expires_at  INTEGER,
    retry_at    INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (xmpp_user, sip_contact),
    CHECK ((dialog_id IS NULL) = (call_id IS NULL) AND (dialog_id IS NULL) = (local_tag IS NULL)
       AND (dialog_id IS NULL) = (expires_at IS NULL))
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX x2s_dialog ON x2s (dialog_id);

  CREATE TABLE s2x (
    sip_watcher     TEXT NOT NULL,
    xmpp_user       TEXT NOT NULL,
    authz           TEXT NOT NULL CHECK (authz IN ('pending', 'granted', 'denied')),
    dialog_id       TEXT,
    call_id         TEXT,
    remote_tag      TEXT,
    local_tag       TEXT,
    expires_at      INTEGER,
    watcher_contact TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (sip_watcher, xmpp_user),
    CHECK ((dialog_id IS NULL) = (call_id IS NULL) AND (dialog_id IS NULL) = (remote_tag IS NULL)
       AND (dialog_id IS NULL) = (local_tag IS NULL) AND (dialog_id IS NULL) = (expires_at IS NULL))
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX s2x_dialog ON s2x (dialog_id);
  CREATE INDEX s2x_user ON s2x (xmpp_user);

  CREATE TABLE presence (
    entity     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    json       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (entity, resource)
  ) WITHOUT ROWID;
  CREATE INDEX presence_expiry ON presence (expires_at);
  `,
];

/**
 * Brings the database to the latest schema in one IMMEDIATE transaction, so that two processes
 * opening the same file at once migrate it once. Returns the schema version.
 */
export function migrate(db: Database.Database, now: number): number {
  const run = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
    const current = row?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new StoreOpenError(
        `database schema version ${current} is newer than this gateway supports (${MIGRATIONS.length}); `
        + 'run a newer gateway or restore a matching backup',
      );
    }
    const record = db.prepare<[number, number]>('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v - 1] ?? '');
      record.run(v, now);
    }
    return MIGRATIONS.length;
  });
  return run.immediate();
}
