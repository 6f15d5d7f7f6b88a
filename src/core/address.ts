/**
 * Addresses: SIP URIs ⇄ JIDs (RFC 7247 §6, XEP-0106, XEP-0100 §6.2, RFC 5627).
 * Protocol-neutral: strings in, strings out; nothing here throws for bad
 * input, every function returns an AddressResult.
 *
 * ## Layer 1: RFC 7247 §6 translation, domain copied ("mode A")
 *
 * SIP → XMPP (§6.4): drop the scheme, split at the first "@", percent-decode,
 * read as UTF-8, XEP-0106-escape what a localpart may not contain, and turn a
 * public GRUU's `gr` into the resource.
 *
 *     sip:f%C3%BC@sip.example           → fü@sip.example
 *     sip:o'malley@sip.example          → o\27malley@sip.example
 *     sip:x/y&z@sip.example             → x\2fy\26z@sip.example
 *     sip:a%23b@sip.example             → a#b@sip.example        (# is fine in a JID)
 *     sip:a%40b@sip.example             → a\40b@sip.example
 *     sip:foo@sip.example;gr=bar        → foo@sip.example/bar
 *     sip:t7x@example.com;gr            → t7x@example.com        (temporary GRUU: no resource, RFC 5627 §3.1.2)
 *     sip:c%3A%5Cnet@x.example          → c\3a\net@x.example     (a lone "\" is kept, XEP-0106 §4.3)
 *     sip:%5C27@x.example               → \5c27@x.example        (an escape look-alike gets \5c, XEP-0106 §4.2 step 3)
 *     sip:bob@xn--mnchen-3ya.de         → bob@münchen.de         (A-label → U-label)
 *     sips:juliet@example.com           → error 'sips'           (RFC 7247 §8: never translated)
 *     tel:+15551234                     → error 'unsupported-scheme'
 *
 * XMPP → SIP (§6.5): unescape all ten XEP-0106 sequences, percent-encode
 * what an RFC 3261 user part may not contain raw (uppercase hex, non-ASCII as
 * UTF-8), keep `& ' / ! $ ( ) * + , ; = ? _ ~ - .` raw; the resource becomes
 * `;gr=`, encoded to RFC 3261 paramchar.
 *
 *     m\26m@xmpp.example                → sip:m&m@xmpp.example   (not %26: see specs §1.4 on XEP-0106 §5.3)
 *     tschüss@xmpp.example              → sip:tsch%C3%BCss@xmpp.example
 *     a#b@xmpp.example                  → sip:a%23b@xmpp.example
 *     baz@xmpp.example/qux              → sip:baz@xmpp.example;gr=qux
 *     bob@xmpp.example/my phone;2       → sip:bob@xmpp.example;gr=my%20phone%3B2
 *     bob@münchen.de                    → sip:bob@xn--mnchen-3ya.de
 *
 * IDN: JIDs carry U-labels (RFC 7622 §3.2), SIP URIs carry A-labels (RFC 7247
 * §6.1 allows IDNs only in JIDs). Ports and URI headers are dropped.
 *
 * ## Layer 2: the gateway's mapper (AddressMapper)
 *
 * Configured like `xmpp.componentDomain` and `domains` in src/config/schema.ts.
 * With componentDomain sip.example.com, homeSipDomain example.org and
 * xmppToSip [{xmpp: example.com, sip: example.com}, {xmpp: chat.example.net, sip: voice.example.net}]:
 *
 * SIP users appear under the component domain (sipUserToJid / jidToSipUser):
 *
 *     sip:bob@example.org;gr=x          ⇄ bob@sip.example.com/x              (home domain)
 *     sip:romeo@example.net             ⇄ romeo\40example.net@sip.example.com (XEP-0100 §6.2 + XEP-0106)
 *     sip:bob@xn--mnchen-3ya.de         ⇄ bob\40münchen.de@sip.example.com
 *     sip:a%40b@example.org             ⇄ a\40b\40example.org@sip.example.com (a home user with "@"
 *                                          keeps the explicit form, or it would read as user a at b)
 *     bob\40example.org@sip.example.com → error 'not-a-user' (the home user is bob@sip.example.com)
 *     sip:alice@example.com             → error 'not-a-user' (an XMPP user's SIP domain, not a SIP user)
 *     sip.example.com                   → error 'not-a-user'
 *
 * The last "@" of the unescaped localpart splits user from domain, since a
 * domain cannot contain "@". With allowForeignSipDomains false only the home
 * domain maps; others give 'domain-not-allowed'.
 *
 * XMPP users appear under their configured SIP domain (xmppUserToSip / sipToXmppUser):
 *
 *     alice@example.com/phone           ⇄ sip:alice@example.com;gr=phone
 *     carol@chat.example.net            ⇄ sip:carol@voice.example.net
 *     eve@elsewhere.example             → error 'domain-not-allowed' (not an open relay, RFC 8048 §8.1)
 *     sip:x@unknown.example             → error 'domain-not-allowed'
 *
 * Round trips: for JIDs produced by this module jid → sip → jid is the
 * identity. sip → jid → sip is the identity up to RFC 3261 §19.1.4
 * equivalence, except that a percent-encoded reserved character comes back
 * raw (sip:m%26m@x → m\26m@x → sip:m&m@x), as RFC 7247 §6.4 step 3 decodes it.
 * Other JID spellings of the same SIP user are accepted (`c\3a\5cnet` and
 * `c\3a\net`, A-labels inside `\40…`), so the XMPP side is not bijective.
 */
