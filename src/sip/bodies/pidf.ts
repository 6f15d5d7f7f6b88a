/**
 * application/pidf+xml (RFC 3863), with the parts of the RFC 4479 data model
 * and of RPID (RFC 4480) that the gateway maps, and the jabber:client <show/>
 * extension of RFC 8048 §6.2 note 7.
 *
 *   <presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:juliet@example.com">   entity required
 *     <tuple id="ID-yn0cl4bnw0yr3vym">                         id (xs:ID) required
 *       <status>                                                required
 *         <basic>open</basic>                                   open | closed
 *         <show xmlns="jabber:client">dnd</show>                RFC 8048 note 7
 *         <im:im xmlns:im="urn:ietf:params:xml:ns:pidf:im">busy</im:im>   RFC 3922 (provisional)
 *       </status>
 *       <dm:deviceID>urn:device:…</dm:deviceID>                 RFC 4479 (first one kept)
 *       <rpid:user-input>idle</rpid:user-input>                 RFC 4480 §3.14
 *       <contact priority="0.102">sip:juliet@example.com</contact>
 *       <note xml:lang="en">Wooing</note>                       any number
 *       <timestamp>2005-10-27T16:49:29Z</timestamp>
 *     </tuple>
 *     <note>…</note>                                            about the presentity
 *     <dm:person id="p1">                                       RFC 4479; the first one is read
 *       <rpid:activities><rpid:busy/><rpid:other>golf</rpid:other></rpid:activities>
 *       <rpid:user-input>active</rpid:user-input>
 *       <dm:note>…</dm:note>
 *     </dm:person>
 *   </presence>
 *
 * Parsing is hardened through parseXml (no DOCTYPE or entities, size, depth
 * and element-count limits) and never throws. The document is refused only
 * when it is not a PIDF document at all: malformed XML, a root other than
 * {urn:ietf:params:xml:ns:pidf}presence, or no `entity`. Everything inside is
 * read tolerantly:
 *  - Unknown elements and attributes, in any namespace, are ignored (RFC 3863
 *    §4.2.3), and so are RFC 4480 elements the gateway does not map.
 *  - A tuple without an `id`, without <status>, or whose <status> has no
 *    <basic> (optional in the schema, §4.1.3) or an unknown <basic> value is
 *    skipped: its availability is unknown, and RFC 8048 maps availability
 *    only from <basic>. A tuple repeating an earlier tuple's id is skipped
 *    (ids are unique per presentity, §4.1.2). The document stays valid, so a
 *    PIDF whose tuples are all skipped has zero tuples.
 *  - <basic> is compared after trimming, case-insensitively.
 *  - A <contact> priority that is not a decimal in [0, 1] is ignored, as §4.1.5
 *    says for out-of-range values; more than 3 decimals are accepted.
 *  - A <timestamp> that is not RFC 3339 with an offset is left out.
 *  - <show> values other than away, chat, dnd, xa are left out; <show> is also
 *    accepted as a direct child of <tuple> (note 7 puts it inside <status>).
 *  - Note texts are trimmed; empty notes are left out. xml:lang is inherited
 *    from enclosing elements (XML 1.0 §2.12).
 *  - An <rpid:activities> element holding an unrecognised child marked
 *    mustUnderstand="true"/"1" is ignored as a whole (RFC 3863 §4.2.3);
 *    unknown activity elements without it are skipped. from/until are not
 *    evaluated: every <rpid:activities> of the person is merged.
 *  - <dm:device> elements are ignored.
 *
 * Building writes what the PresenceDoc says (map.ts decides what that is) and
 * throws a TypeError for input XML cannot carry or the schemas forbid.
 */
import type {
  LangText, PresenceDoc, PresencePerson, PresenceTuple, RpidActivity, Show, UserInput,
} from '../../core/presence/model.js';
import { RPID_ACTIVITIES, SHOWS } from '../../core/presence/model.js';
import { formatRfc3339, parseRfc3339 } from './datetime.js';
import { type Result, describe, fail, ok } from './result.js';
import { type XmlElement, type XmlLimits, child, children, escapeXmlAttr, hasInvalidXmlChars, parseXml, xmlTextFor } from './xml.js';

