/**
 * Shared result type for the SIP body parsers.
 *
 * Every parser in this folder takes untrusted network input and never throws:
 * it returns `{ ok: false, error }` instead. Builders take trusted, typed input
 * and throw a `TypeError` when that input cannot be represented safely.
 */
export { type Result, ok, fail } from '../../core/result.js';

/** Default maximum body size accepted by the parsers (64 KiB). */
export const DEFAULT_MAX_BYTES = 64 * 1024;

export interface SizeLimit {
  /** Maximum accepted input size in bytes (UTF-8 length for strings). Default 64 KiB. */
  maxBytes?: number;
}

/** Byte length of a body as it was (or will be) on the wire. */
export function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

/** Returns an error message when `body` exceeds the limit, else null. */
export function checkSize(body: string | Uint8Array, limit: SizeLimit | undefined): string | null {
  const max = limit?.maxBytes ?? DEFAULT_MAX_BYTES;
  // A cheap upper bound first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (typeof body === 'string' && body.length * 3 <= max) return null;
  const size = byteLength(body);
  return size > max ? `body too large (${size} bytes > ${max})` : null;
}

/** Describes an unexpected exception without leaking a stack trace. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? 'error';
  return String(e).slice(0, 200);
}
