/**
 * Presence notifications: XMPP <presence/> ⇄ PIDF, RFC 8048 §6.2 (Table 1)
 * and §6.3 (Table 2), whose rows "MUST be as shown". Pure functions; the
 * addresses (From/To ⇄ from/to) are mapped by core/address.ts, the headers
 * (Event, Content-Type, Content-Language) by the SIP adapter.
 *
 * ## XMPP → PIDF (xmppToPidf)
 *
 *   <presence from='juliet@example.com/yn0cl4bnw0yr3vym'/>          (C13)
 *     → <presence entity='pres:juliet@example.com'>
 *         <tuple id='ID-yn0cl4bnw0yr3vym'><status><basic>open</basic></status></tuple>
 *   <presence xml:lang='en'><show>dnd</show><status>Wooing</status><priority>13</priority></presence>   (C14)
 *     → doc.lang 'en' (Content-Language: en); <basic>open</basic><show xmlns='jabber:client'>dnd</show>;
 *       <contact priority='0.102'>; <note>Wooing</note>; person <rpid:busy/>
 *   type='unavailable' → <basic>closed</basic> (no show, no priority; the status is kept as a note)
 *
 * - One tuple per presence (per resource). Its id is 'ID-' + the resource
 *   encoded by resourceToTupleId (note 2): ASCII letters, digits, '-' and '.'
 *   stay as they are, every other character (including '_') becomes
 *   '_' + its code point in uppercase hex + '_'. 'my phone/2' → 'ID-my_20_phone_2F_2',
 *   'café' → 'ID-caf_E9_'. The result is always an NCName, the encoding is
 *   injective, and tupleIdToResource reverses it. No resource → 'ID-'.
 * - show → the tuple's <show xmlns='jabber:client'> (note 7) and, as the
 *   [impl] suggestion of mapping §3.5, an RPID activity on the person
 *   (away, xa → away; dnd → busy; chat → none). The person describes the
 *   presentity, so it is derived from its most available resource (chat >
 *   no show > away > xa > dnd, unavailable resources ignored): a person is
 *   written only when that resource is away, xa or dnd.
 * - status → <note>, each with its own xml:lang; empty texts are dropped.
 * - priority → <contact priority> by priorityToPidf (note 6): negative → not
 *   mapped, 0..127 → ⌊p/127·1000⌋/1000. A <contact> is written only to carry a
 *   priority or when options.contactUri gives a URI; its URI is then
 *   options.contactUri(resource), by default the entity with pres: turned
 *   into im: (RFC 3922 §5.1.9.2) and sip:/sips:/im: entities kept.
 * - <timestamp>: options.timestamp when given (RFC 3863 §4.1.7).
 * - xml:lang → doc.lang (Content-Language) when every presence has the same
 *   one; a presence whose language differs from doc.lang gives its notes an
 *   explicit xml:lang, so nothing is lost.
 *
 * ## PIDF → XMPP (pidfToXmpp)
 *
 *   tuple 'ID-dr4hcr0st3lup4c' open + <show xmlns='jabber:client'>away</show>
 *     → { resource: 'dr4hcr0st3lup4c', available: true, show: 'away' }        (C3)
 *   tuple 'ID-dr4hcr0st3lup4c' closed → { resource: 'dr4hcr0st3lup4c', available: false }   (C15)
 *   no body, or zero tuples → []                                              (C4, C16; RFC 3922 §5.2.11)
 *
 * - One presence per tuple; a later tuple naming a resource already used is
 *   dropped (one presence per full JID).
 * - resource: for an 'ID-' id, the decoded resource when the id is in the
 *   canonical form resourceToTupleId writes, else the id with 'ID-' stripped
 *   (another gateway's plain prefixing). Otherwise the tuple id itself (RFC
 *   3922 §5.2.1 maps the id to the resource as it is), else the deviceID;
 *   each only if it is a valid resourcepart. 'ID-' alone → no resource.
 * - open → available; closed → unavailable (no show, no priority).
 * - show, first match wins: the tuple's jabber:client <show>; the tuple's
 *   provisional <im:im> (away, chat, dnd, xa as themselves, busy → dnd, RFC
 *   3922 §5.2.10); the person's RPID activities ([impl], mapping §3.5:
 *   busy, on-the-phone, meeting, presentation, performance → dnd; vacation,
 *   holiday, permanent-absence, sleeping, travel → xa; away → away; with
 *   several, dnd beats xa beats away); user-input idle of the tuple, else of
 *   the person → away; otherwise no <show>.
 * - <note> → <status> with its xml:lang: the tuple's notes, else the person's,
 *   else the document's own <note>s.
 * - contact priority → <priority> by priorityFromPidf: round(p·127), the
 *   inverse of note 6 (0.102 → 13, 0.007 → 1, 0.992 → 126, 1 → 127).
 * - doc.lang (Content-Language) → the presence's xml:lang.
 */
