// <message/> stanzas ⇄ the neutral XmppMessage of core/im. Only the parts the
// gateway maps are read; everything else in a stanza is ignored, not copied.
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import parse from '@xmpp/xml/lib/parse.js';
import type { ChatState, XmppMessage } from '../core/im/model.js';
import type { StanzaErrorSpec } from '../core/errors.js';
import { NS_STANZAS, translatedErrorReply, xmlSafe } from './stanza.js';

export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
export const NS_RECEIPTS = 'urn:xmpp:receipts';
export const NS_MARKERS = 'urn:xmpp:chat-markers:0';
export const NS_DELAY = 'urn:xmpp:delay';
export const NS_XHTML_IM = 'http://jabber.org/protocol/xhtml-im';

const TYPES = new Set(['normal', 'chat', 'groupchat', 'headline', 'error']);
const CHAT_STATES = new Set<ChatState>(['active', 'composing', 'paused', 'inactive', 'gone']);

/** The text of the child to use: the one without xml:lang, or the one in the stanza's language, or the first. */
function pickText(stanza: Element, name: string, lang: string | undefined): string | undefined {
  const children = stanza.getChildren(name).filter((c) => !c.attrs.xmlns || c.attrs.xmlns === 'jabber:client' || c.attrs.xmlns === 'jabber:component:accept');
  if (children.length === 0) return undefined;
  const chosen = children.find((c) => c.attrs['xml:lang'] === undefined)
    ?? children.find((c) => c.attrs['xml:lang'] === lang)
    ?? children[0]!;
  return chosen.getText();
}

export function readMessage(stanza: Element): XmppMessage {
  const rawType = (stanza.attrs.type as string | undefined) ?? 'normal';
  // RFC 6121 §5.2.2: an unknown type is treated as normal.
  const type = (TYPES.has(rawType) ? rawType : 'normal') as XmppMessage['type'];
  const lang = stanza.attrs['xml:lang'] as string | undefined;
  const msg: XmppMessage = { from: stanza.attrs.from as string, to: stanza.attrs.to as string, type };
  if (stanza.attrs.id) msg.id = String(stanza.attrs.id);
  if (lang) msg.lang = lang;
  const body = pickText(stanza, 'body', lang);
  if (body !== undefined) msg.body = body;
  const subject = pickText(stanza, 'subject', lang);
  if (subject !== undefined) msg.subject = subject;
  const thread = stanza.getChildText('thread');
  if (thread) msg.thread = thread;
  const state = stanza.getChildElements().find((c) => c.attrs.xmlns === NS_CHATSTATES && CHAT_STATES.has(c.name as ChatState));
  if (state) msg.chatState = state.name as ChatState;
  // XEP-0184 §5.4: never a request inside an ack; a request needs an id.
  const received = stanza.getChild('received', NS_RECEIPTS);
  if (received?.attrs.id) msg.receivedId = String(received.attrs.id);
  else if (stanza.getChild('request', NS_RECEIPTS)) msg.receiptRequest = true;
  if (stanza.getChild('markable', NS_MARKERS)) msg.markable = true;
  const displayed = stanza.getChild('displayed', NS_MARKERS);
  if (displayed?.attrs.id) msg.displayedId = String(displayed.attrs.id);
  return msg;
}

export function buildMessage(msg: XmppMessage): Element {
  const attrs: Record<string, string> = { from: msg.from, to: msg.to };
  if (msg.id !== undefined) attrs.id = msg.id;
  // RFC 7572 §5: the gateway MUST send no type or type normal; other types as given.
  if (msg.type !== 'normal') attrs.type = msg.type;
  if (msg.lang !== undefined) attrs['xml:lang'] = msg.lang;
  const el = xml('message', attrs);
  if (msg.subject !== undefined) el.append(xml('subject', {}, xmlSafe(msg.subject)));
  if (msg.body !== undefined) el.append(xml('body', {}, xmlSafe(msg.body)));
  if (msg.xhtml !== undefined) {
    try {
      el.append(parse(msg.xhtml));
    } catch {
      // The XHTML comes from our own sanitiser; if it does not parse, the
      // plain body alone still carries the message.
    }
  }
  if (msg.thread !== undefined) el.append(xml('thread', {}, xmlSafe(msg.thread)));
  if (msg.chatState !== undefined) el.append(xml(msg.chatState, { xmlns: NS_CHATSTATES }));
  if (msg.receiptRequest) el.append(xml('request', { xmlns: NS_RECEIPTS }));
  if (msg.markable) el.append(xml('markable', { xmlns: NS_MARKERS }));
  if (msg.receivedId !== undefined) el.append(xml('received', { xmlns: NS_RECEIPTS, id: msg.receivedId }));
  if (msg.displayedId !== undefined) el.append(xml('displayed', { xmlns: NS_MARKERS, id: msg.displayedId }));
  // XEP-0203: the original send time, from CPIM DateTime.
  if (msg.sentAt !== undefined) el.append(xml('delay', { xmlns: NS_DELAY, stamp: msg.sentAt.toISOString() }));
  return el;
}

/** The error reply to a message (RFC 6120 §8.3): addresses swapped, same id. */
export function buildMessageError(original: XmppMessage, err: StanzaErrorSpec): Element {
  return translatedErrorReply('message', original, err, original.body !== undefined ? [xml('body', {}, original.body)] : []);
}

/** Reads the condition and text of an error stanza. */
export function readStanzaError(stanza: Element): { condition: string; text?: string } {
  const error = stanza.getChild('error');
  const cond = error?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  const text = error?.getChildText('text', NS_STANZAS) ?? undefined;
  return { condition: cond?.name ?? 'undefined-condition', ...(text ? { text } : {}) };
}
