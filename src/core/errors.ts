// Error mapping between SIP final responses and XMPP stanza errors
// (RFC 7247 §7; error syntax and types per RFC 6120 §8.3).
//
// Protocol-neutral: this module deals only in status codes, condition names
// and strings. Building <error/> elements or SIP responses is the adapters'
// job. RFC 7247 §7 says the tables "SHOULD" be followed and that
// implementations may deviate; every place where the RFC offers a choice is
// marked with the note it comes from and the choice made.

export type XmppErrorType = 'cancel' | 'continue' | 'modify' | 'auth' | 'wait';

export type XmppCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'gone'
  | 'internal-server-error'
  | 'item-not-found'
  | 'jid-malformed'
  | 'not-acceptable'
  | 'not-allowed'
  | 'not-authorized'
  | 'policy-violation'
  | 'recipient-unavailable'
  | 'redirect'
  | 'registration-required'
  | 'remote-server-not-found'
  | 'remote-server-timeout'
  | 'resource-constraint'
  | 'service-unavailable'
  | 'subscription-required'
  | 'undefined-condition'
  | 'unexpected-request';

/** The defined stanza error conditions of RFC 6120 §8.3.3, in that order. */
export const XMPP_CONDITIONS: readonly XmppCondition[] = Object.freeze([
  'bad-request',
  'conflict',
  'feature-not-implemented',
  'forbidden',
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'not-acceptable',
  'not-allowed',
  'not-authorized',
  'policy-violation',
  'recipient-unavailable',
  'redirect',
  'registration-required',
  'remote-server-not-found',
  'remote-server-timeout',
  'resource-constraint',
  'service-unavailable',
  'subscription-required',
  'undefined-condition',
  'unexpected-request',
] as const);

const CONDITION_SET: ReadonlySet<string> = new Set(XMPP_CONDITIONS);

export function isXmppCondition(s: string): s is XmppCondition {
  return CONDITION_SET.has(s);
}

export interface StanzaErrorSpec {
  condition: XmppCondition;
  type: XmppErrorType;
  text?: string;
  /** character data of <gone/> or <redirect/>: the new address (xmpp: or sip: URI) */
  target?: string;
}

export interface SipErrorResponse {
  status: number;
  reason: string;
  /** new address for a 301/302, as given in the XMPP <gone/>/<redirect/> (may be an xmpp: URI; translating it is the caller's job) */
  contact?: string;
}

// ---------------------------------------------------------------------------
// Error types (RFC 6120 §8.3.3)

const ERROR_TYPES: Readonly<Record<XmppCondition, XmppErrorType>> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  // §8.3.3.3 "cancel or modify": first listed.
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  // §8.3.3.12 "modify or wait": first listed.
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  // §8.3.3.21 allows any type. "cancel" tells the sender not to retry the
  // same request unchanged, the safe reading for an error we cannot classify.
  'undefined-condition': 'cancel',
  // §8.3.3.22 "wait or modify": first listed.
  'unexpected-request': 'wait',
};

/** RFC 6120 §8.3.3 default error type for a condition. Where the RFC lists two, the first listed one. */
export function errorTypeFor(condition: XmppCondition): XmppErrorType {
  return ERROR_TYPES[condition];
}

// ---------------------------------------------------------------------------
// Reason phrases

