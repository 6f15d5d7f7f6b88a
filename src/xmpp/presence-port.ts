// The presence service's XMPP side: builds presence stanzas, with XEP-0115
// caps computed from what disco#info answers for a SIP user's JID (mapping §9.2).
import type { StanzaErrorSpec } from '../core/errors.js';
import type { PresenceStanza, PresenceXmppPort } from '../core/presence/ports.js';
import type { DiscoRegistry } from './disco.js';
import { buildPresence } from './presence.js';
import type { XmppLink } from './link.js';
import { translatedErrorReply } from './stanza.js';

export class XmppPresencePort implements PresenceXmppPort {
  constructor(private readonly link: XmppLink, private readonly disco: DiscoRegistry) {}

  send(p: PresenceStanza): Promise<void> {
    return this.link.send(buildPresence(p, p.type === undefined ? this.disco.userCaps() : undefined));
  }

  sendError(original: PresenceStanza, error: StanzaErrorSpec): Promise<void> {
    return this.link.send(translatedErrorReply('presence', original, error));
  }
}
