// What the chat-session service (RFC 7573) needs from the SIP side (INVITE
// dialogs, sip/chat-invite.ts) and from the media side (MSRP sessions,
// msrp/chat-media.ts), in neutral terms: SDP and MSRP stay in the adapters.
import type { Logger } from '../../log/logger.js';
import type { Result } from '../result.js';

export type { Result } from '../result.js';

/** One INVITE dialog carrying a chat session. */
export interface ChatDialog {
  readonly callId: string;
  /** Ends the dialog with BYE; resolves when answered or failed, never rejects. */
  bye(): Promise<void>;
  /** Called once when the peer ends the dialog (BYE) or it dies with the connection. */
  onEnded(listener: () => void): void;
}

export type InviteOutcome =
  /** `contact`: the 2xx's Contact URI (a GRUU names the answering device, RFC 7573 Ex.7). */
  | { kind: 'answered'; sdp: string; dialog: ChatDialog; contact?: string }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'unavailable'; why: string };

export interface InviteRequest {
  /** Request-URI and To: the SIP user's AOR or GRUU. */
  targetUri: string;
  /** From: the XMPP user's SIP URI with ;gr=<resource> (RFC 7247 §6.3). */
  fromUri: string;
  /** Contact: the XMPP user's GRUU (RFC 7573 §4 Ex.2). */
  contact: string;
  /** RFC 7573 §4: the <thread/>, when it is a valid Call-ID. */
  callId?: string;
  subject?: string;
  sdp: string;
}

export interface ChatSipPort {
  invite(req: InviteRequest, log: Logger): Promise<InviteOutcome>;
}

/** A new INVITE from SIP, as the SIP adapter hands it over. */
export interface InviteOffer {
  /** The From URI (a `gr` parameter names the device). */
  fromUri: string;
  /** The Contact URI, for a GRUU when the From has none. */
  contactUri?: string;
  /** The Request-URI. */
  targetUri: string;
  callId: string;
  sdp: string;
}

export type InviteDecision =
  | {
    accept: true;
    sdp: string;
    /** The 200 went out and the dialog exists. */
    established(dialog: ChatDialog): void;
    /** The 200 could not be sent (CANCEL, link down): forget the session. */
    failed(why: string): void;
  }
  | { accept: false; status: number; reason: string; headers?: Record<string, string> };

/** The payloads a chat session carries (RFC 7573 §4-§7), in neutral form. */
export type ChatPayload =
  | { kind: 'text'; text: string }
  /** RFC 3994: active = composing, idle = not. */
  | { kind: 'composing'; active: boolean; refreshS?: number };

export interface MediaMessage {
  payload: ChatPayload;
  /** MSRP transaction id of the first chunk: the XMPP id (RFC 7573 §5, Ex.13→14). */
  tid: string;
  messageId: string;
  /** Success-Report: yes → a XEP-0184 request (RFC 7573 §7). */
  receiptRequested: boolean;
}

export interface MediaEvents {
  message(m: MediaMessage): void;
  /** A success REPORT for a message we sent (RFC 7573 §7 → <received/>). */
  delivered(messageId: string): void;
  /** The session failed or ended on the MSRP side. */
  closed(reason: string): void;
}

/** One MSRP session as the chat service uses it. */
export interface ChatMedia {
  /** Starts the MSRP session with the peer's SDP (offer or answer); resolves when it is usable. */
  connect(peerSdp: string, weOffered: boolean): Promise<Result<void>>;
  /** Sends a payload; returns the Message-ID. `tid` is the wanted transaction id (the XMPP id). */
  send(payload: ChatPayload, opts: { tid?: string; receipt?: boolean }): Result<string>;
  /** Sends the success REPORT owed for an inbound message (RFC 7573 §7). */
  reportDelivered(messageId: string): boolean;
  /** The peer's max-size (RFC 4975 §8.6), if it gave one. */
  readonly peerMaxBytes: number | undefined;
  close(reason: string): void;
}

export interface ChatMediaPort {
  /** A new session with our SDP for an offer (weOffer) or for the answer to `peerOffer`. */
  create(events: MediaEvents, peerOffer?: string): Result<{ media: ChatMedia; sdp: string }>;
  /** Whether an SDP offers an MSRP chat stream we can take; the reason when not. */
  check(sdp: string): Result<void>;
}
