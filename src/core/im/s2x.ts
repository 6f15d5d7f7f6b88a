// SIP -> XMPP pager mode (RFC 7572 §5): what to do with one MESSAGE.
// Pure: decides, does no I/O. The IM service carries the decision out.
import type { AddressMapper } from '../address.js';
import type { SipMessageIn, XmppMessage } from './model.js';

export interface SipReject {
  kind: 'reject';
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

export type S2xDecision =
  | {
      kind: 'deliver';
      stanza: XmppMessage;
      /** The stanza goes to a full JID (the Request-URI carried a GRUU); errors then map to 4xx, else 6xx (RFC 7247 §7.1). */
      toFullJid: boolean;
      /** The sender asked for IMDN notifications (RFC 5438): remembered so <received/>/<displayed/> can answer. */
      imdn?: { messageId: string; senderUri: string; notify: string[]; dateTime?: Date };
    }
  | SipReject
  /** Accepted, but nothing reaches XMPP (e.g. a notification about a message the gateway no longer knows). */
  | { kind: 'absorb'; reason: string };

/** What the gateway sent to SIP on behalf of an XMPP user, found again by imdn.Message-ID. */
export interface OutboundImdnRecord {
  stanzaId: string;
  xmppSender: string;
}

export interface S2xContext {
  addresses: AddressMapper;
  /** Resource for a sender without a public GRUU: stable, never random per message. */
  defaultResource: string;
  newStanzaId(): string;
  outboundImdn(messageId: string): OutboundImdnRecord | undefined;
}

function reject(status: number, reason: string): SipReject {
  return { kind: 'reject', status, reason };
}

export function decideS2x(msg: SipMessageIn, ctx: S2xContext): S2xDecision {
  // Target: an XMPP user, from the Request-URI (RFC 7572 Table 2). sips: is
  // never translated (RFC 7247 §8).
  const target = ctx.addresses.sipToXmppUser(msg.requestUri);
  if (!target.ok) return reject(target.error.sipStatus, target.error.message);

  // Sender: the CPIM From when the body carries one (RFC 3862 §3.3: the
  // original sender), else the SIP From.
  const senderUri = msg.content.cpim?.fromUri ?? msg.fromUri;
  const sender = ctx.addresses.sipUserToJid(senderUri);
  if (!sender.ok) {
    return sender.error.kind === 'not-a-user'
      ? reject(403, 'Sender is not a SIP user of this gateway')
      : reject(sender.error.sipStatus, sender.error.message);
  }
  // RFC 7572 §5 note 1: a known GRUU gives the full JID; otherwise a stable
  // resource, so replies and receipts keep working across messages.
  const from = sender.value.resource ? sender.value.full : `${sender.value.bare}/${ctx.defaultResource}`;
  const to = target.value.full;
  const toFullJid = target.value.resource !== undefined;
  const base = { id: ctx.newStanzaId(), from, to };

  const c = msg.content;
  if (c.kind === 'imdn') {
    const record = ctx.outboundImdn(c.messageId);
    if (!record) return { kind: 'absorb', reason: `notification for unknown message ${c.messageId}` };
    if (c.notification === 'delivery' && c.status === 'delivered') {
      return { kind: 'deliver', stanza: { ...base, to: record.xmppSender, type: 'chat', receivedId: record.stanzaId }, toFullJid: true };
    }
    if (c.notification === 'display' && c.status === 'displayed') {
      return { kind: 'deliver', stanza: { ...base, to: record.xmppSender, type: 'chat', displayedId: record.stanzaId }, toFullJid: true };
    }
    return { kind: 'absorb', reason: `${c.notification} notification with status ${c.status} has no XMPP equivalent` };
  }
  if (c.kind === 'iscomposing') {
    // RFC 7573 §6 Table 3 (suggested): active -> <composing/>, idle -> <active/>.
    // XEP-0085 §5.4: chat states go with type chat.
    return { kind: 'deliver', stanza: { ...base, to, type: 'chat', chatState: c.state === 'active' ? 'composing' : 'active', thread: msg.callId }, toFullJid };
  }

  // RFC 7572 §5: no type, or type normal.
  const stanza: XmppMessage = { ...base, type: 'normal', body: c.text, thread: msg.callId };
  if (c.xhtml !== undefined) stanza.xhtml = c.xhtml;
  const subject = msg.subject ?? c.cpim?.subject;
  if (subject !== undefined) stanza.subject = subject;
  if (msg.lang !== undefined) stanza.lang = msg.lang;
  if (c.cpim?.dateTime !== undefined) stanza.sentAt = c.cpim.dateTime;
  const notify = c.cpim?.imdn?.notify ?? [];
  const imdnId = c.cpim?.imdn?.messageId;
  if (imdnId !== undefined && notify.length > 0) {
    stanza.receiptRequest = notify.includes('positive-delivery');
    stanza.markable = notify.includes('display');
    const imdn = { messageId: imdnId, senderUri, notify, ...(c.cpim?.dateTime ? { dateTime: c.cpim.dateTime } : {}) };
    return { kind: 'deliver', stanza, toFullJid, imdn };
  }
  return { kind: 'deliver', stanza, toFullJid };
}
