// <presence/> stanzas ⇄ the neutral PresenceStanza of core/presence. Only
// what RFC 8048 §6 maps is read (show, status, priority, xml:lang); the
// rest of a stanza is ignored, not copied.
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import type { LangText, Show, XmppPresence } from '../core/presence/model.js';
import { SHOWS } from '../core/presence/model.js';
import type { PresenceStanza, PresenceType } from '../core/presence/ports.js';
import { NS_DELAY } from './im.js';
import { xmlSafe } from './stanza.js';

const TYPES = new Set<PresenceType>(['unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe']);
const CLIENT_NS = new Set([undefined, 'jabber:client', 'jabber:component:accept']);

function children(stanza: Element, name: string): Element[] {
  return stanza.getChildren(name).filter((c) => CLIENT_NS.has(c.attrs.xmlns as string | undefined));
}

/** Reads a presence the router has validated (type known, addresses well-formed). */
export function readPresence(stanza: Element): PresenceStanza {
  const type = stanza.attrs.type as PresenceType | undefined;
  const out: PresenceStanza = { from: String(stanza.attrs.from), to: String(stanza.attrs.to) };
  if (type !== undefined && TYPES.has(type)) out.type = type;
  if (stanza.attrs.id) out.id = String(stanza.attrs.id);
  if (out.type !== undefined && out.type !== 'unavailable') return out;
  const p: XmppPresence = { available: out.type === undefined };
  const lang = stanza.attrs['xml:lang'] as string | undefined;
  if (lang) p.lang = lang;
  // RFC 6121 §4.7.2.1: an unknown <show/> value is ignored; only available presence shows.
  const show = children(stanza, 'show')[0]?.getText().trim();
  if (p.available && show !== undefined && (SHOWS as readonly string[]).includes(show)) p.show = show as Show;
  const status: LangText[] = children(stanza, 'status')
    .map((c) => ({ text: c.getText(), lang: c.attrs['xml:lang'] as string | undefined }))
    .filter((t) => t.text !== '')
    .map((t) => (t.lang ? { text: t.text, lang: t.lang } : { text: t.text }));
  if (status.length > 0) p.status = status;
  // RFC 6121 §4.7.2.3: an integer from -128 to +127; anything else is ignored.
  const prio = children(stanza, 'priority')[0]?.getText().trim();
  if (p.available && prio !== undefined && /^[+-]?\d{1,3}$/.test(prio)) {
    const n = Number(prio);
    if (n >= -128 && n <= 127) p.priority = n;
  }
  out.presence = p;
  return out;
}

/** Builds a presence; `caps` (XEP-0115 <c/> attributes) goes on available presence only. */
export function buildPresence(p: PresenceStanza, caps?: Record<string, string>): Element {
  const attrs: Record<string, string> = { from: p.from, to: p.to };
  if (p.type !== undefined) attrs.type = p.type;
  if (p.id !== undefined) attrs.id = p.id;
  const n = p.presence;
  if (n?.lang !== undefined) attrs['xml:lang'] = n.lang;
  const el = xml('presence', attrs);
  if (n !== undefined) {
    if (n.available && n.show !== undefined) el.append(xml('show', {}, n.show));
    for (const s of n.status ?? []) el.append(xml('status', s.lang && s.lang !== n.lang ? { 'xml:lang': s.lang } : {}, xmlSafe(s.text)));
    if (n.available && n.priority !== undefined) el.append(xml('priority', {}, String(n.priority)));
  }
  if (p.type === undefined && caps !== undefined) el.append(xml('c', caps));
  if (p.delay !== undefined) el.append(xml('delay', { xmlns: NS_DELAY, stamp: p.delay.toISOString() }));
  return el;
}
