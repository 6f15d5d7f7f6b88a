// The typed surface between the SIP presence notifier (the gateway as the
// notifier for a SIP watcher of an XMPP user, RFC 8048 §5.3) and the presence
// service that drives it. Protocol-neutral apart from SIP status codes, which
// the service chooses when it refuses a subscription.
import type { PresenceDoc } from './model.js';

/** A new SUBSCRIBE for presence, validated (RFC 6665 §4.2.1.1), for the service to decide on. */
export interface WatcherRequest {
  /** The watcher: the URI of the From header (its AOR; a `gr` inside <> is kept). */
  watcherUri: string;
  /** The presentity: the Request-URI. */
  targetUri: string;
  /** Granted duration in seconds, after clamping to [minExpires, maxExpires]; 0 for a fetch. */
  expires: number;
  /** Expires: 0 outside a dialog: a one-shot fetch (RFC 6665 §4.4.3), answered with one terminating NOTIFY. */
  isFetch: boolean;
  callId: string;
  /** First language the watcher prefers (Accept-Language), for notes. */
  lang?: string;
}

export type SubscriptionState = 'pending' | 'active';

/**
 * The service's answer. Accepting sends the 2xx at once and then the first
 * NOTIFY immediately, as RFC 6665 §4.2.1.1 and §4.2.2 require: `pending`
 * (the default: authorization still to come, RFC 8048 §5.3.1) or `active`,
 * with `doc` as its body when there is meaningful state (RFC 8048 §5.3.2).
 * `expires` may only shorten the interval (RFC 6665 §4.2.1.1). For a fetch
 * only the accept/refuse part counts; the body comes from `onFetch`.
 * Refusing sends `status` (300..699) with `reason` and `headers`.
 */
export type WatcherDecision =
  | { accept: true; expires?: number; state?: SubscriptionState; doc?: PresenceDoc; lang?: string }
  | { accept: false; status: number; reason: string; headers?: Record<string, string> };

/** Subscription-State: terminated reasons the notifier may send (RFC 6665 §4.1.3). */
export type TerminationReason = 'rejected' | 'timeout' | 'noresource' | 'deactivated' | 'giveup';

/** 'gone': the watcher no longer exists (the NOTIFY failed or the watcher was ended); stop using it. */
export type NotifyOutcome = 'ok' | 'gone';

/** Why a watcher disappeared without a terminating NOTIFY of the service's making. */
export type GoneReason = 'notify-failed' | 'link-down';

/** One accepted subscription (one SUBSCRIBE dialog), as the service holds it. */
export interface Watcher {
  readonly dialogId: string;
  readonly watcherUri: string;
  readonly targetUri: string;
  readonly callId: string;
  /** Our To tag and the watcher's From tag (RFC 3261 §12). */
  readonly localTag: string;
  readonly remoteTag: string;
  /** Remote target of the dialog: the watcher's Contact URI, where NOTIFYs go. */
  readonly contactUri: string;
  /** Epoch milliseconds at which the subscription expires unless refreshed. */
  readonly expiresAt: number;
  /** False once terminated, expired, failed or dropped. */
  readonly alive: boolean;
  /**
   * Sends a NOTIFY in the dialog with `Subscription-State: <state>;expires=<remaining>`
   * and, when `doc` is given, an application/pidf+xml body (Content-Language:
   * `lang`, else `doc.lang`). At most one NOTIFY per rateLimitMs (RFC 3856
   * §6.10): within the window only the latest call is kept and sent when the
   * window opens; superseded calls resolve with the outcome of the NOTIFY
   * that carried the later state. A failed NOTIFY (481, 408, any other
   * non-2xx, a lost connection) resolves 'gone' and the watcher is dropped
   * (RFC 6665 §4.2.2). Throws a TypeError for a document PIDF cannot carry.
   */
  notify(state: { state: SubscriptionState }, doc?: PresenceDoc, lang?: string): Promise<NotifyOutcome>;
  /**
   * Ends the subscription: NOTIFY with `Subscription-State: terminated;reason=<reason>`
   * (RFC 6665 §4.1.3) and the optional final body, outside the rate limit,
   * then forgets the watcher. Idempotent: later calls wait for the first one.
   */
  terminate(reason: TerminationReason, doc?: PresenceDoc, lang?: string): Promise<void>;
}

/** A final body the service supplies (or nothing), possibly after asking XMPP. */
export type FinalDoc = PresenceDoc | undefined | Promise<PresenceDoc | undefined>;

/**
 * What the presence service plugs into the notifier. Only onSubscribe is
 * required; without the others the adapter still meets its protocol duties
 * (terminating NOTIFYs with no body).
 */
export interface WatcherHandlers {
  /**
   * A new subscription or fetch. Answer quickly (RFC 6665 §4.2.1.1: accept
   * as pending rather than wait for the user); after decisionTimeoutMs the
   * SUBSCRIBE gets 408. A thrown error becomes the router's 500.
   */
  onSubscribe(req: WatcherRequest): WatcherDecision | Promise<WatcherDecision>;
  /** An accepted subscription, right after its first NOTIFY went out. */
  onWatcher?(w: Watcher): void;
  /** An in-dialog refresh was answered 200 with `expires` (RFC 6665 §4.2.1.2). A NOTIFY
   *  follows: the one the service sends from here, else the last state again. */
  onRefresh?(w: Watcher, expires: number): void;
  /** The body of a fetch's only NOTIFY (RFC 6665 §4.4.3, RFC 8048 §7.2); bounded by docTimeoutMs. */
  onFetch?(req: WatcherRequest): FinalDoc;
  /**
   * The watcher sent Expires: 0 in the dialog (already answered 2xx by srf).
   * Return the closed PIDF for the final `terminated;reason=timeout` NOTIFY
   * (RFC 8048 §5.3.3); the adapter sends it (bounded by docTimeoutMs) unless
   * the service calls w.terminate itself.
   */
  onUnsubscribe?(w: Watcher): FinalDoc;
  /** The subscription ran out without a refresh; as onUnsubscribe (RFC 6665 §4.2.2, reason=timeout). */
  onExpire?(w: Watcher): FinalDoc;
  /** The watcher vanished without a final NOTIFY being possible (failed NOTIFY, drachtio link lost, A.4). */
  onGone?(w: Watcher, why: GoneReason): void;
}
