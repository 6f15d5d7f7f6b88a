// Small stanza helpers shared by the XMPP adapter: JID checks and error replies.
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

// RFC 7622 §3.3.1: characters a localpart may never contain.
const LOCAL_FORBIDDEN = /["&'/:<>@\s\u0000-\u001f\u007f]/u;
const MAX_PART_BYTES = 1023; // RFC 7622 §3.1

export interface ParsedJid {
  local: string;
  domain: string;
  resource: string;
  bare: string;
  full: string;
}

/** Strict enough to refuse what no server would route; returns null for a malformed JID. */
export function parseJid(text: string | undefined): ParsedJid | null {
  if (text === undefined || text.length === 0 || text.length > 3071) return null;
  const slash = text.indexOf('/');
  const resource = slash === -1 ? '' : text.slice(slash + 1);
  const bare = slash === -1 ? text : text.slice(0, slash);
  const at = bare.indexOf('@');
  const local = at === -1 ? '' : bare.slice(0, at);
  const domain = (at === -1 ? bare : bare.slice(at + 1)).toLowerCase();
  if (at !== -1 && local.length === 0) return null;
  if (slash !== -1 && resource.length === 0) return null;
  if (local && (LOCAL_FORBIDDEN.test(local) || Buffer.byteLength(local) > MAX_PART_BYTES)) return null;
  if (!/^[^\s@/\u0000-\u001f]+$/u.test(domain) || Buffer.byteLength(domain) > MAX_PART_BYTES || domain.startsWith('.') || domain.endsWith('.')) {
    return null;
  }
  if (Buffer.byteLength(resource) > MAX_PART_BYTES || /[\u0000-\u001f]/u.test(resource)) return null;
  const bareOut = local ? `${local}@${domain}` : domain;
  return { local, domain, resource, bare: bareOut, full: resource ? `${bareOut}/${resource}` : bareOut };
}

export type ErrorType = 'cancel' | 'continue' | 'modify' | 'auth' | 'wait';

/**
 * The error reply to a stanza (RFC 6120 §8.3): same name and id, addresses
 * swapped, the original payload kept, then <error/>. Callers must never call
 * this for a stanza of type 'error' (RFC 6120 §8.3.1: no error in reply to an error).
 */
export function errorReply(stanza: Element, type: ErrorType, condition: string, text?: string): Element {
  const reply = xml(stanza.name, { type: 'error', id: stanza.attrs.id, to: stanza.attrs.from, from: stanza.attrs.to });
  // RFC 6120 §8.3.1 lets the original payload ride along; it helps clients match the error.
  for (const child of stanza.getChildElements()) if (child.name !== 'error') reply.append(child);
  const error = xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }));
  if (text !== undefined) error.append(xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text));
  reply.append(error);
  return reply;
}

/**
 * The error reply to a stanza we translated (RFC 6120 §8.3): addresses
 * swapped, same id, `payload` (e.g. the original body), then <error/> with
 * a condition, an optional RFC 7247 target and English text.
 */
export function translatedErrorReply(
  name: 'message' | 'presence',
  original: { from: string; to: string; id?: string },
  err: { type: ErrorType; condition: string; text?: string; target?: string },
  payload: Element[] = [],
): Element {
  const attrs: Record<string, string> = { type: 'error', from: original.to, to: original.from };
  if (original.id !== undefined) attrs.id = original.id;
  const error = xml('error', { type: err.type }, xml(err.condition, { xmlns: NS_STANZAS }, ...(err.target ? [err.target] : [])));
  if (err.text) error.append(xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, xmlSafe(err.text)));
  return xml(name, attrs, ...payload, error);
}

// XML 1.0 §2.2: characters a document may contain. Anything else in a stanza
// makes the server close the whole component stream, so text that came from
// SIP goes through xmlSafe() before it is put in a stanza.
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Removes characters XML 1.0 does not allow (controls, lone surrogates, U+FFFE/FFFF). */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, '');
}
