// The SIP notifier side of presence (RFC 8048 §5.3, RFC 6665, RFC 3856): a
// SIP user subscribes to an XMPP user's presence through the gateway. The
// adapter lives in presence-uas/; this is its public surface.
//
//   const notifier = new PresenceNotifier(sipLink, {
//     minExpires: 60, maxExpires: 7200, defaultExpires: 3600, maxWatchers: 10000, rateLimitMs: 5000,
//   }, log.child({ module: 'presence' }), metrics);
//   notifier.setHandlers(presenceService);          // onSubscribe, onWatcher, onRefresh, ...
//   sipRouter.handle('SUBSCRIBE', notifier.handler);
//
// How srf routes SUBSCRIBEs (drachtio-protocol.md A.5, A.8, A.12):
//  - a new SUBSCRIBE → SipRouter → notifier.handler → createUAS answers 202
//    and srf keeps a Dialog keyed `Call-ID;from-tag=<watcher's tag>`;
//  - a SUBSCRIBE in a dialog srf knows → srf's Dialog, never the router:
//    Expires: 0 is answered 202 by srf itself and emitted as 'unsubscribe';
//    anything else is emitted as 'subscribe' (with no listener, 489);
//  - a SUBSCRIBE in a dialog srf does not know (dropped after a failed
//    NOTIFY, or lost with the connection while drachtio-server kept it) →
//    the router, as if new but with a To tag and a dialog id: 481.
// Outbound mode (A.11) is not supported: the router ends the per-request
// connection after the 2xx, and the dialog's NOTIFYs would have no socket.
export { PresenceNotifier } from './presence-uas/notifier.js';
export { acceptsPidf, eventPackage, headerTag, parseExpires, preferredLanguage, PRESENCE_EVENT } from './presence-uas/headers.js';
export type {
  FinalDoc, GoneReason, NotifyOutcome, PresenceNotifierOptions, SubscriptionState, TerminationReason, Watcher,
  WatcherDecision, WatcherHandlers, WatcherRequest,
} from './presence-uas/types.js';
