// XMPP -> SIP pager mode (RFC 7572 §4): what to do with one message stanza.
// Pure: decides, does no I/O. The IM service carries the decision out.
import type { AddressMapper } from '../address.js';
import { errorTypeFor, type StanzaErrorSpec, type XmppCondition } from '../errors.js';
import { COMPOSING_REFRESH_S } from './composing.js';
import type { SipMessageOut, SipPayload, XmppMessage } from './model.js';

export type X2sDecision =
  | { kind: 'send'; out: SipMessageOut }
  | { kind: 'error'; error: StanzaErrorSpec }
  | { kind: 'drop'; reason: string };

/** An IMDN the gateway owes: the SIP message a <received/> or <displayed/> acknowledges. */
export interface InboundImdnRequest {
  /** imdn.Message-ID of the SIP message. */
  messageId: string;
  /** The SIP URI that asked for the notification (the original sender). */
  senderUri: string;
  notify: string[];
  /** DateTime of the original message; the IMDN repeats it (RFC 5438 §7.2.1.1). */
  dateTime?: Date;
}

export interface X2sContext {
  addresses: AddressMapper;
  /** The resource S->X gives senders without a GRUU; it names no SIP device, so it maps back to the AOR. */
  defaultResource: string;
  now(): Date;
  newMessageId(): string;
  /** Looks up the IMDN request behind a stanza id the gateway delivered from SIP. */
  inboundImdn(stanzaId: string): InboundImdnRequest | undefined;
}

// RFC 3261 §25.1: Call-ID = word [ "@" word ]; word = 1*(alphanum / ...).
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

/** Whether a <thread/> can be carried as a Call-ID (RFC 7572 §4, RFC 7573 §4). */
export function isCallId(thread: string): boolean {
  return thread.length <= 200 && CALL_ID.test(thread);
}

function fail(condition: XmppCondition, text: string): X2sDecision {
  return { kind: 'error', error: { condition, type: errorTypeFor(condition), text } };
}

export function decideX2s(msg: XmppMessage, ctx: X2sContext): X2sDecision {
  // RFC 6120 §8.3.1: an error is never answered, nor turned into a MESSAGE.
  if (msg.type === 'error') return { kind: 'drop', reason: 'error stanza' };
  // RFC 7702 §5.5: groupchat belongs to a room; outside one there is no mapping.
  if (msg.type === 'groupchat') return fail('not-acceptable', 'groupchat messages need a room');

  const from = ctx.addresses.xmppUserToSip(msg.from);
  if (!from.ok) {
    return from.error.kind === 'domain-not-allowed'
      ? fail('not-allowed', 'your domain may not use this gateway')
      : fail('jid-malformed', 'the sender address cannot be mapped to SIP');
  }
  const to = ctx.addresses.jidToSipUser(msg.to);
  if (!to.ok) return fail(to.error.xmppCondition, to.error.message);

  const payload = choosePayload(msg, ctx, from.value.aor);
  if (payload === undefined) return { kind: 'drop', reason: 'nothing to translate' };
  if ('error' in payload) return fail(payload.error, payload.text);

  // Only a resource that came from a public GRUU names a SIP device (RFC 7247 §6.3).
  const target = to.value.gr !== undefined && msg.to.endsWith(`/${ctx.defaultResource}`) ? to.value.aor : to.value.uri;
  const out: SipMessageOut = {
    requestUri: target,
    // RFC 7572 §4 note 1: bare JID to From, the resource as the GRUU's gr.
    fromUri: from.value.uri,
    toUri: to.value.aor,
    payload,
  };
  // RFC 7572 Table 1: <thread/> -> Call-ID; a thread that is not a valid
  // Call-ID cannot be carried and is left out rather than mangled.
  if (msg.thread !== undefined && isCallId(msg.thread)) out.callId = msg.thread;
  if (msg.subject !== undefined) out.subject = msg.subject;
  if (msg.lang !== undefined) out.lang = msg.lang;
  return { kind: 'send', out };
}

function choosePayload(msg: XmppMessage, ctx: X2sContext, senderAor: string): SipPayload | { error: XmppCondition; text: string } | undefined {
  if (msg.body !== undefined) {
    const notify: Array<'positive-delivery' | 'display'> = [];
    // XEP-0184 §7: a receipt needs the message id to echo.
    if (msg.receiptRequest && msg.id) notify.push('positive-delivery');
    if (msg.markable && msg.id) notify.push('display');
    if (notify.length === 0) return { kind: 'text', text: msg.body };
    // RFC 5438 §7.1.1: the request travels in CPIM with a Message-ID and DateTime.
    return { kind: 'text', text: msg.body, imdn: { messageId: ctx.newMessageId(), notify, dateTime: ctx.now() } };
  }
  if (msg.receivedId !== undefined || msg.displayedId !== undefined) {
    const display = msg.receivedId === undefined;
    const ackedId = (msg.receivedId ?? msg.displayedId)!;
    const request = ctx.inboundImdn(ackedId);
    const wanted = display ? 'display' : 'positive-delivery';
    // Only SIP senders that asked for this notification get one (RFC 5438 §7.2).
    if (!request || !request.notify.includes(wanted)) return undefined;
    return {
      kind: 'imdn',
      notification: display ? 'display' : 'delivery',
      messageId: request.messageId,
      status: display ? 'displayed' : 'delivered',
      dateTime: request.dateTime ?? ctx.now(),
      // RFC 5438 §7.2.1.1: the recipient of the original message, i.e. this XMPP user.
      recipientUri: senderAor,
    };
  }
  switch (msg.chatState) {
    // RFC 7573 §6 Table 4 (suggested): composing -> active; paused, active, inactive -> idle; gone -> none.
    case 'composing':
      return { kind: 'iscomposing', state: 'active', refresh: COMPOSING_REFRESH_S };
    case 'paused':
    case 'active':
    case 'inactive':
      return { kind: 'iscomposing', state: 'idle' };
    default:
      return undefined;
  }
}
