// The subscriber's shapes live in core (the presence service's port); the
// options are the adapter's own.
import type { Metrics } from '../../http/metrics.js';

export * from '../../core/presence/subscriber-port.js';

export interface PresenceSubscriberOptions {
  /** Cap on live and in-progress subscriptions (fetches included); beyond it, 'unavailable'. */
  maxSubscriptions: number;
  /** Guard for a final response to SUBSCRIBE; default 40 s (drachtio-server sends 408 after 32 s). */
  requestTimeoutMs?: number;
  /** How long to wait for the terminating NOTIFY after an unsubscribe; default 32 s (64*T1). */
  unsubscribeGraceMs?: number;
  /** An onEvent callback threw. Default: rethrown asynchronously (a programmer error). */
  onListenerError?: (err: unknown) => void;
  /** SUBSCRIBE/NOTIFY counts in gateway_sip_requests_total and gateway_sip_responses_total. */
  metrics?: Metrics;
}
