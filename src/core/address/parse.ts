// Parsers for the three address syntaxes the gateway meets: domain names,
// SIP/IM/PRES URIs (RFC 3261 §19.1, §25.1; RFC 3860; RFC 3859) and JIDs
// (RFC 7622). They validate and split; the translation lives in ../address.ts.
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { fail, ok, type AddressError, type AddressResult } from './errors.js';
import { isWellFormed, percentDecode, utf8Length } from './escape.js';

/** A DNS name in both IDNA forms: A-labels for SIP (RFC 3261 hosts are ASCII), U-labels for JIDs (RFC 7622 §3.2). */
export interface DomainForms {
  ascii: string;
  unicode: string;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DIGITS = /^[0-9]+$/;

/**
 * Normalise a domain name: lowercase, one trailing dot removed (RFC 7622
 * §3.2), IDNA via WHATWG `domainToASCII` (UTS #46, non-transitional), then an
 * LDH check (RFC 1123 §2.1, RFC 3261 `hostname`) on the A-label form.
 * 'ip' for an IP literal, 'invalid' for anything else that is not a host name.
 */
export function normaliseDomain(input: string): DomainForms | 'ip' | 'invalid' {
  if (typeof input !== 'string') return 'invalid';
  let name = input.endsWith('.') ? input.slice(0, -1) : input;
  if (name === '' || name.length > 1023) return 'invalid';
  if (isIP(name) !== 0 || name.startsWith('[')) return 'ip';
  let ascii: string;
  if (/^[\x21-\x7e]+$/.test(name)) {
    name = name.toLowerCase();
    // Only the host-name characters may reach domainToASCII, which would
    // percent-decode "%41" and read "0x7f.1" as an IPv4 address.
    if (!/^[a-z0-9.-]+$/.test(name)) return 'invalid';
    ascii = name.includes('xn--') ? domainToASCII(name) : name;
  } else {
    if (!isWellFormed(name) || /[\s%/\\@:[\]?#<>|^]/u.test(name)) return 'invalid';
    ascii = domainToASCII(name);
  }
  if (ascii === '' || ascii.length > 253) return 'invalid';
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return 'invalid';
  // An all-numeric last label is an IPv4 address in disguise (RFC 3261 toplabel starts with ALPHA).
  if (DIGITS.test(labels[labels.length - 1] ?? '')) return 'ip';
  if (!ascii.includes('xn--')) return { ascii, unicode: ascii };
  const unicode = domainToUnicode(ascii);
  // A-labels must decode and re-encode to themselves, or the two forms would not be a bijection.
  if (unicode === '' || domainToASCII(unicode) !== ascii) return 'invalid';
  return { ascii, unicode };
}

export interface ParsedSipUri {
  scheme: 'sip' | 'im' | 'pres';
  /** The user part as written (still percent-encoded), password removed. */
  rawUser: string;
  /** The user part, percent-decoded and read as UTF-8 (RFC 7247 §6.4 steps 3–4). */
  user: string;
  host: DomainForms | 'ip';
  /** Decoded `gr` value of a public GRUU; absent for no gr and for a temporary GRUU's bare `;gr`. */
  gr?: string;
  /** A `gr` parameter without a value: a temporary GRUU (RFC 5627 §3.1.2). */
  temporaryGruu: boolean;
}

const MAX_URI = 8192;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// Characters that never appear raw in a user part and mean we were handed
// something other than a bare URI (a name-addr, a header line).
const USER_FORBIDDEN_RAW = /[\x00-\x20\x7f<>"]/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Split a sip:/im:/pres: URI. sips: is refused (RFC 7247 §8), tel: and every
 * other scheme are 'unsupported-scheme', a URI with no user part is
 * 'not-a-user'. URI headers and parameters other than `gr` are ignored.
 */
export function parseSipUri(uri: string): AddressResult<ParsedSipUri> {
  if (typeof uri !== 'string') return fail('uri-malformed', 'not a string');
  const text = uri.trim();
  if (text.length > MAX_URI) return fail('uri-malformed', `URI longer than ${MAX_URI} characters`);
  const m = SCHEME.exec(text);
  if (m === null) return fail('uri-malformed', `no URI scheme in ${JSON.stringify(abbreviate(text))}`);
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme === 'sips') return fail('sips', 'sips: URIs are not translated to XMPP (RFC 7247 §8)');
  if (scheme !== 'sip' && scheme !== 'im' && scheme !== 'pres') {
    // RFC 7247 §6.1: mapping tel: URIs and other schemes is out of scope.
    return fail('unsupported-scheme', `the ${scheme}: scheme is not supported`);
  }
  const rest = text.slice(m[0].length);
  // RFC 3261 §25.1: "@" is not allowed raw in a user part, a parameter or a
  // header, so the first "@" ends the userinfo (RFC 7247 §6.4 step 2).
  const at = rest.indexOf('@');
  if (at < 0) return fail('not-a-user', `${scheme}: URI without a user part`);
  let rawUser = rest.slice(0, at);
  // RFC 3261 §19.1.1: userinfo = user [":" password]; the password is not part of the identity.
  const colon = rawUser.indexOf(':');
  if (colon >= 0) rawUser = rawUser.slice(0, colon);
  if (rawUser === '') return fail('uri-malformed', 'empty user part');
  if (USER_FORBIDDEN_RAW.test(rawUser)) return fail('uri-malformed', 'user part contains a character that cannot appear in a URI');
  const user = percentDecode(rawUser);
  if (user === undefined) return fail('uri-malformed', 'user part has invalid percent-encoding or is not UTF-8');

  const afterAt = rest.slice(at + 1);
  let hostText: string;
  let tail: string;
  if (afterAt.startsWith('[')) {
    const close = afterAt.indexOf(']');
    if (close < 0) return fail('uri-malformed', 'unterminated IPv6 reference');
    hostText = afterAt.slice(0, close + 1);
    tail = afterAt.slice(close + 1);
  } else {
    const end = afterAt.search(/[:;?]/);
    hostText = end < 0 ? afterAt : afterAt.slice(0, end);
    tail = end < 0 ? '' : afterAt.slice(end);
  }
  if (tail.startsWith(':')) {
    // The port is dropped: it is transport detail, not identity.
    const end = tail.search(/[;?]/);
    const port = end < 0 ? tail.slice(1) : tail.slice(1, end);
    if (!PORT.test(port) || Number(port) > 65535) return fail('uri-malformed', 'invalid port');
    tail = end < 0 ? '' : tail.slice(end);
  }
  const host = normaliseDomain(hostText);
  if (host === 'invalid') return fail('uri-malformed', `invalid host ${JSON.stringify(abbreviate(hostText))}`);

  const q = tail.indexOf('?');
  const params = (q < 0 ? tail : tail.slice(0, q)).split(';').slice(1);
  let gr: string | undefined;
  let grSeen = false;
  let temporaryGruu = false;
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).toLowerCase();
    if (name !== 'gr' || scheme !== 'sip') continue;
    // Two gr parameters would make the device identity ambiguous.
    if (grSeen) return fail('uri-malformed', 'more than one gr parameter');
    grSeen = true;
    const value = eq < 0 ? '' : param.slice(eq + 1);
    if (value === '') {
      // RFC 5627 §3.1.2: a bare ";gr" marks a temporary GRUU. RFC 7247 §6.3
      // maps only public GRUUs to resources. (An empty "gr=" is invalid per
      // RFC 3261 pvalue = 1*paramchar; it is treated the same way.)
      temporaryGruu = true;
      continue;
    }
    gr = percentDecode(value);
    if (gr === undefined) return fail('uri-malformed', 'gr parameter has invalid percent-encoding or is not UTF-8');
  }
  return ok({ scheme, rawUser, user, host, ...(gr === undefined ? {} : { gr }), temporaryGruu });
}

export interface ParsedJid {
  local?: string;
  domain: DomainForms;
  resource?: string;
}

const MAX_PART = 1023;
// RFC 7622 §3.3.1: characters a localpart must not contain (XEP-0106 escapes them).
const LOCAL_FORBIDDEN = /["&'/:<>@]/;
// PRECIS IdentifierClass (RFC 8264 §4.2) disallows controls and all spaces.
const LOCAL_FORBIDDEN_CLASS = /[\p{Cc}\p{Zs}]/u;
// PRECIS FreeformClass (RFC 8264 §4.3), used for resources, disallows controls.
const RESOURCE_FORBIDDEN_CLASS = /\p{Cc}/u;

/** Errors of an escaped localpart, or undefined when it is acceptable. */
export function checkLocalpart(local: string): AddressError | undefined {
  const size = utf8Length(local);
  if (size === 0) return fail('jid-malformed', 'empty localpart').error;
  if (size > MAX_PART) return fail('jid-malformed', `localpart of ${size} octets (RFC 7622 §3.1 allows 1023)`).error;
  if (!isWellFormed(local)) return fail('jid-malformed', 'localpart is not valid Unicode').error;
  if (LOCAL_FORBIDDEN.test(local)) return fail('jid-malformed', 'localpart contains a character RFC 7622 §3.3.1 forbids').error;
  if (LOCAL_FORBIDDEN_CLASS.test(local)) return fail('jid-malformed', 'localpart contains a control or space character').error;
  // XEP-0106 §3.2 note: "\20" MUST NOT be the first or last character.
  if (local.startsWith('\\20') || local.endsWith('\\20')) {
    return fail('jid-malformed', 'a localpart may not begin or end with an escaped space (XEP-0106 §3.2)').error;
  }
  return undefined;
}

export function checkResource(resource: string): AddressError | undefined {
  const size = utf8Length(resource);
  if (size === 0) return fail('jid-malformed', 'empty resourcepart').error;
  if (size > MAX_PART) return fail('jid-malformed', `resourcepart of ${size} octets (RFC 7622 §3.1 allows 1023)`).error;
  if (!isWellFormed(resource)) return fail('jid-malformed', 'resourcepart is not valid Unicode').error;
  if (RESOURCE_FORBIDDEN_CLASS.test(resource)) return fail('jid-malformed', 'resourcepart contains a control character').error;
  return undefined;
}

/**
 * Split and check a JID (RFC 7622 §3.1: the resource starts at the first
 * "/", the localpart ends at the first "@" before it). The domainpart comes
 * back in both IDNA forms; IP literals are refused. No PRECIS preparation
 * is applied (RFC 7247 §6.4 step 6 makes it OPTIONAL): the XMPP server has
 * already prepared what it routes to the component.
 */
export function parseJid(jid: string): AddressResult<ParsedJid> {
  if (typeof jid !== 'string') return fail('jid-malformed', 'not a string');
  if (jid.length > 3 * (MAX_PART + 1)) return fail('jid-malformed', 'JID too long');
  const slash = jid.indexOf('/');
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const resource = slash < 0 ? undefined : jid.slice(slash + 1);
  const at = bare.indexOf('@');
  const local = at < 0 ? undefined : bare.slice(0, at);
  const domainText = at < 0 ? bare : bare.slice(at + 1);
  if (local !== undefined) {
    const problem = checkLocalpart(local);
    if (problem !== undefined) return { ok: false, error: problem };
  }
  if (resource !== undefined) {
    const problem = checkResource(resource);
    if (problem !== undefined) return { ok: false, error: problem };
  }
  if (utf8Length(domainText) > MAX_PART) return fail('jid-malformed', 'domainpart longer than 1023 octets');
  const domain = normaliseDomain(domainText);
  if (domain === 'ip') return fail('jid-malformed', 'IP-literal domainparts are not accepted');
  if (domain === 'invalid') return fail('jid-malformed', `invalid domainpart ${JSON.stringify(abbreviate(domainText))}`);
  return ok({ ...(local === undefined ? {} : { local }), domain, ...(resource === undefined ? {} : { resource }) });
}

/**
 * The URI of a From/To/Contact header value (RFC 3261 §20.10, §25.1).
 * In name-addr form (`"Bob" <sip:bob@x;gr=y>;tag=z`) the URI is what is
 * inside the angle brackets, so `gr` is kept and `tag` is not. In addr-spec
 * form (`sip:bob@x;tag=z`) every `;` parameter is a header parameter, so the
 * URI ends at the first `;`, `,` or `?`. Undefined when there is no URI.
 */
export function uriFromNameAddr(header: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  let i = 0;
  if (text.startsWith('"')) {
    // quoted-string with quoted-pair (RFC 3261 §25.1)
    for (i = 1; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    if (i >= text.length) return undefined;
    i++;
  }
  const open = text.indexOf('<', i);
  let uri: string;
  if (open >= 0) {
    const close = text.indexOf('>', open + 1);
    if (close < 0) return undefined;
    uri = text.slice(open + 1, close).trim();
  } else {
    if (i > 0) return undefined; // a display name must be followed by <URI>
    const end = text.search(/[;,?\s]/);
    uri = end < 0 ? text : text.slice(0, end);
  }
  return SCHEME.test(uri) ? uri : undefined;
}

function abbreviate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}