import { checkResource } from '../address/parse.js';
import type { LangText, PresenceDoc, PresencePerson, PresenceTuple, RpidActivity, Show, XmppPresence } from './model.js';

/** RFC 8048 §6.2 note 2: the RECOMMENDED prefix that makes a resource an xs:ID. */
export const TUPLE_ID_PREFIX = 'ID-';

const PLAIN = /^[A-Za-z0-9.-]$/;

/** The tuple id for an XMPP resource (see the module comment); undefined → 'ID-'. */
export function resourceToTupleId(resource: string | undefined): string {
  let out = TUPLE_ID_PREFIX;
  for (const ch of resource ?? '') {
    out += PLAIN.test(ch) ? ch : `_${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}_`;
  }
  return out;
}

/**
 * The resource encoded in a tuple id written by resourceToTupleId: '' for
 * 'ID-', undefined when the id is not in that exact (canonical) form.
 */
export function tupleIdToResource(id: string): string | undefined {
  if (!id.startsWith(TUPLE_ID_PREFIX)) return undefined;
  const rest = id.slice(TUPLE_ID_PREFIX.length);
  if (!/^(?:[A-Za-z0-9.-]|_[0-9A-F]{1,6}_)*$/.test(rest)) return undefined;
  let bad = false;
  const decoded = rest.replace(/_([0-9A-F]{1,6})_/g, (_m, hex: string) => {
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) {
      bad = true;
      return '';
    }
    return String.fromCodePoint(cp);
  });
  if (bad || resourceToTupleId(decoded) !== id) return undefined;
  return decoded;
}

/**
 * XMPP <priority> → PIDF contact priority (RFC 8048 note 6, RFC 3922 §5.1.7):
 * negative or invalid → undefined (MUST NOT be mapped); 0..127 →
 * ⌊p/127·1000⌋/1000 with 3 decimals: 0 → "0", 1 → "0.007", 13 → "0.102",
 * 126 → "0.992", 127 → "1". Unique for every p.
 */
export function priorityToPidf(p: number): string | undefined {
  const t = priorityThousandths(p);
  if (t === undefined) return undefined;
  if (t === 0) return '0';
  if (t === 1000) return '1';
  return `0.${String(t).padStart(3, '0')}`;
}

function priorityThousandths(p: number): number | undefined {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 127) return undefined;
  return Math.floor((p * 1000) / 127);
}

/**
 * PIDF contact priority → XMPP <priority>: round(p·127), the inverse of
 * priorityToPidf (0.102 → 13); undefined outside [0, 1].
 */
export function priorityFromPidf(p: number): number | undefined {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) return undefined;
  return Math.round(p * 127);
}

/**
 * RFC 8048 §6.2 note 1 (C16): which presence types become a NOTIFY, and with
 * which <basic>: no type → open, 'unavailable' → closed, any other type
 * (subscribe, subscribed, probe, error, …) → undefined: no NOTIFY.
 */
export function basicForPresenceType(type: string | undefined): 'open' | 'closed' | undefined {
  if (type === undefined) return 'open';
  if (type === 'unavailable') return 'closed';
  return undefined;
}

export interface XmppToPidfOptions {
  /** The <contact> URI for a resource; by default derived from the entity. */
  contactUri?: (resource: string | undefined) => string | undefined;
  /**
   * <timestamp> for every tuple: the time of the status change, which RFC 3863
   * §4.1.7 asks for in all tuples; the caller has the clock. None by default.
   */
  timestamp?: Date;
}

function defaultContact(entity: string): string {
  return /^pres:/i.test(entity) ? `im:${entity.slice(5)}` : entity;
}

const AVAILABILITY: Record<Show | 'none', number> = { chat: 4, none: 3, away: 2, xa: 1, dnd: 0 };

function personFor(presences: readonly XmppPresence[]): PresencePerson | undefined {
  let best: Show | 'none' | undefined;
  for (const p of presences) {
    if (!p.available) continue;
    const s = p.show ?? 'none';
    if (best === undefined || AVAILABILITY[s] > AVAILABILITY[best]) best = s;
  }
  const activity: RpidActivity | undefined = best === 'away' || best === 'xa' ? 'away' : best === 'dnd' ? 'busy' : undefined;
  return activity === undefined ? undefined : { activities: [activity], notes: [] };
}

