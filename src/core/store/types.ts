// The presence state that must survive a gateway restart (architecture rule 10), behind an
// interface that an embedded store (SQLite, sqlite.ts) and a shared one (Redis, later) can both
// implement; memory.ts is the in-memory double for unit tests of other modules.
//
// Terms (RFC 8048 §1): an XMPP "subscription" is a long-lived presence *authorization*; a SIP
// "subscription" is a short-lived *notification dialog*. Each record below is one authorization
// (the key) plus the notification dialog currently carrying it, if any.
//
// Contract, shared by every implementation (spec/unit/store.test.ts runs it against each):
// - Every method is asynchronous so that a networked store can implement it.
// - Keys (bare JIDs, SIP AORs) are stored and compared exactly as given: callers normalise them
//   (core/address.ts). Timestamps are integers, epoch milliseconds.
// - put* is an upsert of the whole record; updatedAt is stamped by the store from its clock.
//   Records read back are fresh copies; absent optional fields are absent, never `undefined`.
// - A dialog id belongs to at most one record of each direction: putting a record whose dialog id
//   is held by another key rejects with StoreConflictError and changes nothing.
// - Invalid input (unknown state, empty key, non-integer time) rejects with a TypeError and
//   changes nothing. After close(), every method rejects with StoreClosedError.
// - Listing order is unspecified.

/** X2S state of the XMPP user's request (RFC 8048 §5.2.1): asked and unanswered, pending, authorized. */
export type X2sState = 'subscribing' | 'pending' | 'active';

/** The SIP notification dialog in which the gateway is the subscriber. */
export interface X2sDialog {
  /** drachtio's dialog id, `Call-ID;from-tag=…`. */
  dialogId: string;
  callId: string;
  /** Our From tag. */
  localTag: string;
  /** The notifier's To tag, once a response or NOTIFY has carried it. */
  remoteTag?: string;
  /** When the dialog expires unless refreshed (epoch ms). */
  expiresAt: number;
}

/** An XMPP user watches a SIP contact; the gateway is the SIP subscriber (RFC 8048 §5.2). */
export interface X2sRecord {
  /** Bare JID of the XMPP user. */
  xmppUser: string;
  /** AOR of the SIP contact, e.g. `sip:romeo@example.net`. */
  sipContact: string;
  state: X2sState;
  /** The XMPP user wants notifications: false once its last resource went unavailable. */
  interested: boolean;
  dialog?: X2sDialog;
  /** Do not resubscribe before this time (after terminated;reason=deactivated/probation/giveup, spec §3.4). */
  retryAt?: number;
  updatedAt: number;
}

/** XMPP user's answer to a SIP watcher (RFC 8048 §5.3.1). */
export type S2xAuthorization = 'pending' | 'granted' | 'denied';

/** The SIP notification dialog in which the gateway is the notifier. */
export interface S2xDialog {
  dialogId: string;
  callId: string;
  /** The watcher's From tag. */
  remoteTag: string;
  /** Our To tag. */
  localTag: string;
  expiresAt: number;
  /** The watcher's Contact, the remote target of our NOTIFYs. */
  watcherContact?: string;
}

/** A SIP user watches an XMPP user; the gateway is the notifier (RFC 8048 §5.3). */
export interface S2xRecord {
  /** AOR of the SIP watcher. */
  sipWatcher: string;
  /** Bare JID of the watched XMPP user. */
  xmppUser: string;
  authorization: S2xAuthorization;
  dialog?: S2xDialog;
  updatedAt: number;
}

/** What put* accepts: a record whose updatedAt, if present, is ignored. */
export type X2sInput = Omit<X2sRecord, 'updatedAt'> & { updatedAt?: number };
export type S2xInput = Omit<S2xRecord, 'updatedAt'> & { updatedAt?: number };

/** Last known presence of one resource, as JSON text chosen by the caller (answers probes, RFC 8048 §7). */
export interface PresenceEntry {
  resource: string;
  json: string;
  updatedAt: number;
}

export interface ListX2sFilter {
  state?: X2sState;
  interested?: boolean;
  /** Records fetched per round trip (1 to 10 000, default 500). */
  pageSize?: number;
}

export interface ListS2xFilter {
  authorization?: S2xAuthorization;
  pageSize?: number;
}

export interface PresenceStore {
  getX2s(xmppUser: string, sipContact: string): Promise<X2sRecord | undefined>;
  /** Upsert. */
  putX2s(rec: X2sInput): Promise<void>;
  /** Upsert of several records at once: all are stored or none (one transaction). */
  putX2sMany(recs: readonly X2sInput[]): Promise<void>;
  /** True when a record was deleted. */
  deleteX2s(xmppUser: string, sipContact: string): Promise<boolean>;
  listX2sByUser(xmppUser: string): Promise<X2sRecord[]>;
  /**
   * Every matching record, fetched a page at a time (start-up resubscription over 10 000+ rows).
   * The store may be written while iterating: records left unchanged meanwhile are yielded
   * exactly once; records added, changed or deleted meanwhile may or may not be.
   */
  listX2s(filter?: ListX2sFilter): AsyncIterable<X2sRecord>;
  findX2sByDialog(dialogId: string): Promise<X2sRecord | undefined>;
  /** For the per-user cap on watched SIP contacts. */
  countX2sByUser(xmppUser: string): Promise<number>;

  getS2x(sipWatcher: string, xmppUser: string): Promise<S2xRecord | undefined>;
  putS2x(rec: S2xInput): Promise<void>;
  putS2xMany(recs: readonly S2xInput[]): Promise<void>;
  deleteS2x(sipWatcher: string, xmppUser: string): Promise<boolean>;
  /** The SIP watchers of one XMPP user. */
  listS2xByUser(xmppUser: string): Promise<S2xRecord[]>;
  listS2x(filter?: ListS2xFilter): AsyncIterable<S2xRecord>;
  findS2xByDialog(dialogId: string): Promise<S2xRecord | undefined>;
  /** For the per-watcher cap on watched XMPP users. */
  countS2xByWatcher(sipWatcher: string): Promise<number>;

  /** Upsert of one resource's presence, visible for ttlMs (a positive integer) from now. */
  putPresence(entity: string, resource: string, json: string, ttlMs: number): Promise<void>;
  /** The unexpired entries of an entity, in no particular order. */
  getPresence(entity: string): Promise<PresenceEntry[]>;
  /** One resource, or every resource of the entity when resource is omitted. */
  deletePresence(entity: string, resource?: string): Promise<void>;
  /** Deletes expired presence entries (reads already ignore them); returns how many. */
  purgeExpiredPresence(): Promise<number>;

  /** Idempotent. */
  close(): Promise<void>;
}

/** The store's clock, injectable for tests. */
export type Clock = () => number;
