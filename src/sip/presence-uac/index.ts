// The SIP subscriber side of presence (RFC 8048 §5.2, RFC 6665, RFC 3856):
// the gateway subscribes to a SIP contact's presence for an XMPP user. One
// PresenceSubscriber per gateway, over the SipLink (inbound mode).
//
// Behaviour, in short (the files say why):
//  - subscribe(): SUBSCRIBE with Event: presence, Accept: application/pidf+xml,
//    Expires (srf.createUAC, A.7). 423 → one retry with Min-Expires when it is
//    longer; the granted Expires never exceeds what was asked. 408 (drachtio's
//    own Timer F answer) and no answer → 'timeout'. onEvent starts after the
//    outcome; a NOTIFY that overtakes the 2xx is held and delivered then.
//  - NOTIFY: 200; 400 malformed PIDF or Subscription-State; 415 other body
//    types; 489 another event package; 481 an Event id. Refusals are reported
//    as 'refused-notify' events, never logged here. An unknown substate keeps
//    the previous state. The NOTIFY's expires may shorten the subscription.
//  - terminated NOTIFY: 'notify' then 'ended' ('terminated', or 'unsubscribed'
//    after unsubscribe()), and srf's Dialog is removed here (A.12 Quirk 1).
//  - expiresAt passes → 'ended' 'expired'; the drachtio link goes down →
//    'ended' 'connection-lost' for all, in-progress requests 'unavailable'.
//  - fetch(): SUBSCRIBE Expires: 0 in a new dialog; the first NOTIFY's body.
//  - Only malformed arguments throw (TypeError); the rest are outcomes.
export { PresenceSubscriber } from './subscriber.js';
export {
  MAX_EXPIRES,
  type EndReason, type FetchOutcome, type PresenceSubscriberOptions, type RefreshOutcome, type SubscribeOutcome,
  type SubscribeRequest, type Subscription, type SubscriptionEvent, type SubscriptionState,
} from './types.js';
export { parseSubscriptionState, parseEvent, type SubscriptionStateValue } from './headers.js';
