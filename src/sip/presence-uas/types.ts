// The notifier's shapes live in core (the presence service's port); the
// options are the adapter's own.
export * from '../../core/presence/notifier-port.js';

export interface PresenceNotifierOptions {
  /** Shortest interval accepted; shorter non-zero Expires get 423 with Min-Expires. At most 3600 (RFC 6665 §4.2.1.1). */
  minExpires: number;
  /** Longest interval granted; longer requests are shortened to it. */
  maxExpires: number;
  /** Interval when the SUBSCRIBE has no Expires: 3600 for presence (RFC 3856 §6.4). */
  defaultExpires: number;
  /** Cap on subscriptions held at once (including fetches in progress); beyond it 503 with Retry-After. */
  maxWatchers: number;
  /** At most one NOTIFY per watcher per this many ms: 5000 for presence (RFC 3856 §6.10). */
  rateLimitMs: number;
  /** How long onSubscribe may take before the SUBSCRIBE gets 408 (default 2000). */
  decisionTimeoutMs?: number;
  /** How long onFetch / onUnsubscribe / onExpire may take before the NOTIFY goes without a body (default 2000). */
  docTimeoutMs?: number;
}