import { fail, ok, type AddressError, type AddressResult } from './address/errors.js';
import { encodeSipParam, encodeSipUser, xep0106Escape, xep0106Unescape } from './address/escape.js';
import { checkLocalpart, checkResource, normaliseDomain, parseJid, parseSipUri, type DomainForms } from './address/parse.js';

export { AddressError } from './address/errors.js';
export type { AddressErrorKind, AddressResult, AddressSipStatus, AddressXmppCondition } from './address/errors.js';
export { normaliseSipEscapes, xep0106Escape, xep0106Unescape } from './address/escape.js';
export { normaliseDomain, parseJid, parseSipUri, uriFromNameAddr } from './address/parse.js';
export type { DomainForms, ParsedJid, ParsedSipUri } from './address/parse.js';

export interface MappedJid {
  bare: string;
  /** The bare JID plus "/resource" when there is a resource, else the bare JID. */
  full: string;
  /** XEP-0106-escaped localpart, as on the wire. */
  local: string;
  /** Domainpart in U-label form. */
  domain: string;
  resource?: string;
}

export interface MappedSip {
  /** sip:user@domain, no parameters. */
  aor: string;
  /** The AOR plus ;gr= when there is a resource. */
  uri: string;
  /** Percent-encoded user part, as in the URI. */
  user: string;
  /** Domain in A-label form. */
  domain: string;
  /** Percent-encoded gr value, as in the URI. */
  gr?: string;
}

/** Build the JID for a decoded SIP user (RFC 7247 §6.4 steps 5, 7, 8). */
function buildJid(user: string, domain: DomainForms, gr: string | undefined): AddressResult<MappedJid> {
  const local = xep0106Escape(user);
  const problem: AddressError | undefined = checkLocalpart(local) ?? (gr === undefined ? undefined : checkResource(gr));
  if (problem !== undefined) return { ok: false, error: problem };
  const bare = `${local}@${domain.unicode}`;
  if (gr === undefined) return ok({ bare, full: bare, local, domain: domain.unicode });
  return ok({ bare, full: `${bare}/${gr}`, local, domain: domain.unicode, resource: gr });
}

/** Build the SIP URI for a decoded user (RFC 7247 §6.5 steps 5–8). */
function buildSip(user: string, domain: DomainForms, resource: string | undefined): MappedSip {
  const encoded = encodeSipUser(user);
  const aor = `sip:${encoded}@${domain.ascii}`;
  if (resource === undefined) return { aor, uri: aor, user: encoded, domain: domain.ascii };
  // RFC 7247 §6.3 and §6.5 step 8: the resource is the gr parameter of a public GRUU.
  const gr = encodeSipParam(resource);
  return { aor, uri: `${aor};gr=${gr}`, user: encoded, domain: domain.ascii, gr };
}