export const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';
export const PIDF_DM_NS = 'urn:ietf:params:xml:ns:pidf:data-model';
export const RPID_NS = 'urn:ietf:params:xml:ns:pidf:rpid';
/** The provisional "pidf:im" status extension of RFC 3863 §4.3.1 and RFC 3922 §5.1.5. */
export const PIDF_IM_NS = 'urn:ietf:params:xml:ns:pidf:im';
export const JABBER_CLIENT_NS = 'jabber:client';
export const PIDF_CONTENT_TYPE = 'application/pidf+xml';

const XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang';
const MUST_UNDERSTAND = `{${PIDF_NS}}mustUnderstand`;
const ACTIVITY_SET: ReadonlySet<string> = new Set(RPID_ACTIVITIES);
const SHOW_SET: ReadonlySet<string> = new Set(SHOWS);
/** XML whitespace only (not the Unicode spaces String.prototype.trim also removes). */
const XML_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

function xmlTrim(s: string): string {
  return s.replace(XML_SPACE, '');
}

function langOf(el: XmlElement, inherited: string | undefined): string | undefined {
  const own = el.attrs[XML_LANG];
  return own === undefined ? inherited : own;
}

/** Notes (pidf:note, dm:note) among the children of `el`, with inherited languages. */
function notesOf(el: XmlElement, ns: string, inheritedLang: string | undefined): LangText[] {
  const out: LangText[] = [];
  for (const n of children(el, ns, 'note')) {
    const text = xmlTrim(n.text);
    if (text === '') continue;
    const lang = langOf(n, inheritedLang);
    out.push(lang ? { text, lang } : { text });
  }
  return out;
}

function userInputOf(el: XmlElement): UserInput | undefined {
  const v = child(el, RPID_NS, 'user-input');
  const t = v === undefined ? undefined : xmlTrim(v.text);
  return t === 'active' || t === 'idle' ? t : undefined;
}

