/**
 * Identifiers: transaction ids, Message-IDs and session-ids (RFC 4975 §7.1,
 * §7.1.1, §9, §14.1).
 *
 *   ident      = ALPHANUM 3*31ident-char
 *   ident-char = ALPHANUM / "." / "-" / "+" / "%" / "="
 */
import { randomBytes } from 'node:crypto';

const IDENT_CHARS = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]*$/;

/** transact-id = ident: 4 to 32 characters (§9). Strict: the tid frames the body. */
export function isValidTid(tid: string): boolean {
  return typeof tid === 'string' && tid.length >= 4 && tid.length <= 32 && IDENT_CHARS.test(tid);
}

/**
 * Longest Message-ID accepted. §9 makes Message-ID an ident (at most 32
 * characters) but RFC 7573's examples use 36-character UUIDs
 * ("54C6F4F1-A39C-47D6-8718-FA65B3D0414A"), and peers copy them. The character
 * set is kept; only the length is relaxed. Our own Message-IDs stay within 32.
 */
export const MAX_MESSAGE_ID_LENGTH = 256;

export function isValidMessageId(id: string): boolean {
  return typeof id === 'string' && id.length >= 4 && id.length <= MAX_MESSAGE_ID_LENGTH && IDENT_CHARS.test(id);
}

/**
 * A new transaction id: 96 random bits as 24 hex digits. §7.1: it "MUST NOT
 * collide with that of other transactions that exist at the same time.
 * Therefore, it MUST contain at least 64 bits of randomness."
 */
export function newTid(): string {
  return randomBytes(12).toString('hex');
}

/**
 * A new Message-ID: 128 random bits as 32 hex digits (the longest ident). §7.1.1:
 * "highly unlikely to be repeated by another endpoint instance, or by the same
 * instance in the future"; a random number is one of the methods it suggests.
 */
export function newMessageId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A new session-id: 128 random bits. §14.1: the secrecy of the session rests
 * entirely on the session-id, which "MUST contain at least 80 bits of randomness".
 * base64url uses only unreserved characters, all allowed in session-id (§9).
 */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
