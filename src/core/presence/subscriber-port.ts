// The presence subscriber port (RFC 8048 §5.2): what the presence service asks
// the SIP side for when the gateway subscribes to a SIP contact, and what it
// is told. Protocol-neutral apart from SIP statuses; sip/presence-uac
// implements it.
import type { PresenceDoc } from './model.js';

/**
 * Longest subscription the adapter accepts, in seconds: its timers must fit
 * a Node.js timeout (2^31-1 ms). RFC 3856 §6.4 suggests 3600.
 */
export const MAX_EXPIRES = 2_147_483;

export interface SubscribeRequest {
  /** Request-URI and To: the SIP contact's AOR (sip: or sips:). */
  targetUri: string;
  /** From: the XMPP user's SIP URI; may carry ;gr= (RFC 7247 §6.3). */
  fromUri: string;
  /** Requested duration in seconds, 1..MAX_EXPIRES (RFC 6665 §4.1.2.1). */
  expires: number;
  /** Contact URI (e.g. the user's GRUU, RFC 8048 Ex.2); drachtio-server adds its own when absent (A.7). */
  contact?: string;
  /** Outbound proxy URI (drachtio `sip|||<proxy>`, A.7). */
  proxy?: string;
}

/** RFC 6665 §4.1.3 states; see SubscriptionEvent 'notify' for extension substates. */
export type SubscriptionState = 'pending' | 'active' | 'terminated';

export type EndReason =
  /** The notifier ended it: a NOTIFY with Subscription-State terminated, or a 481 to a refresh. */
  | 'terminated'
  /** expiresAt passed without a successful refresh (RFC 6665 §4.1.2.2). */
  | 'expired'
  /** The drachtio connection dropped: dialogs do not survive it on the app side (A.4). */
  | 'connection-lost'
  /** unsubscribe() finished: the notifier's terminating NOTIFY, a failed unsubscribe, or the grace time passed. */
  | 'unsubscribed';

export type SubscriptionEvent =
  | {
    kind: 'notify';
    /**
     * The state after this NOTIFY. An extension substate RFC 6665 does not
     * define keeps the previous state ('pending' before any), see `substate`.
     */
    state: SubscriptionState;
    /** The Subscription-State value as received, lower-cased (differs from `state` for extensions). */
    substate: string;
    /** Seconds left (the NOTIFY's expires, never beyond what was asked); pending and active only. */
    expires?: number;
    /** terminated: the reason parameter (RFC 6665 §4.1.3), lower-cased. */
    reason?: string;
    retryAfter?: number;
    /** The parsed PIDF body; absent for a NOTIFY without a body (RFC 8048 §5.2.1 reads that as unknown/closed). */
    doc?: PresenceDoc;
    /** Content-Language (RFC 8048 Tables 1 and 2), also set as doc.lang. */
    lang?: string;
  }
  /**
   * A NOTIFY the adapter refused (400 malformed PIDF or Subscription-State,
   * 415 another body type, 481 another event id, 489 not presence). The
   * adapter does not log: the caller does. RFC 6665 §4.2.2 lets the notifier
   * drop the subscription after a failed NOTIFY.
   */
  | { kind: 'refused-notify'; status: number; why: string }
  | { kind: 'ended'; why: EndReason };

export type SubscribeOutcome =
  | {
    kind: 'accepted';
    subscription: Subscription;
    /** Granted seconds: the 2xx Expires, never longer than asked (RFC 6665 §4.1.2.1). */
    expires: number;
  }
  | { kind: 'rejected'; status: number; reason: string; minExpires?: number; retryAfter?: number }
  /** No final response in time, or a 408 (drachtio-server's own after Timer F, A.7). */
  | { kind: 'timeout' }
  | { kind: 'unavailable'; why: string };

export type RefreshOutcome =
  | { kind: 'refreshed'; expires: number }
  /** The subscription stays valid until expiresAt (RFC 6665 §4.1.2.2). */
  | { kind: 'rejected'; status: number; reason: string; minExpires?: number; retryAfter?: number }
  /** 481, or the subscription had already ended: an 'ended' event says why. */
  | { kind: 'ended' }
  | { kind: 'timeout' }
  | { kind: 'unavailable'; why: string };

export type FetchOutcome =
  | {
    kind: 'doc';
    /** The first NOTIFY's body; absent when it had none or it was refused (then `invalid` says why). */
    doc?: PresenceDoc;
    lang?: string;
    state?: SubscriptionState;
    invalid?: string;
  }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'unavailable'; why: string };

/** One live SUBSCRIBE dialog (RFC 6665 §4.1.2), owned by the PresenceSubscriber. */
export interface Subscription {
  /** drachtio dialog id: `<Call-ID>;from-tag=<local tag>` (A.12). */
  readonly dialogId: string;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string | undefined;
  /** Epoch ms at which the subscription lapses unless refreshed. */
  readonly expiresAt: number;
  /** Latest known state; 'pending' until a NOTIFY says otherwise (RFC 3856 §6.7 "neutral"). */
  readonly state: SubscriptionState;
  readonly ended: boolean;
  /** In-dialog SUBSCRIBE with a new Expires (RFC 6665 §4.1.2.2); a 423 is retried once with Min-Expires. */
  refresh(expires: number): Promise<RefreshOutcome>;
  /**
   * In-dialog SUBSCRIBE Expires: 0 (RFC 8048 §5.2.3, RFC 6665 §4.1.2.3).
   * Resolves when the SUBSCRIBE is answered (or failed); the notifier's
   * terminated NOTIFY then ends the subscription with 'unsubscribed'.
   */
  unsubscribe(): Promise<void>;
}
