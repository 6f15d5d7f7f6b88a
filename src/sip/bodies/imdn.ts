/**
 * message/imdn+xml (RFC 5438 §11).
 *
 *   <imdn xmlns="urn:ietf:params:xml:ns:imdn">
 *     <message-id>…</message-id>                 mandatory
 *     <datetime>…</datetime>                     mandatory (§11.1.2); schema type: string
 *     <recipient-uri>…</recipient-uri>           optional
 *     <original-recipient-uri>…</original-recipient-uri>  optional
 *     <subject>…</subject>                       optional
 *     <delivery-notification>|<display-notification>|<processing-notification>
 *       <status><delivered/>|<failed/>|<displayed/>|<processed/>|<stored/>|<forbidden/>|<error/></status>
 *     </…>
 *   </imdn>
 *
 * Parsing: message-id and exactly one notification element with one valid
 * status are required. A missing or non-RFC 3339 <datetime> is tolerated:
 * `dateTime` is left out and the raw text is kept in `dateTimeText`.
 * Elements from other namespaces (extensions) are ignored.
 */
import { formatRfc3339, parseRfc3339 } from './datetime.js';
import { type Result, describe, fail, ok } from './result.js';
import { type XmlElement, type XmlLimits, child, parseXml, xmlTextFor } from './xml.js';

export const IMDN_XML_NS = 'urn:ietf:params:xml:ns:imdn';
export const IMDN_CONTENT_TYPE = 'message/imdn+xml';

export type ImdnKind = 'delivery' | 'display' | 'processing';
export type ImdnStatus = 'delivered' | 'failed' | 'displayed' | 'processed' | 'stored' | 'forbidden' | 'error';

/** Statuses allowed per notification kind (RFC 5438 §11.1.7). */
export const IMDN_STATUSES: Readonly<Record<ImdnKind, readonly ImdnStatus[]>> = {
  delivery: ['delivered', 'failed', 'forbidden', 'error'],
  display: ['displayed', 'forbidden', 'error'],
  processing: ['processed', 'stored', 'forbidden', 'error'],
};

export interface Imdn {
  messageId: string;
  dateTime?: Date;
  /** Raw <datetime> text (for echoing it unchanged). */
  dateTimeText?: string;
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  kind: ImdnKind;
  status: ImdnStatus;
}

const KINDS: ReadonlyArray<[string, ImdnKind]> = [
  ['delivery-notification', 'delivery'],
  ['display-notification', 'display'],
  ['processing-notification', 'processing'],
];

function textOf(root: XmlElement, name: string): string | undefined {
  const t = child(root, IMDN_XML_NS, name)?.text.trim();
  return t === undefined || t === '' ? undefined : t;
}

/** Parses an IMDN document. Never throws. */
export function parseImdn(xml: string | Uint8Array, limits?: XmlLimits): Result<Imdn> {
  try {
    const doc = parseXml(xml, limits);
    if (!doc.ok) return doc;
    const root = doc.value;
    if (root.name !== 'imdn' || root.ns !== IMDN_XML_NS) return fail(`IMDN: unexpected root element {${root.ns}}${root.name}`);

    // xs:token: surrounding whitespace dropped, inner runs collapsed.
    const messageId = textOf(root, 'message-id')?.replace(/\s+/g, ' ');
    if (!messageId) return fail('IMDN: missing <message-id>');

    const notes = root.children.filter((c) => c.ns === IMDN_XML_NS && KINDS.some(([n]) => n === c.name));
    const note = notes[0];
    if (!note) return fail('IMDN: no delivery, display or processing notification');
    if (notes.length > 1) return fail('IMDN: more than one notification element');
    const kind = KINDS.find(([n]) => n === note.name)?.[1] ?? 'delivery';

    const status = child(note, IMDN_XML_NS, 'status');
    if (!status) return fail('IMDN: missing <status>');
    const values = status.children.filter((c) => c.ns === IMDN_XML_NS);
    const value = values[0];
    if (!value || values.length > 1) return fail('IMDN: <status> must hold exactly one status element');
    const allowed = IMDN_STATUSES[kind];
    const st = allowed.find((a) => a === value.name);
    if (!st) return fail(`IMDN: status <${value.name}> is not valid in a ${kind} notification`);

    const out: Imdn = { messageId, kind, status: st };
    const dt = textOf(root, 'datetime');
    if (dt !== undefined) {
      out.dateTimeText = dt;
      const d = parseRfc3339(dt);
      if (d) out.dateTime = d;
    }
    const recipientUri = textOf(root, 'recipient-uri');
    if (recipientUri !== undefined) out.recipientUri = recipientUri;
    const originalRecipientUri = textOf(root, 'original-recipient-uri');
    if (originalRecipientUri !== undefined) out.originalRecipientUri = originalRecipientUri;
    const subject = child(root, IMDN_XML_NS, 'subject')?.text;
    if (subject) out.subject = subject;
    return ok(out);
  } catch (e) {
    return fail(`IMDN: ${describe(e)}`);
  }
}

export interface ImdnInput {
  messageId: string;
  /** DateTime of the original IM (RFC 5438 §11.1.2), a Date or its raw text. */
  dateTime: Date | string;
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  kind: ImdnKind;
  status: ImdnStatus;
}

/**
 * Builds an IMDN document. Throws a TypeError on invalid input.
 *
 * The RelaxNG schema (§11.1.9) has <recipient-uri> and <original-recipient-uri>
 * inside one <optional>, so either both are present or neither is. When only
 * recipientUri is given, original-recipient-uri repeats it (the recipient was
 * not rewritten), as in the RFC examples. originalRecipientUri without
 * recipientUri, and subject without recipientUri, are refused.
 */
export function buildImdn(msg: ImdnInput): string {
  if (!IMDN_STATUSES[msg.kind]?.includes(msg.status)) {
    throw new TypeError(`status ${JSON.stringify(msg.status)} is not valid in a ${String(msg.kind)} notification`);
  }
  if (typeof msg.messageId !== 'string' || !/^\S+(?: \S+)*$/.test(msg.messageId)) throw new TypeError('invalid messageId');
  const dateTime = typeof msg.dateTime === 'string' ? msg.dateTime : formatRfc3339(msg.dateTime);
  if (msg.recipientUri === undefined && (msg.originalRecipientUri !== undefined || msg.subject !== undefined)) {
    throw new TypeError('originalRecipientUri and subject need recipientUri (RFC 5438 schema)');
  }
  let body = `<message-id>${xmlTextFor('messageId', msg.messageId)}</message-id>`;
  body += `<datetime>${xmlTextFor('dateTime', dateTime)}</datetime>`;
  if (msg.recipientUri !== undefined) {
    body += `<recipient-uri>${xmlTextFor('recipientUri', msg.recipientUri)}</recipient-uri>`;
    body += `<original-recipient-uri>${xmlTextFor('originalRecipientUri', msg.originalRecipientUri ?? msg.recipientUri)}</original-recipient-uri>`;
    if (msg.subject !== undefined) body += `<subject>${xmlTextFor('subject', msg.subject)}</subject>`;
  }
  const el = `${msg.kind}-notification`;
  body += `<${el}><status><${msg.status}/></status></${el}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<imdn xmlns="${IMDN_XML_NS}">${body}</imdn>`;
}
