// Reading the SUBSCRIBE headers the presence notifier decides on: Event,
// Expires, Accept, Accept-Language and the To tag. Pure functions; srf hands
// repeated headers over joined with commas.
import { PIDF_CONTENT_TYPE } from '../bodies/pidf.js';

export const PRESENCE_EVENT = 'presence';

/**
 * The event package of an Event header value (RFC 6665 §8.2.1): the token
 * before any parameter (`presence;id=1` → `presence`). Package names are
 * tokens; they are compared case-insensitively here, which only widens what
 * is accepted. Undefined when the header is absent or empty.
 */
export function eventPackage(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const pkg = value.split(';')[0]!.trim().toLowerCase();
  return pkg === '' ? undefined : pkg;
}

/**
 * Expires as delta-seconds (RFC 3261 §20.19): undefined when absent, null
 * when not a number. Values beyond 2^32-1 are kept as large numbers and
 * clamped by the caller.
 */
export function parseExpires(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^[0-9]{1,12}$/.test(v)) return null;
  return Number(v);
}

interface MediaRange {
  type: string;
  q: number;
}

function parseQ(params: string[]): number {
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
      const q = Number(v.trim());
      return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 1;
    }
  }
  return 1;
}

function mediaRanges(value: string): MediaRange[] {
  return value.split(',').map((part) => {
    const [type = '', ...params] = part.split(';');
    return { type: type.trim().toLowerCase(), q: parseQ(params) };
  }).filter((r) => r.type !== '');
}

/**
 * Whether a SUBSCRIBE's Accept lets the notifier send PIDF. Absent: yes, the
 * presence package's default is application/pidf+xml (RFC 3856 §6.7).
 * Present but empty: no (RFC 3261 §20.1: no format is acceptable). Otherwise
 * the most specific matching range decides (exact type, then application/*,
 * then * / *), and q=0 excludes (RFC 3261 §20.1 uses the HTTP rules).
 */
export function acceptsPidf(value: string | undefined): boolean {
  if (value === undefined) return true;
  const ranges = mediaRanges(value);
  for (const type of [PIDF_CONTENT_TYPE, 'application/*', '*/*']) {
    const match = ranges.filter((r) => r.type === type);
    if (match.length > 0) return match.some((r) => r.q > 0);
  }
  return false;
}

const LANG_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

/** The first language of an Accept-Language value (RFC 3261 §20.3) with q > 0, not `*`. */
export function preferredLanguage(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ranges = value.split(',').map((part) => {
    const [tag = '', ...params] = part.split(';');
    return { tag: tag.trim(), q: parseQ(params) };
  }).filter((r) => r.q > 0 && LANG_TAG.test(r.tag));
  let best: { tag: string; q: number } | undefined;
  for (const r of ranges) if (best === undefined || r.q > best.q) best = r;
  return best?.tag;
}

/** A language tag safe for Content-Language, or undefined. */
export function safeLanguage(lang: string | undefined): string | undefined {
  return lang !== undefined && LANG_TAG.test(lang) ? lang : undefined;
}

/**
 * The tag parameter of a From/To value (RFC 3261 §19.3): in name-addr form
 * the parameters after `>`, in addr-spec form every `;` parameter. Quoted
 * display names are skipped so a `;tag=` inside one does not count.
 */
export function headerTag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let text = value.trim().replace(/^"(?:[^"\\]|\\.)*"/, '');
  const gt = text.indexOf('>');
  if (text.includes('<') && gt >= 0) text = text.slice(gt + 1);
  const m = /;\s*tag\s*=\s*([^;,\s]+)/i.exec(text);
  return m?.[1];
}

/** Header values the gateway writes must not break the message (RFC 3261 §7.3). */
export function headerSafe(value: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(value);
}
