// Validation and normalisation shared by the store implementations, so that each accepts and
// refuses the same input and returns records of exactly the same shape.
import type { S2xAuthorization, S2xInput, S2xRecord, X2sInput, X2sRecord, X2sState } from './types.js';

const X2S_STATES: ReadonlySet<string> = new Set<X2sState>(['subscribing', 'pending', 'active']);
const S2X_AUTHORIZATIONS: ReadonlySet<string> = new Set<S2xAuthorization>(['pending', 'granted', 'denied']);

export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 10_000;

export function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new TypeError(`${name} must be a non-empty string`);
  return v;
}

export function int(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${name} must be an integer`);
  return v;
}

export function pageSize(v: unknown): number {
  if (v === undefined) return DEFAULT_PAGE_SIZE;
  const n = int(v, 'pageSize');
  if (n < 1 || n > MAX_PAGE_SIZE) throw new TypeError(`pageSize must be from 1 to ${MAX_PAGE_SIZE}`);
  return n;
}

export function ttl(v: unknown): number {
  const n = int(v, 'ttlMs');
  if (n <= 0) throw new TypeError('ttlMs must be positive');
  return n;
}

/** A validated copy of an X2S record, stamped with updatedAt. */
export function normX2s(rec: X2sInput, updatedAt: number): X2sRecord {
  if (!X2S_STATES.has(rec.state)) throw new TypeError(`unknown X2S state ${JSON.stringify(rec.state)}`);
  if (typeof rec.interested !== 'boolean') throw new TypeError('interested must be a boolean');
  const out: X2sRecord = {
    xmppUser: str(rec.xmppUser, 'xmppUser'),
    sipContact: str(rec.sipContact, 'sipContact'),
    state: rec.state,
    interested: rec.interested,
    updatedAt,
  };
  const d = rec.dialog;
  if (d !== undefined) {
    out.dialog = {
      dialogId: str(d.dialogId, 'dialog.dialogId'),
      callId: str(d.callId, 'dialog.callId'),
      localTag: str(d.localTag, 'dialog.localTag'),
      expiresAt: int(d.expiresAt, 'dialog.expiresAt'),
    };
    if (d.remoteTag !== undefined) out.dialog.remoteTag = str(d.remoteTag, 'dialog.remoteTag');
  }
  if (rec.retryAt !== undefined) out.retryAt = int(rec.retryAt, 'retryAt');
  return out;
}

/** A validated copy of an S2X record, stamped with updatedAt. */
export function normS2x(rec: S2xInput, updatedAt: number): S2xRecord {
  if (!S2X_AUTHORIZATIONS.has(rec.authorization)) {
    throw new TypeError(`unknown S2X authorization ${JSON.stringify(rec.authorization)}`);
  }
  const out: S2xRecord = {
    sipWatcher: str(rec.sipWatcher, 'sipWatcher'),
    xmppUser: str(rec.xmppUser, 'xmppUser'),
    authorization: rec.authorization,
    updatedAt,
  };
  const d = rec.dialog;
  if (d !== undefined) {
    out.dialog = {
      dialogId: str(d.dialogId, 'dialog.dialogId'),
      callId: str(d.callId, 'dialog.callId'),
      remoteTag: str(d.remoteTag, 'dialog.remoteTag'),
      localTag: str(d.localTag, 'dialog.localTag'),
      expiresAt: int(d.expiresAt, 'dialog.expiresAt'),
    };
    if (d.watcherContact !== undefined) out.dialog.watcherContact = str(d.watcherContact, 'dialog.watcherContact');
  }
  return out;
}

export function conflict(dialogId: string): string {
  return `dialog ${dialogId} already belongs to another subscription`;
}

/** Checks putPresence's arguments; returns ttlMs. */
export function presenceArgs(entity: unknown, resource: unknown, json: unknown, ttlMs: unknown): number {
  str(entity, 'entity');
  if (typeof resource !== 'string') throw new TypeError('resource must be a string');
  if (typeof json !== 'string') throw new TypeError('json must be a string');
  return ttl(ttlMs);
}
