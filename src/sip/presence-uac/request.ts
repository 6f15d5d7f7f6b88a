// The SUBSCRIBE requests the subscriber sends: checks on the caller's input
// (programmer errors throw a TypeError) and the headers (RFC 8048 §5.2.1
// Ex.2, RFC 3856 §6.8, RFC 6665 §8.2.1).
import { PIDF_CONTENT_TYPE } from '../bodies/index.js';
import { PRESENCE_EVENT } from './notify.js';
import { MAX_EXPIRES, type SubscribeRequest } from './types.js';

/** sip:/sips: URIs only: drachtio-server routes on them, and srf must parse the From (A.12 Quirk 1). */
const SIP_URI = /^sips?:[^\s<>"\u0000-\u001f\u007f]+$/i;
/** The outbound proxy goes into srf's `sip|||<proxy>` leader (A.7): no separators, no spaces. */
const PROXY = /^[^\s<>"|\u0000-\u001f\u007f]+$/;

function checkUri(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length > 1024 || !SIP_URI.test(value)) {
    throw new TypeError(`${what} must be a sip: or sips: URI`);
  }
}

export function checkExpires(expires: unknown, what: string): asserts expires is number {
  if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES) {
    throw new TypeError(`${what} must be an integer from 1 to ${MAX_EXPIRES} seconds`);
  }
}

export function checkRequest(req: Omit<SubscribeRequest, 'expires'> & { expires?: unknown }, withExpires: boolean): void {
  if (typeof req !== 'object' || req === null) throw new TypeError('a SubscribeRequest is required');
  checkUri(req.targetUri, 'targetUri');
  checkUri(req.fromUri, 'fromUri');
  if (req.contact !== undefined) checkUri(req.contact, 'contact');
  if (req.proxy !== undefined && (typeof req.proxy !== 'string' || !PROXY.test(req.proxy))) {
    throw new TypeError('proxy must be a URI or host[:port] without spaces or "|"');
  }
  if (withExpires) checkExpires(req.expires, 'expires');
}

/** A dialog-creating SUBSCRIBE; drachtio-server adds tags, Call-ID, CSeq and a Contact when none is given (A.7). */
export function initialHeaders(req: Omit<SubscribeRequest, 'expires'>, expires: number): Record<string, string> {
  const h: Record<string, string> = {
    From: `<${req.fromUri}>`, To: `<${req.targetUri}>`, ...dialogHeaders(expires),
  };
  if (req.contact !== undefined) h.Contact = `<${req.contact}>`;
  return h;
}

/** A SUBSCRIBE in the dialog (refresh, unsubscribe); drachtio-server fills in the rest from the dialog (A.8). */
export function dialogHeaders(expires: number): Record<string, string> {
  return { Event: PRESENCE_EVENT, Accept: PIDF_CONTENT_TYPE, Expires: String(expires) };
}