/** A PIDF qvalue (RFC 3863 §4.1.5): a decimal from 0 to 1; undefined when absent or not one. */
function parsePriority(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = xmlTrim(raw);
  if (!/^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

function isMustUnderstand(el: XmlElement): boolean {
  const v = el.attrs[MUST_UNDERSTAND];
  return v !== undefined && (xmlTrim(v) === 'true' || xmlTrim(v) === '1');
}

/** True when `el` or an element inside it is marked mustUnderstand. */
function demandsUnderstanding(el: XmlElement): boolean {
  return isMustUnderstand(el) || el.children.some(demandsUnderstanding);
}

function parseTuple(el: XmlElement, inheritedLang: string | undefined): PresenceTuple | undefined {
  const id = xmlTrim(el.attrs.id ?? '');
  if (id === '') return undefined;
  const status = child(el, PIDF_NS, 'status');
  if (!status) return undefined;
  const basicEl = child(status, PIDF_NS, 'basic');
  const basic = basicEl === undefined ? undefined : xmlTrim(basicEl.text).toLowerCase();
  if (basic !== 'open' && basic !== 'closed') return undefined;
  const lang = langOf(el, inheritedLang);
  const tuple: PresenceTuple = { id, basic, notes: notesOf(el, PIDF_NS, lang) };

  const showEl = child(status, JABBER_CLIENT_NS, 'show') ?? child(el, JABBER_CLIENT_NS, 'show');
  const show = showEl === undefined ? undefined : xmlTrim(showEl.text);
  if (show !== undefined && SHOW_SET.has(show)) tuple.show = show as Show;

  const imEl = child(status, PIDF_IM_NS, 'im');
  const im = imEl === undefined ? '' : xmlTrim(imEl.text);
  if (im !== '') tuple.im = im;

  const contactEl = child(el, PIDF_NS, 'contact');
  if (contactEl) {
    const priority = parsePriority(contactEl.attrs.priority);
    tuple.contact = priority === undefined ? { uri: xmlTrim(contactEl.text) } : { uri: xmlTrim(contactEl.text), priority };
  }
  const ts = child(el, PIDF_NS, 'timestamp');
  const timestamp = ts === undefined ? null : parseRfc3339(ts.text);
  if (timestamp) tuple.timestamp = timestamp;
  const deviceId = children(el, PIDF_DM_NS, 'deviceID').map((d) => xmlTrim(d.text)).find((d) => d !== '');
  if (deviceId !== undefined) tuple.deviceId = deviceId;
  const userInput = userInputOf(el);
  if (userInput) tuple.userInput = userInput;
  return tuple;
}

function parsePerson(el: XmlElement, inheritedLang: string | undefined): PresencePerson {
  const lang = langOf(el, inheritedLang);
  const activities: RpidActivity[] = [];
  const other: string[] = [];
  for (const acts of children(el, RPID_NS, 'activities')) {
    const known = acts.children.filter((c) => c.ns === RPID_NS && (ACTIVITY_SET.has(c.name) || c.name === 'other' || c.name === 'note'));
    const unknown = acts.children.filter((c) => !known.includes(c));
    if (unknown.some(demandsUnderstanding)) continue;
    for (const a of known) {
      if (a.name === 'note') continue;
      if (a.name === 'other') {
        const t = xmlTrim(a.text);
        if (t !== '') other.push(t);
      } else if (!activities.includes(a.name as RpidActivity)) {
        activities.push(a.name as RpidActivity);
      }
    }
  }
  const person: PresencePerson = { activities, notes: notesOf(el, PIDF_DM_NS, lang) };
  if (other.length > 0) person.otherActivities = other;
  const userInput = userInputOf(el);
  if (userInput) person.userInput = userInput;
  return person;
}

/** Parses an application/pidf+xml body. Never throws. */
export function parsePidf(xml: string | Uint8Array, limits?: XmlLimits): Result<PresenceDoc> {
  try {
    const parsed = parseXml(xml, limits);
    if (!parsed.ok) return parsed;
    const root = parsed.value;
    if (root.name !== 'presence' || root.ns !== PIDF_NS) return fail(`PIDF: unexpected root element {${root.ns}}${root.name}`);
    const entity = xmlTrim(root.attrs.entity ?? '');
    if (entity === '') return fail('PIDF: <presence> has no entity');
    const lang = langOf(root, undefined);
    const tuples: PresenceTuple[] = [];
    const seen = new Set<string>();
    for (const t of children(root, PIDF_NS, 'tuple')) {
      const tuple = parseTuple(t, lang);
      if (!tuple || seen.has(tuple.id)) continue;
      seen.add(tuple.id);
      tuples.push(tuple);
    }
    const doc: PresenceDoc = { entity, tuples, notes: notesOf(root, PIDF_NS, lang) };
    const personEl = child(root, PIDF_DM_NS, 'person');
    if (personEl) doc.person = parsePerson(personEl, lang);
    return ok(doc);
  } catch (e) {
    return fail(`PIDF: ${describe(e)}`);
  }
}

// ---------------------------------------------------------------------------
// Building

// XML 1.0 (5th ed.) NameStartChar and NameChar without ":" (Namespaces in XML: NCName).
const NC_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NC_NAME = new RegExp(`^[${NC_START}][${NC_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*$`, 'u');

/** True when `s` is an NCName, i.e. a valid xs:ID. */
export function isNcName(s: string): boolean {
  return NC_NAME.test(s);
}

/** A PIDF qvalue with at most 3 decimals: 0 → "0", 1 → "1", 0.1023 → "0.102". */
export function formatPidfPriority(p: number): string {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) throw new TypeError('contact priority must be a number from 0 to 1');
  const thousandths = Math.round(p * 1000);
  if (thousandths === 0) return '0';
  if (thousandths === 1000) return '1';
  return `0.${String(thousandths).padStart(3, '0')}`;
}

function attr(field: string, value: string): string {
  if (hasInvalidXmlChars(value)) throw new TypeError(`${field} contains characters not allowed in XML`);
  return escapeXmlAttr(value);
}

function langAttr(lang: string | undefined): string {
  if (lang === undefined) return '';
  if (!/^[A-Za-z0-9-]*$/.test(lang)) throw new TypeError(`invalid xml:lang ${JSON.stringify(lang)}`);
  return ` xml:lang="${lang}"`;
}

function buildNotes(prefix: string, notes: readonly LangText[] | undefined): string {
  let out = '';
  for (const n of notes ?? []) out += `<${prefix}note${langAttr(n.lang)}>${xmlTextFor('note', n.text)}</${prefix}note>`;
  return out;
}

function checkUserInput(v: UserInput | undefined): void {
  if (v !== undefined && v !== 'active' && v !== 'idle') throw new TypeError(`invalid user-input ${JSON.stringify(v)}`);
}

function buildTuple(t: PresenceTuple): { xml: string; dm: boolean; rpid: boolean } {
  if (typeof t.id !== 'string' || !isNcName(t.id)) throw new TypeError(`tuple id ${JSON.stringify(t.id)} is not an xs:ID (NCName)`);
  if (t.basic !== 'open' && t.basic !== 'closed') throw new TypeError(`invalid basic status ${JSON.stringify(t.basic)}`);
  if (t.show !== undefined && !SHOW_SET.has(t.show)) throw new TypeError(`invalid show ${JSON.stringify(t.show)}`);
  checkUserInput(t.userInput);
  let status = `<basic>${t.basic}</basic>`;
  if (t.show !== undefined) status += `<show xmlns="${JABBER_CLIENT_NS}">${t.show}</show>`;
  if (t.im !== undefined) status += `<im:im xmlns:im="${PIDF_IM_NS}">${xmlTextFor('im', t.im)}</im:im>`;
  let xml = `<tuple id="${t.id}"><status>${status}</status>`;
  if (t.deviceId !== undefined) xml += `<dm:deviceID>${xmlTextFor('deviceId', t.deviceId)}</dm:deviceID>`;
  if (t.userInput !== undefined) xml += `<rpid:user-input>${t.userInput}</rpid:user-input>`;
  if (t.contact !== undefined) {
    const priority = t.contact.priority === undefined ? '' : ` priority="${formatPidfPriority(t.contact.priority)}"`;
    xml += `<contact${priority}>${xmlTextFor('contact', t.contact.uri)}</contact>`;
  }
  xml += buildNotes('', t.notes);
  if (t.timestamp !== undefined) xml += `<timestamp>${formatRfc3339(t.timestamp)}</timestamp>`;
  xml += '</tuple>';
  return { xml, dm: t.deviceId !== undefined, rpid: t.userInput !== undefined };
}

function buildPerson(p: PresencePerson, id: string): string {
  checkUserInput(p.userInput);
  let acts = '';
  for (const a of p.activities) {
    if (!ACTIVITY_SET.has(a)) throw new TypeError(`invalid RPID activity ${JSON.stringify(a)}`);
    acts += `<rpid:${a}/>`;
  }
  for (const o of p.otherActivities ?? []) acts += `<rpid:other>${xmlTextFor('other activity', o)}</rpid:other>`;
  let xml = `<dm:person id="${id}">`;
  if (acts !== '') xml += `<rpid:activities>${acts}</rpid:activities>`;
  if (p.userInput !== undefined) xml += `<rpid:user-input>${p.userInput}</rpid:user-input>`;
  xml += buildNotes('dm:', p.notes);
  return `${xml}</dm:person>`;
}

/**
 * Builds an application/pidf+xml body (UTF-8, with the XML declaration RFC
 * 3863 §4.1 requires). Namespaces: PIDF is the default namespace; `dm` and
 * `rpid` are declared on the root only when used; jabber:client and pidf:im
 * are declared on the element that uses them. Throws a TypeError on invalid
 * input (empty entity, a tuple id that is not an NCName, duplicate tuple ids,
 * a priority outside [0, 1], characters XML cannot carry, …).
 */
export function buildPidf(doc: PresenceDoc): string {
  if (typeof doc.entity !== 'string' || xmlTrim(doc.entity) === '') throw new TypeError('PIDF entity must be a non-empty URI');
  const ids = new Set<string>();
  let body = '';
  let dm = false;
  let rpid = false;
  for (const t of doc.tuples) {
    if (ids.has(t.id)) throw new TypeError(`duplicate tuple id ${JSON.stringify(t.id)}`);
    ids.add(t.id);
    const built = buildTuple(t);
    body += built.xml;
    dm ||= built.dm;
    rpid ||= built.rpid;
  }
  body += buildNotes('', doc.notes);
  if (doc.person !== undefined) {
    let n = 1;
    while (ids.has(`p${n}`)) n += 1;
    body += buildPerson(doc.person, `p${n}`);
    dm = true;
    rpid ||= doc.person.activities.length > 0 || (doc.person.otherActivities ?? []).length > 0 || doc.person.userInput !== undefined;
  }
  const decls = `xmlns="${PIDF_NS}"${dm ? ` xmlns:dm="${PIDF_DM_NS}"` : ''}${rpid ? ` xmlns:rpid="${RPID_NS}"` : ''}`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence ${decls} entity="${attr('entity', doc.entity)}">${body}</presence>`;
}
