// Header values the presence subscriber reads (RFC 6665 §8.4 grammar,
// RFC 3261 §25.1): Subscription-State, Event, Expires, Min-Expires,
// Retry-After, Content-Language. Pure functions over untrusted text; they
// never throw.
//
//   Subscription-State = substate-value *( SEMI subexp-params )
//   substate-value     = "active" / "pending" / "terminated" / extension-substate
//   subexp-params      = ("reason" EQUAL event-reason-value) / ("expires" EQUAL delta-seconds)
//                        / ("retry-after" EQUAL delta-seconds) / generic-param
//   Event              = event-type *( SEMI event-param )      event-param = generic-param / ("id" EQUAL token)
//   delta-seconds      = 1*DIGIT                                (RFC 3261 §25.1: up to 2^32-1)

/** RFC 3261 §25.1 token. */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const DIGITS = /^[0-9]+$/;
/** Largest delta-seconds RFC 3261 allows (§20.19: 2^32-1). */
const MAX_DELTA = 4294967295;

/** A delta-seconds value, or undefined when absent or not one (values above 2^32-1 are capped). */
export function parseDeltaSeconds(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (!DIGITS.test(s)) return undefined;
  const t = s.replace(/^0+(?=[0-9])/, '');
  return t.length > 10 ? MAX_DELTA : Math.min(Number(t), MAX_DELTA);
}

/** Retry-After (RFC 3261 §20.33): delta-seconds, then an optional comment and parameters. */
export function parseRetryAfter(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*([0-9]+)(?=\s|\(|;|$)/.exec(raw);
  return m ? parseDeltaSeconds(m[1]) : undefined;
}

/**
 * Splits `value;a=b;c="d;e"` at the separators that are not inside a quoted
 * string. Stops at the first unquoted comma: srf joins repeated headers with
 * commas, and these headers take one value (RFC 3261 §7.3.1).
 */
function splitParams(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < value.length) cur += value[++i]!;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') break;
    else if (c === ';') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

interface ParamList {
  head: string;
  /** Lower-cased names; the first occurrence wins; quotes removed. */
  params: Map<string, string | null>;
}

function parseParamList(value: string): ParamList | undefined {
  if (value.length > 2048) return undefined;
  const [head = '', ...rest] = splitParams(value);
  const params = new Map<string, string | null>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    let v: string | null = eq === -1 ? null : p.slice(eq + 1).trim();
    if (v !== null && v.startsWith('"')) v = v.length >= 2 && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : null;
    if (!params.has(name)) params.set(name, v);
  }
  return { head: head.trim(), params };
}

export type SubstateName = 'active' | 'pending' | 'terminated';

export interface SubscriptionStateValue {
  /** The substate-value, lower-cased (tokens are case-insensitive, RFC 3261 §25.1). */
  substate: string;
  /** substate when it is one RFC 6665 defines, else undefined (an extension-substate). */
  known: SubstateName | undefined;
  expires?: number;
  /** Lower-cased event-reason-value: deactivated, probation, rejected, timeout, giveup, noresource, invariant or an extension. */
  reason?: string;
  retryAfter?: number;
}

/**
 * Parses a Subscription-State value; undefined when it is absent or has no
 * token substate. Parameters that do not fit their grammar (expires=abc) are
 * left out rather than refusing the NOTIFY.
 */
export function parseSubscriptionState(raw: string | undefined): SubscriptionStateValue | undefined {
  if (raw === undefined) return undefined;
  const list = parseParamList(raw);
  if (!list || !TOKEN.test(list.head)) return undefined;
  const substate = list.head.toLowerCase();
  const known = substate === 'active' || substate === 'pending' || substate === 'terminated' ? substate : undefined;
  const out: SubscriptionStateValue = { substate, known };
  const expires = parseDeltaSeconds(list.params.get('expires') ?? undefined);
  if (expires !== undefined) out.expires = expires;
  const reason = list.params.get('reason');
  if (reason && TOKEN.test(reason)) out.reason = reason.toLowerCase();
  const retryAfter = parseDeltaSeconds(list.params.get('retry-after') ?? undefined);
  if (retryAfter !== undefined) out.retryAfter = retryAfter;
  return out;
}

export interface EventValue {
  /** event-type as sent. */
  type: string;
  /** The `id` event-param (RFC 6665 §8.2.3), when present. */
  id?: string;
}

/** Parses an Event value; undefined when absent or malformed. */
export function parseEvent(raw: string | undefined): EventValue | undefined {
  if (raw === undefined) return undefined;
  const list = parseParamList(raw);
  if (!list || !TOKEN.test(list.head)) return undefined;
  const id = list.params.get('id');
  return id ? { type: list.head, id } : { type: list.head };
}

/**
 * First language tag of a Content-Language value (RFC 3261 §20.13 allows a
 * list; RFC 8048 maps it to one xml:lang). Undefined when absent or not a tag.
 */
export function parseContentLanguage(raw: string | undefined): string | undefined {
  const first = raw?.split(',')[0]?.trim();
  return first && /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(first) ? first : undefined;
}