/** RFC 7247 §6.4, domain copied (A-labels become U-labels). */
export function sipUriToJid(uri: string): AddressResult<MappedJid> {
  const parsed = parseSipUri(uri);
  if (!parsed.ok) return parsed;
  const { user, host, gr } = parsed.value;
  if (host === 'ip') return fail('jid-malformed', 'an IP-literal host cannot be a JID domainpart');
  return buildJid(user, host, gr);
}

/** RFC 7247 §6.5, domain copied (U-labels become A-labels); always the sip: scheme (step 7). */
export function jidToSipUri(jid: string): AddressResult<string> {
  const parsed = parseJid(jid);
  if (!parsed.ok) return parsed;
  const { local, domain, resource } = parsed.value;
  if (local === undefined) return fail('not-a-user', 'a JID without a localpart is not a user');
  return ok(buildSip(xep0106Unescape(local), domain, resource).uri);
}

export interface AddressConfig {
  componentDomain: string;
  homeSipDomain: string;
  xmppToSip: ReadonlyArray<{ xmpp: string; sip: string }>;
  /** Map SIP users of domains other than the home domain as `user\40domain@component` (default true). */
  allowForeignSipDomains?: boolean;
}

function configDomain(key: string, value: string): DomainForms {
  const forms = normaliseDomain(value);
  if (typeof forms === 'string') throw new Error(`${key}: ${JSON.stringify(value)} is not a domain name`);
  return forms;
}

/** The gateway's address policy. Domains compare case-insensitively and by IDNA form. */
export class AddressMapper {
  private readonly component: DomainForms;
  private readonly home: DomainForms;
  private readonly allowForeign: boolean;
  /** XMPP domain (A-label) → the SIP domain its users appear under. */
  private readonly xmppToSip = new Map<string, DomainForms>();
  /** SIP domain (A-label) → the XMPP domain of the users it stands for. */
  private readonly sipToXmpp = new Map<string, DomainForms>();

  /** @throws Error when the configuration is inconsistent (a start-up error, not an address error). */
  constructor(cfg: AddressConfig) {
    this.component = configDomain('xmpp.componentDomain', cfg.componentDomain);
    this.home = configDomain('domains.homeSipDomain', cfg.homeSipDomain);
    this.allowForeign = cfg.allowForeignSipDomains ?? true;
    for (const entry of cfg.xmppToSip) {
      const xmpp = configDomain('domains.xmppToSip xmpp', entry.xmpp);
      const sip = configDomain('domains.xmppToSip sip', entry.sip);
      if (this.xmppToSip.has(xmpp.ascii)) throw new Error(`domains.xmppToSip: XMPP domain ${xmpp.unicode} is listed twice`);
      // The reverse map must be a function, or a SIP request could reach two XMPP domains.
      if (this.sipToXmpp.has(sip.ascii)) throw new Error(`domains.xmppToSip: SIP domain ${sip.ascii} is listed twice`);
      if (xmpp.ascii === this.component.ascii) throw new Error('domains.xmppToSip: the component domain is not an XMPP user domain');
      if (sip.ascii === this.home.ascii) {
        throw new Error(`domains.xmppToSip: ${sip.ascii} is the home SIP domain; SIP users and XMPP users need different SIP domains`);
      }
      this.xmppToSip.set(xmpp.ascii, sip);
      this.sipToXmpp.set(sip.ascii, xmpp);
    }
  }

  /** The component domain (U-label form). */
  get componentDomain(): string {
    return this.component.unicode;
  }

