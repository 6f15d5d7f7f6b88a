// What the presence service needs from the two sides, in neutral terms:
// presence stanzas in and out (the XMPP adapter builds and reads the XML and
// adds XEP-0115 caps), and the SIP subscriber (sip/presence-uac implements
// SubscriberPort as it is). The SIP notifier drives the service through
// WatcherHandlers (notifier-port.ts) instead.
import type { StanzaErrorSpec } from '../errors.js';
import type { XmppPresence } from './model.js';
import type { FetchOutcome, SubscribeOutcome, SubscribeRequest, SubscriptionEvent } from './subscriber-port.js';

/** RFC 6121 presence types; undefined is available presence. */
export type PresenceType = 'unavailable' | 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' | 'probe';

/** One presence stanza, reduced to what the gateway maps (RFC 8048 §6). */
export interface PresenceStanza {
  from: string;
  to: string;
  type?: PresenceType;
  id?: string;
  /** The notification itself (available/unavailable): show, status, priority, xml:lang. */
  presence?: XmppPresence;
  /** XEP-0203: when the state last changed, for the unavailable answer to a probe (RFC 6121 §4.3.2). */
  delay?: Date;
}

export interface PresenceXmppPort {
  /** Sends one presence stanza from a JID under the component; caps are added to available presence. */
  send(p: PresenceStanza): Promise<void>;
  /** A presence error reply (RFC 6120 §8.3): addresses swapped, same id. */
  sendError(original: PresenceStanza, error: StanzaErrorSpec): Promise<void>;
}

/** The SIP subscriber (RFC 6665 subscriber role), as sip/presence-uac offers it. */
export interface SubscriberPort {
  subscribe(req: SubscribeRequest, onEvent: (e: SubscriptionEvent) => void): Promise<SubscribeOutcome>;
  fetch(req: Omit<SubscribeRequest, 'expires'>, timeoutMs: number): Promise<FetchOutcome>;
}

/** Counters the service reports to metrics. */
export interface PresenceCounters {
  /** x2s: stanza from XMPP handled; s2x: SIP event handled; `what` names the case. */
  event(direction: 'x2s' | 's2x', what: string): void;
}

export interface PresenceConfig {
  /** Expires asked for in our SUBSCRIBEs (RFC 3856 §6.4 default 3600). */
  expires: number;
  /** Cap on SIP contacts one XMPP user watches, and on XMPP users one SIP user watches. */
  maxPerUser: number;
  /** Start-up re-establishment: resubscriptions and probes per second. */
  restoreRate: number;
  /** Longest wait between retries of a failed subscription. */
  retryMaxDelayMs: number;
  /** How long a probe or fetch waits for the other side's answer. */
  fetchTimeoutMs: number;
  /** Resource of a SIP presence tuple that names none (the IM default resource). */
  defaultResource: string;
  /** Outbound proxy for SUBSCRIBEs (drachtio `sip|||proxy`). */
  proxy?: string;
}
