// Reading a NOTIFY for a presence subscription (RFC 6665 §4.1.3, RFC 3856
// §6.8, RFC 3863): what it says, or the status that refuses it. No I/O.
import type { PresenceDoc } from '../../core/presence/model.js';
import { PIDF_CONTENT_TYPE, parseContentType, parsePidf } from '../bodies/index.js';
import type { SrfRequest, SrfResponse } from '../srf-types.js';
import { parseContentLanguage, parseEvent, parseSubscriptionState, type SubscriptionStateValue } from './headers.js';

export const PRESENCE_EVENT = 'presence';

export type NotifyVerdict =
  | { ok: true; state: SubscriptionStateValue; doc?: PresenceDoc; lang?: string }
  | {
    ok: false;
    status: number;
    reason: string;
    why: string;
    headers?: Record<string, string>;
    /** The NOTIFY said terminated even though it is refused: drachtio-server drops the dialog anyway (A.12 Quirk 1). */
    terminated: boolean;
  };

/**
 * Decides on one NOTIFY in a presence subscription dialog:
 *  - Event not `presence` → 489 Bad Event (RFC 6665 §8.3.2); the package
 *    name is compared case-insensitively (RFC 3261 §25.1 tokens). An `id`
 *    parameter → 481: the SUBSCRIBE carried none, so the NOTIFY matches no
 *    subscription of this dialog (RFC 6665 §8.2.1, §4.1.3).
 *  - Subscription-State missing or without a token substate → 400 (it is
 *    mandatory in NOTIFY, RFC 6665 §4.1.3).
 *  - A body of another type than application/pidf+xml → 415 with Accept
 *    (RFC 3261 §21.4.13; the SUBSCRIBE's Accept allowed only PIDF, RFC 3856
 *    §6.8). A body without Content-Type is read as PIDF, the only type asked
 *    for. A PIDF that does not parse → 400.
 *  - Otherwise 200, with the parsed document and Content-Language.
 */
export function readNotify(req: SrfRequest): NotifyVerdict {
  const state = parseSubscriptionState(req.get('Subscription-State'));
  const terminated = state?.known === 'terminated';
  const refuse = (status: number, reason: string, why: string, headers?: Record<string, string>): NotifyVerdict =>
    ({ ok: false, status, reason, why, terminated, ...(headers ? { headers } : {}) });

  // srf's parser does not expand the compact form "o" (RFC 6665 §8.4).
  const event = parseEvent(req.get('Event') ?? req.get('o'));
  if (!event || event.type.toLowerCase() !== PRESENCE_EVENT) {
    return refuse(489, 'Bad Event', `NOTIFY for event ${JSON.stringify(event?.type ?? '')}, not presence`);
  }
  if (event.id !== undefined) return refuse(481, 'Subscription Does Not Exist', 'NOTIFY with an Event id the SUBSCRIBE did not have');
  if (!state) return refuse(400, 'Bad Subscription-State', 'NOTIFY without a valid Subscription-State');

  const body = typeof req.body === 'string' ? req.body : '';
  const lang = parseContentLanguage(req.get('Content-Language'));
  if (body.trim() === '') return lang ? { ok: true, state, lang } : { ok: true, state };
  const rawType = req.get('Content-Type');
  if (rawType !== undefined) {
    const ct = parseContentType(rawType);
    if (!ct) return refuse(400, 'Malformed Content-Type', 'NOTIFY with a malformed Content-Type');
    if (ct.mime !== PIDF_CONTENT_TYPE) {
      return refuse(415, 'Unsupported Media Type', `NOTIFY body of type ${ct.mime}`.slice(0, 120), { Accept: PIDF_CONTENT_TYPE });
    }
  }
  const doc = parsePidf(body);
  if (!doc.ok) return refuse(400, 'Malformed PIDF', doc.error.slice(0, 200));
  if (lang) doc.value.lang = lang;
  return lang ? { ok: true, state, doc: doc.value, lang } : { ok: true, state, doc: doc.value };
}

/** Sends a final response; false when srf could not (e.g. the connection is gone). Never throws. */
export function answer(res: SrfResponse, status: number, reason: string, headers?: Record<string, string>): boolean {
  try {
    if (res.finalResponseSent) return false;
    res.send(status, reason, headers ? { headers } : {});
    return true;
  } catch {
    return false;
  }
}