  /** SIP user → their JID under the component domain. */
  sipUserToJid(uri: string): AddressResult<MappedJid> {
    const parsed = parseSipUri(uri);
    if (!parsed.ok) return parsed;
    const { user, host, gr } = parsed.value;
    if (host === 'ip') return fail('domain-not-allowed', 'SIP users must have a domain name, not an IP address');
    if (this.sipToXmpp.has(host.ascii)) return fail('not-a-user', `${host.ascii} is the SIP domain of XMPP users, not of SIP users`);
    let legacy: string;
    if (host.ascii === this.home.ascii) {
      // A home user containing "@" keeps the explicit form: bare, it would read as a foreign user.
      legacy = user.includes('@') ? `${user}@${host.unicode}` : user;
    } else if (this.allowForeign) {
      legacy = `${user}@${host.unicode}`; // XEP-0100 §6.2: LegacyUserAddress@gateway, "@" escaped by XEP-0106
    } else {
      return fail('domain-not-allowed', `SIP domain ${host.ascii} is not served by this gateway`);
    }
    return buildJid(legacy, this.component, gr);
  }

  /** JID under the component domain → the SIP user it stands for. */
  jidToSipUser(jid: string): AddressResult<MappedSip> {
    const parsed = parseJid(jid);
    if (!parsed.ok) return parsed;
    const { local, domain, resource } = parsed.value;
    if (domain.ascii !== this.component.ascii) return fail('not-a-user', `${domain.unicode} is not the gateway's domain`);
    if (local === undefined) return fail('not-a-user', 'the gateway itself is not a SIP user');
    const legacy = xep0106Unescape(local);
    const at = legacy.lastIndexOf('@');
    if (at < 0) return ok(buildSip(legacy, this.home, resource));
    const user = legacy.slice(0, at);
    const sipDomain = normaliseDomain(legacy.slice(at + 1));
    if (user === '') return fail('jid-malformed', 'empty SIP user before \\40');
    if (sipDomain === 'invalid') return fail('jid-malformed', 'the part after the last \\40 is not a domain name');
    if (sipDomain === 'ip') return fail('domain-not-allowed', 'SIP users must have a domain name, not an IP address');
    if (this.sipToXmpp.has(sipDomain.ascii)) {
      // Mapping it would send the request back to this gateway through the proxy.
      return fail('not-a-user', `${sipDomain.ascii} is the SIP domain of XMPP users, not of SIP users`);
    }
    if (sipDomain.ascii === this.home.ascii) {
      if (!user.includes('@')) {
        return fail('not-a-user', `home SIP users are addressed as ${xep0106Escape(user)}@${this.component.unicode}`);
      }
    } else if (!this.allowForeign) {
      return fail('domain-not-allowed', `SIP domain ${sipDomain.ascii} is not served by this gateway`);
    }
    return ok(buildSip(user, sipDomain, resource));
  }

  /** XMPP user → the SIP URI they appear as. */
  xmppUserToSip(jid: string): AddressResult<MappedSip> {
    const parsed = parseJid(jid);
    if (!parsed.ok) return parsed;
    const { local, domain, resource } = parsed.value;
    if (domain.ascii === this.component.ascii) return fail('not-a-user', 'JIDs of the gateway stand for SIP users, not XMPP users');
    const sipDomain = this.xmppToSip.get(domain.ascii);
    if (sipDomain === undefined) return fail('domain-not-allowed', `XMPP domain ${domain.unicode} may not use this gateway`);
    if (local === undefined) return fail('not-a-user', 'a JID without a localpart is not a user');
    return ok(buildSip(xep0106Unescape(local), sipDomain, resource));
  }

  /** SIP URI of an XMPP user (e.g. an inbound Request-URI) → that user's JID. */
  sipToXmppUser(uri: string): AddressResult<MappedJid> {
    const parsed = parseSipUri(uri);
    if (!parsed.ok) return parsed;
    const { user, host, gr } = parsed.value;
    const xmppDomain = host === 'ip' ? undefined : this.sipToXmpp.get(host.ascii);
    if (xmppDomain === undefined) {
      return fail('domain-not-allowed', `${host === 'ip' ? 'an IP address' : host.ascii} is not a SIP domain of XMPP users`);
    }
    return buildJid(user, xmppDomain, gr);
  }

  /** Is this SIP domain (any case, A- or U-labels, trailing dot) one that XMPP users appear under? */
  isXmppUserSipDomain(domain: string): boolean {
    const forms = normaliseDomain(domain);
    return typeof forms !== 'string' && this.sipToXmpp.has(forms.ascii);
  }
}