// RFC 3261 §21 plus the IANA SIP response code registry entries from later
// RFCs (noted where not RFC 3261).
const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, 'Trying'],
  [180, 'Ringing'],
  [181, 'Call Is Being Forwarded'],
  [182, 'Queued'],
  [183, 'Session Progress'],
  [199, 'Early Dialog Terminated'], // RFC 6228
  [200, 'OK'],
  [202, 'Accepted'], // RFC 3428 / RFC 6665
  [204, 'No Notification'], // RFC 5839
  [300, 'Multiple Choices'],
  [301, 'Moved Permanently'],
  [302, 'Moved Temporarily'],
  [305, 'Use Proxy'],
  [380, 'Alternative Service'],
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [402, 'Payment Required'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'],
  [410, 'Gone'],
  [412, 'Conditional Request Failed'], // RFC 3903
  [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Long'],
  [415, 'Unsupported Media Type'],
  [416, 'Unsupported URI Scheme'],
  [417, 'Unknown Resource-Priority'], // RFC 4412
  [420, 'Bad Extension'],
  [421, 'Extension Required'],
  [422, 'Session Interval Too Small'], // RFC 4028
  [423, 'Interval Too Brief'],
  [424, 'Bad Location Information'], // RFC 6442
  [428, 'Use Identity Header'], // RFC 8224
  [429, 'Provide Referrer Identity'], // RFC 3892
  [430, 'Flow Failed'], // RFC 5626
  [433, 'Anonymity Disallowed'], // RFC 5079
  [436, 'Bad Identity Info'], // RFC 8224
  [437, 'Unsupported Credential'], // RFC 8224
  [438, 'Invalid Identity Header'], // RFC 8224
  [439, 'First Hop Lacks Outbound Support'], // RFC 5626
  [440, 'Max-Breadth Exceeded'], // RFC 5393
  [469, 'Bad Info Package'], // RFC 6086
  [470, 'Consent Needed'], // RFC 5360
  [480, 'Temporarily Unavailable'],
  [481, 'Call/Transaction Does Not Exist'],
  [482, 'Loop Detected'],
  [483, 'Too Many Hops'],
  [484, 'Address Incomplete'],
  [485, 'Ambiguous'],
  [486, 'Busy Here'],
  [487, 'Request Terminated'],
  [488, 'Not Acceptable Here'],
  [489, 'Bad Event'], // RFC 6665
  [491, 'Request Pending'],
  [493, 'Undecipherable'],
  [494, 'Security Agreement Required'], // RFC 3329
  [500, 'Server Internal Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Server Time-out'],
  [505, 'Version Not Supported'],
  [513, 'Message Too Large'],
  [580, 'Precondition Failure'], // RFC 3312
  [600, 'Busy Everywhere'],
  [603, 'Decline'],
  [604, 'Does Not Exist Anywhere'],
  [606, 'Not Acceptable'],
  [607, 'Unwanted'], // RFC 8197
  [608, 'Rejected'], // RFC 8688
]);

// Class names as in the RFC 3261 §21 section titles, for codes without a
// registered phrase.
const CLASS_PHRASES: readonly string[] = [
  'Unknown',
  'Provisional',
  'Successful',
  'Redirection',
  'Request Failure',
  'Server Failure',
  'Global Failure',
];

/** Standard phrase for a SIP status code; the class name for unregistered codes, "Unknown" outside 100..699. Never throws. */
export function reasonPhrase(status: number): string {
  const known = REASON_PHRASES.get(status);
  if (known !== undefined) return known;
  if (!Number.isInteger(status) || status < 100 || status > 699) return 'Unknown';
  return CLASS_PHRASES[Math.floor(status / 100)] ?? 'Unknown';
}

// ---------------------------------------------------------------------------
// Text sanitising

/** Longest reason phrase / <text/> produced, in code points. */
export const MAX_REASON_LENGTH = 100;

// C0 controls (incl. TAB, CR, LF), DEL, C1 controls, the Unicode line and
// paragraph separators, and lone surrogates (not encodable as UTF-8).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udfff]/gu;

/**
 * Makes free text from the other protocol safe for a SIP Reason-Phrase
 * (RFC 3261 §25.1: no CR/LF) or an XMPP <text/> (XML 1.0 Char): control
 * characters become spaces, whitespace runs collapse, the ends are trimmed
 * and the result is cut to `max` code points. Returns '' when nothing is left.
 */
export function sanitizeText(text: string, max: number = MAX_REASON_LENGTH): string {
  const cleaned = text.replace(UNSAFE_CHARS, ' ').replace(/\s+/gu, ' ').trim();
  const codePoints = Array.from(cleaned);
  if (codePoints.length <= max) return cleaned;
  return codePoints.slice(0, Math.max(0, max)).join('').trimEnd();
}

