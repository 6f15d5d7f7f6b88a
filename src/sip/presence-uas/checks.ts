// What the notifier answers before the presence service is asked: the checks
// on a new SUBSCRIBE (RFC 6665 §4.2.1.1, RFC 3856 §6) and on a refresh in
// the dialog (§4.2.1.2), the clean-up of the service's own refusals, and the
// options.
import { uriFromNameAddr } from '../../core/address.js';
import { PIDF_CONTENT_TYPE } from '../bodies/pidf.js';
import type { SrfRequest } from '../srf-types.js';
import { PRESENCE_EVENT, acceptsPidf, eventPackage, headerSafe, headerTag, parseExpires, preferredLanguage } from './headers.js';
import type { PresenceNotifierOptions, WatcherDecision } from './types.js';

/** Longest timer Node keeps (2^31-1 ms), in seconds: the expiry timer's limit. */
const MAX_TIMER_S = 2_147_483;

/** Throws a RangeError for options the notifier cannot honour. */
export function checkOptions(o: PresenceNotifierOptions): void {
  const int = (n: number) => Number.isInteger(n) && n >= 0;
  // RFC 6665 §4.2.1.1 allows 423 only for intervals under an hour, so a
  // minimum above 3600 could not be enforced as configured.
  if (![o.minExpires, o.maxExpires, o.defaultExpires, o.maxWatchers, o.rateLimitMs].every(int) || o.minExpires < 1
    || o.minExpires > 3600 || o.defaultExpires < o.minExpires || o.maxExpires < o.defaultExpires || o.maxExpires > MAX_TIMER_S
    || o.maxWatchers < 1 || [o.decisionTimeoutMs, o.docTimeoutMs].some((t) => t !== undefined && !(int(t) && t > 0))) {
    throw new RangeError('presence notifier: need integers 1 <= minExpires <= 3600, minExpires <= defaultExpires <= maxExpires '
      + `<= ${MAX_TIMER_S}, maxWatchers >= 1, rateLimitMs >= 0, positive timeouts`);
  }
}

export interface Refusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

type ExpiryPolicy = Pick<PresenceNotifierOptions, 'minExpires' | 'maxExpires' | 'defaultExpires'>;

export interface NewSubscribe {
  watcherUri: string;
  callId: string;
  /** The Event value as received (`presence`, maybe with `;id=`), echoed in NOTIFYs. */
  event: string;
  /** Granted seconds; 0 for a fetch. */
  expires: number;
  lang?: string;
}

function refusal(status: number, reason: string, headers?: Record<string, string>): Refusal {
  return headers ? { status, reason, headers } : { status, reason };
}

const BAD_EVENT = refusal(489, 'Bad Event', { 'Allow-Events': PRESENCE_EVENT });
const NOT_ACCEPTABLE = refusal(406, 'Not Acceptable', { Accept: PIDF_CONTENT_TYPE });

/**
 * Expires of a SUBSCRIBE: absent → defaultExpires (RFC 3856 §6.4); not a
 * number → 400; non-zero below minExpires → 423 with Min-Expires (RFC 6665
 * §4.2.1.1); above maxExpires → shortened (a 2xx may shorten, never
 * lengthen). 0 is a fetch outside a dialog (`allowZero`).
 */
export function grantExpires(raw: string | undefined, policy: ExpiryPolicy, allowZero: boolean): number | Refusal {
  const requested = parseExpires(raw);
  if (requested === null) return refusal(400, 'Malformed Expires');
  const value = requested ?? policy.defaultExpires;
  if (value === 0 && allowZero) return 0;
  if (value < policy.minExpires) return refusal(423, 'Interval Too Brief', { 'Min-Expires': String(policy.minExpires) });
  return Math.min(value, policy.maxExpires);
}

/**
 * RFC 3856 §6.7: PIDF is what the package carries; a watcher whose Accept
 * excludes it could be told nothing (406, RFC 3261 §21.4.7).
 */
function acceptable(req: SrfRequest): boolean {
  return acceptsPidf(req.has('Accept') ? req.get('Accept') ?? '' : undefined);
}

/** A SUBSCRIBE that reached the router (outside any dialog srf knows). */
export function checkNewSubscribe(req: SrfRequest, policy: ExpiryPolicy): NewSubscribe | Refusal {
  // A To tag means the watcher believes in a dialog; srf would have routed
  // the request to its Dialog if it had one, so the subscription is gone
  // (after a failed NOTIFY or a restart): RFC 3261 §12.2.2, RFC 6665 §4.1.2.2.
  const stackDialogId = (req as SrfRequest & { stackDialogId?: string }).stackDialogId;
  if (headerTag(req.get('To')) !== undefined || stackDialogId) return refusal(481, 'Call/Transaction Does Not Exist');
  // RFC 6665 §4.2.1.1: an event package we do not know → 489 with the ones we do.
  const event = req.get('Event');
  if (event === undefined || eventPackage(event) !== PRESENCE_EVENT) return BAD_EVENT;
  const watcherUri = uriFromNameAddr(req.get('From') ?? '');
  const callId = req.get('Call-ID');
  if (!watcherUri || !callId) return refusal(400, 'Missing or malformed From or Call-ID');
  // A dialog-creating request carries a Contact (RFC 3261 §8.1.1.8); srf's
  // createUAS would answer without one anyway and build a broken Dialog.
  const contact = req.get('Contact');
  if (!contact || !uriFromNameAddr(contact)) return refusal(400, 'Missing or malformed Contact');
  const expires = grantExpires(req.get('Expires'), policy, true);
  if (typeof expires !== 'number') return expires;
  if (!acceptable(req)) return NOT_ACCEPTABLE;
  const lang = preferredLanguage(req.get('Accept-Language'));
  return { watcherUri, callId, event, expires, ...(lang ? { lang } : {}) };
}

/**
 * A refresh in the dialog (srf already took Expires: 0 as an unsubscribe):
 * the granted seconds, or why not. A missing Event is read as the dialog's.
 */
export function checkRefresh(req: SrfRequest, policy: ExpiryPolicy): number | Refusal {
  const pkg = eventPackage(req.get('Event'));
  if (pkg !== undefined && pkg !== PRESENCE_EVENT) return BAD_EVENT;
  const expires = grantExpires(req.get('Expires'), policy, false);
  if (typeof expires !== 'number') return expires;
  return acceptable(req) ? expires : NOT_ACCEPTABLE;
}

/** The service's refusal as a SIP answer: 300..699 (else 500), safe reason and headers only. */
export function serviceRefusal(d: Extract<WatcherDecision, { accept: false }>): { answer: Refusal; valid: boolean } {
  const valid = Number.isInteger(d.status) && d.status >= 300 && d.status <= 699;
  if (!valid) return { answer: refusal(500, 'Server Internal Error'), valid };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.headers ?? {})) {
    if (/^[A-Za-z0-9-]+$/.test(k) && typeof v === 'string' && headerSafe(v)) headers[k] = v;
  }
  // An empty reason lets srf use the standard phrase.
  const reason = typeof d.reason === 'string' && headerSafe(d.reason) ? d.reason : '';
  return { answer: refusal(d.status, reason, headers), valid };
}
