// Protocol-neutral shapes of a one-to-one message as the IM translators see
// it. The XMPP adapter turns stanzas into these and back; the SIP adapter
// does the same with MESSAGE requests and their bodies.

/** XEP-0085 chat states. */
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';

/** What a message carries, whichever protocol it came from. */
export interface ImContent {
  body?: string;
  /** XHTML-IM payload (serialised <html xmlns='http://jabber.org/protocol/xhtml-im'>), S->X only. */
  xhtml?: string;
  subject?: string;
  /** XMPP <thread/> ⇄ SIP Call-ID (RFC 7572 Tables 1 and 2). */
  thread?: string;
  /** xml:lang ⇄ Content-Language (RFC 7572 §8). */
  lang?: string;
  chatState?: ChatState;
  /** XEP-0184 <request/> ⇄ IMDN positive-delivery request. */
  receiptRequest?: boolean;
  /** XEP-0333 <markable/> ⇄ IMDN display request. */
  markable?: boolean;
  /** XEP-0184 <received id/>: the id of the message being acknowledged. */
  receivedId?: string;
  /** XEP-0333 <displayed id/>. */
  displayedId?: string;
  /** Original send time (CPIM DateTime ⇄ XEP-0203 delay). */
  sentAt?: Date;
}

/** An XMPP message stanza, reduced to what the gateway maps. */
export interface XmppMessage extends ImContent {
  id?: string;
  from: string;
  to: string;
  type: 'normal' | 'chat' | 'groupchat' | 'headline' | 'error';
}

/** The payload of an outgoing SIP MESSAGE, before the SIP adapter encodes it. */
export type SipPayload =
  | { kind: 'text'; text: string; imdn?: { messageId: string; notify: Array<'positive-delivery' | 'display'>; dateTime: Date } }
  | { kind: 'iscomposing'; state: 'active' | 'idle'; refresh?: number }
  /** An IMDN about a SIP message: messageId and dateTime are the original's, recipientUri is the XMPP user's SIP AOR. */
  | { kind: 'imdn'; notification: 'delivery' | 'display'; messageId: string; status: 'delivered' | 'displayed'; dateTime: Date; recipientUri: string };

export interface SipMessageOut {
  requestUri: string;
  /** The sender's SIP URI; carries ;gr=<resource> (RFC 7572 §4 note 1). */
  fromUri: string;
  toUri: string;
  callId?: string;
  subject?: string;
  lang?: string;
  payload: SipPayload;
}

/** A received SIP MESSAGE, its body already decoded by the SIP adapter. */
export interface SipMessageIn {
  requestUri: string;
  fromUri: string;
  fromDisplay?: string;
  toUri: string;
  callId: string;
  subject?: string;
  lang?: string;
  content:
    | { kind: 'text'; text: string; xhtml?: string; cpim?: CpimEnvelope }
    | { kind: 'iscomposing'; state: 'active' | 'idle'; refresh?: number; cpim?: CpimEnvelope }
    | { kind: 'imdn'; notification: 'delivery' | 'display' | 'processing'; status: string; messageId: string; cpim?: CpimEnvelope };
}

/** The RFC 3862 envelope of a message/cpim body: who really sent it, when, and its IMDN headers. */
export interface CpimEnvelope {
  fromUri?: string;
  toUris: string[];
  dateTime?: Date;
  subject?: string;
  imdn?: { messageId?: string; notify: string[] };
}