/** An address usable as <gone/>/<redirect/> data or a Contact URI: non-empty, no whitespace, controls, quotes or angle brackets. */
function cleanAddress(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '' || t === '*') return undefined;
  if (/[\u0000-\u0020\u007f-\u009f\u2028\u2029<>"]/u.test(t)) return undefined;
  return t;
}

/**
 * The URI of the first contact in a Contact header value: `<uri>` when angle
 * brackets are used (with or without a display name), otherwise the text
 * before the first `,` or `;` (RFC 3261 §20.10: without brackets, `;` starts
 * header parameters).
 */
function contactUri(contact: string | undefined): string | undefined {
  if (contact === undefined) return undefined;
  const open = contact.indexOf('<');
  if (open >= 0) {
    const close = contact.indexOf('>', open + 1);
    if (close < 0) return undefined;
    return cleanAddress(contact.slice(open + 1, close));
  }
  const end = contact.search(/[,;]/);
  return cleanAddress(end >= 0 ? contact.slice(0, end) : contact);
}

// ---------------------------------------------------------------------------
// SIP → XMPP (RFC 7247 §7.2, Table 3)

const SIP_TO_XMPP: ReadonlyMap<number, XmppCondition> = new Map<number, XmppCondition>([
  [300, 'redirect'],
  [301, 'gone'], // note (1): MUST carry the new address
  [302, 'redirect'],
  [305, 'redirect'],
  [380, 'not-acceptable'],
  [400, 'bad-request'],
  [401, 'not-authorized'],
  [402, 'bad-request'], // note (2): <payment-required/> is gone from RFC 6120
  [403, 'forbidden'], // note (3): not-allowed / policy-violation also possible
  [404, 'item-not-found'], // note (4): remote-server-not-found also possible
  [405, 'feature-not-implemented'],
  [406, 'not-acceptable'],
  [407, 'registration-required'],
  [408, 'remote-server-timeout'], // note (5): remote-server-not-found also possible
  [410, 'gone'], // note (1): MUST NOT carry an address
  [413, 'policy-violation'],
  [414, 'policy-violation'],
  [415, 'not-acceptable'],
  [416, 'not-acceptable'],
  [420, 'feature-not-implemented'],
  [421, 'not-acceptable'],
  [423, 'resource-constraint'],
  [430, 'recipient-unavailable'], // note (6): RFC 5626
  [439, 'feature-not-implemented'], // note (6): RFC 5626
  [440, 'policy-violation'], // note (7): RFC 5393
  [480, 'recipient-unavailable'],
  [481, 'item-not-found'],
  [482, 'not-acceptable'],
  [483, 'not-acceptable'],
  [484, 'item-not-found'],
  [485, 'item-not-found'],
  [486, 'recipient-unavailable'],
  [487, 'recipient-unavailable'],
  [488, 'not-acceptable'],
  [489, 'policy-violation'], // note (8): RFC 6665
  [491, 'unexpected-request'],
  [493, 'bad-request'],
  [500, 'internal-server-error'],
  [501, 'feature-not-implemented'],
  [502, 'remote-server-not-found'],
  [503, 'internal-server-error'], // note (9): SIP 503 is server-wide, not service-unavailable
  [504, 'remote-server-timeout'],
  [505, 'not-acceptable'],
  [513, 'policy-violation'],
  [600, 'recipient-unavailable'],
  [603, 'recipient-unavailable'],
  [604, 'item-not-found'],
  [606, 'not-acceptable'],
]);

// RFC 7247 §7.2: codes not in Table 3 map by class.
const CLASS_FALLBACK: Readonly<Record<3 | 4 | 5 | 6, XmppCondition>> = {
  3: 'redirect',
  4: 'bad-request',
  5: 'internal-server-error',
  6: 'recipient-unavailable',
};

function spec(condition: XmppCondition, text: string, target?: string): StanzaErrorSpec {
  const out: StanzaErrorSpec = { condition, type: errorTypeFor(condition) };
  if (text !== '') out.text = text;
  if (target !== undefined) out.target = target;
  return out;
}

/**
 * SIP final response (3xx-6xx) → XMPP stanza error (RFC 7247 §7.2 Table 3,
 * class fallbacks for unlisted codes). `reason` becomes <text/> (sanitised);
 * `contact` is the Contact header value of a 3xx, whose first URI becomes the
 * character data of <gone/> (301) or <redirect/> (300, 302, unlisted 3xx).
 *
 * Never throws. A status that is not an integer in 300..699 (a 1xx/2xx, 0,
 * 700, NaN) is a caller bug with no Table 3 row: it maps to
 * <undefined-condition/>, type cancel.
 */
export function sipStatusToXmppError(status: number, reason?: string, contact?: string): StanzaErrorSpec {
  const text = reason === undefined ? '' : sanitizeText(reason);
  if (!Number.isInteger(status) || status < 300 || status > 699) {
    return spec('undefined-condition', text);
  }
  const condition = SIP_TO_XMPP.get(status) ?? CLASS_FALLBACK[Math.floor(status / 100) as 3 | 4 | 5 | 6];

  if (status === 410) {
    // RFC 7247 §7.2 note (1): 410 → <gone/> MUST NOT carry a new address.
    return spec('gone', text);
  }
  if (status === 301) {
    // RFC 7247 §7.2 note (1): 301 → <gone/> MUST carry the new address. A 301
    // without a usable Contact is itself malformed (RFC 3261 §21.3.2); the
    // entity is still permanently gone, so an empty <gone/> is emitted rather
    // than inventing an address or losing the permanence.
    return spec('gone', text, contactUri(contact));
  }
  if (condition === 'redirect' && status !== 305) {
    // 300, 302 and unlisted 3xx: the (first) Contact is the new address.
    // 305 Use Proxy is excluded: its Contact is the proxy to go through
    // (RFC 3261 §21.3.4), not a new address of the entity.
    return spec('redirect', text, contactUri(contact));
  }
  return spec(condition, text);
}

/** Transaction timeout with no final response: the 408 row of Table 3 ([derived], spec §4.5). */
export function timeoutError(): StanzaErrorSpec {
  return { condition: 'remote-server-timeout', type: errorTypeFor('remote-server-timeout') };
}

// ---------------------------------------------------------------------------
// XMPP → SIP (RFC 7247 §7.1, Table 2)

/**
 * XMPP stanza error → SIP final response (RFC 7247 §7.1 Table 2).
 *
 * `toFullJid`: whether the failed stanza was addressed to a full JID (4xx
 * codes) or a bare JID (6xx codes), notes (1) and (2). `unresolvable`: for
 * <remote-server-not-found/>, the domain could not be resolved (408) rather
 * than known not to exist (404), note (4). Unknown condition names are
 * treated as <undefined-condition/> (400). `text` becomes the reason phrase
 * after sanitising (no CR/LF or other controls, at most 100 code points);
 * otherwise the standard phrase. `contact` is set only for 301/302 and is
 * the target as given (an xmpp: URI must be translated by the caller).
 * Never throws.
 */
export function xmppErrorToSipStatus(
  err: { condition: string; text?: string; target?: string },
  opts: { toFullJid: boolean; unresolvable?: boolean },
): SipErrorResponse {
  const condition: XmppCondition = isXmppCondition(err.condition) ? err.condition : 'undefined-condition';
  const full = opts.toFullJid;
  let status: number;
  let contact: string | undefined;

  switch (condition) {
    case 'bad-request':
    case 'conflict':
    case 'jid-malformed':
    case 'subscription-required':
    case 'undefined-condition':
      status = 400;
      break;
    case 'feature-not-implemented':
      // RFC 7247 §7.1 note (1): full JID → 405, bare JID → 501. (A 405 needs
      // an Allow header, RFC 3261 §21.4.6; the SIP adapter adds it.)
      status = full ? 405 : 501;
      break;
    case 'forbidden':
      status = full ? 403 : 603; // RFC 7247 §7.1 note (2)
      break;
    case 'gone':
      // RFC 7247 §7.1 note (3): with a new address MUST be 301, without MUST
      // be 410. An address that cannot be put in a Contact (empty, spaces,
      // controls, brackets) counts as no address.
      contact = cleanAddress(err.target);
      status = contact !== undefined ? 301 : 410;
      break;
    case 'internal-server-error':
    case 'resource-constraint':
      status = 500;
      break;
    case 'item-not-found':
      status = full ? 404 : 604; // RFC 7247 §7.1 note (2)
      break;
    case 'not-acceptable':
      status = full ? 406 : 606; // RFC 7247 §7.1 note (2)
      break;
    case 'not-allowed':
    case 'policy-violation':
      status = 403;
      break;
    case 'not-authorized':
      status = 401;
      break;
    case 'recipient-unavailable':
      status = full ? 480 : 600; // RFC 7247 §7.1 note (2)
      break;
    case 'redirect':
      // Table 2: 302; the new address, when given, becomes the Contact.
      contact = cleanAddress(err.target);
      status = 302;
      break;
    case 'registration-required':
      status = 407;
      break;
    case 'remote-server-not-found':
      // RFC 7247 §7.1 note (4): no such server → 404; cannot be resolved → 408.
      status = opts.unresolvable === true ? 408 : 404;
      break;
    case 'remote-server-timeout':
      status = 408;
      break;
    case 'service-unavailable':
      // RFC 7247 §7.1 note (5): 503 is NOT RECOMMENDED (it would mean the
      // whole gateway is unavailable); 403 or 405 are closest. Full JID → 405
      // (that resource does not offer the service, like note (1)'s
      // feature-not-implemented); bare JID → 403 (RFC 6120 servers answer
      // service-unavailable for a non-existent or refusing account, and 403
      // neither confirms nor denies the account's existence).
      status = full ? 405 : 403;
      break;
    case 'unexpected-request':
      // Table 2: "491 or 400". 491 (first listed): Request Pending says "not
      // now", which matches this condition's type "wait" and maps back to
      // <unexpected-request/> via Table 3.
      status = 491;
      break;
  }

  const text = err.text === undefined ? '' : sanitizeText(err.text);
  const out: SipErrorResponse = { status, reason: text !== '' ? text : reasonPhrase(status) };
  if (contact !== undefined) out.contact = contact;
  return out;
}