/** The presences of one XMPP user (one per resource) as one PIDF document. */
export function xmppToPidf(entityUri: string, presences: readonly XmppPresence[], options: XmppToPidfOptions = {}): PresenceDoc {
  const langs = new Set(presences.map((p) => p.lang));
  const docLang = langs.size === 1 ? presences[0]?.lang : undefined;
  const tuples: PresenceTuple[] = [];
  const ids = new Set<string>();
  for (const p of presences) {
    const id = resourceToTupleId(p.resource);
    if (ids.has(id)) continue;
    ids.add(id);
    const fallbackLang = p.lang !== docLang ? p.lang : undefined;
    const notes: LangText[] = [];
    for (const s of p.status ?? []) {
      if (s.text === '') continue;
      const lang = s.lang ?? fallbackLang;
      notes.push(lang === undefined ? { text: s.text } : { text: s.text, lang });
    }
    const tuple: PresenceTuple = { id, basic: p.available ? 'open' : 'closed', notes };
    if (p.available && p.show !== undefined) tuple.show = p.show;
    const t = p.available && p.priority !== undefined ? priorityThousandths(p.priority) : undefined;
    const uri = options.contactUri ? options.contactUri(p.resource) : undefined;
    if (t !== undefined || uri !== undefined) {
      const contactUri = uri ?? defaultContact(entityUri);
      tuple.contact = t === undefined ? { uri: contactUri } : { uri: contactUri, priority: t / 1000 };
    }
    if (options.timestamp !== undefined) tuple.timestamp = options.timestamp;
    tuples.push(tuple);
  }
  const doc: PresenceDoc = { entity: entityUri, tuples, notes: [] };
  const person = personFor(presences);
  if (person) doc.person = person;
  if (docLang !== undefined) doc.lang = docLang;
  return doc;
}

const DND_ACTIVITIES: ReadonlySet<RpidActivity> = new Set(['busy', 'on-the-phone', 'meeting', 'presentation', 'performance']);
const XA_ACTIVITIES: ReadonlySet<RpidActivity> = new Set(['vacation', 'holiday', 'permanent-absence', 'sleeping', 'travel']);

/** [impl] RPID activities → <show> (mapping §3.5); undefined when none maps. */
export function showFromActivities(activities: readonly RpidActivity[]): Show | undefined {
  if (activities.some((a) => DND_ACTIVITIES.has(a))) return 'dnd';
  if (activities.some((a) => XA_ACTIVITIES.has(a))) return 'xa';
  if (activities.includes('away')) return 'away';
  return undefined;
}

function showFromIm(im: string | undefined): Show | undefined {
  const v = im?.toLowerCase();
  if (v === 'away' || v === 'chat' || v === 'dnd' || v === 'xa') return v;
  if (v === 'busy') return 'dnd';
  return undefined;
}

function validResource(s: string | undefined): string | undefined {
  return s !== undefined && s !== '' && checkResource(s) === undefined ? s : undefined;
}

/** The XMPP resource for a tuple (see the module comment). */
export function resourceForTuple(tuple: Pick<PresenceTuple, 'id' | 'deviceId'>): string | undefined {
  if (tuple.id.startsWith(TUPLE_ID_PREFIX)) {
    const decoded = tupleIdToResource(tuple.id);
    if (decoded === '') return undefined;
    return validResource(decoded ?? tuple.id.slice(TUPLE_ID_PREFIX.length));
  }
  return validResource(tuple.id) ?? validResource(tuple.deviceId);
}

/**
 * A PIDF document as XMPP presences, one per tuple. A NOTIFY without a body
 * (undefined) or a document with zero tuples gives none (C4, C16).
 */
export function pidfToXmpp(doc: PresenceDoc | undefined): XmppPresence[] {
  if (!doc) return [];
  const out: XmppPresence[] = [];
  const used = new Set<string | undefined>();
  const person = doc.person;
  for (const t of doc.tuples) {
    const resource = resourceForTuple(t);
    if (used.has(resource)) continue;
    used.add(resource);
    const p: XmppPresence = { available: t.basic === 'open' };
    if (resource !== undefined) p.resource = resource;
    if (p.available) {
      const show = t.show
        ?? showFromIm(t.im)
        ?? showFromActivities(person?.activities ?? [])
        ?? ((t.userInput ?? person?.userInput) === 'idle' ? 'away' : undefined);
      if (show !== undefined) p.show = show;
      const priority = t.contact?.priority === undefined ? undefined : priorityFromPidf(t.contact.priority);
      if (priority !== undefined) p.priority = priority;
    }
    const notes = t.notes.length > 0 ? t.notes : (person?.notes.length ?? 0) > 0 ? (person?.notes ?? []) : doc.notes;
    if (notes.length > 0) p.status = notes.map((n) => (n.lang === undefined ? { text: n.text } : { text: n.text, lang: n.lang }));
    if (doc.lang !== undefined) p.lang = doc.lang;
    out.push(p);
  }
  return out;
}
