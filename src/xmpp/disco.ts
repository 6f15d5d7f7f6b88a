// XEP-0030 service discovery for the component domain and for every JID
// under it (mapping §9.2: the component is the "server" for its domain and
// answers on behalf of the accounts it hosts, XEP-0030 §3.1).
import { xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import type { IncomingContext } from '@xmpp/component';
import { NS_STANZAS, parseJid } from './stanza.js';
import { capsAttributes, type CapsInfo } from '../core/caps.js';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/** XEP-0115 §4: the node names the software; `node#ver` is answered like the JID itself (§6.2). */
export const CAPS_NODE = 'https://github.com/sip-xmpp-gateway/sip-xmpp-gateway';

export interface Identity {
  category: string;
  type: string;
  name: string;
}

/**
 * What the gateway advertises. Feature modules add their namespaces here
 * when they are installed, so the lists only ever name what is implemented.
 */
export class DiscoRegistry {
  readonly domainIdentity: Identity;
  readonly userIdentity: Identity;
  private readonly domainFeatures = new Set<string>([NS_DISCO_INFO, NS_DISCO_ITEMS]);
  private readonly userFeatures = new Set<string>([NS_DISCO_INFO]);

  constructor(readonly domain: string, gatewayName: string) {
    // Registrar: category gateway, type "simple" = SIP/SIMPLE (mapping §9.2; there is no "sip" type).
    this.domainIdentity = { category: 'gateway', type: 'simple', name: gatewayName };
    this.userIdentity = { category: 'client', type: 'pc', name: 'SIP user' };
  }

  addDomainFeature(ns: string): void {
    this.domainFeatures.add(ns);
  }

  addUserFeature(ns: string): void {
    this.userFeatures.add(ns);
    this.caps = undefined; // the ver hashes the feature list
  }

  /** What a SIP user's JID answers to disco#info, the input of its XEP-0115 `ver`. */
  userInfo(): CapsInfo {
    return { identities: [this.userIdentity], features: [...this.userFeatures].sort() };
  }

  /** The <c/> attributes for presence sent for SIP users, from what disco#info really returns. */
  userCaps(): ReturnType<typeof capsAttributes> {
    this.caps ??= capsAttributes(CAPS_NODE, this.userInfo());
    return this.caps;
  }

  private caps: ReturnType<typeof capsAttributes> | undefined;

  /** The disco#info query for a JID under the component, or an <error/> for one outside it. */
  info(to: string, node: string | undefined): Element {
    const jid = parseJid(to);
    if (jid === null || jid.domain !== this.domain) return discoError('cancel', 'item-not-found');
    const isDomain = jid.local === '';
    // XEP-0115 §6.2: a SIP user's caps node answers as the JID does; no other
    // node exists (XEP-0030 §3.2: item-not-found).
    if (node !== undefined && (isDomain || node !== `${CAPS_NODE}#${this.userCaps().ver}`)) return discoError('cancel', 'item-not-found');
    const identity = isDomain ? this.domainIdentity : this.userIdentity;
    const features = [...(isDomain ? this.domainFeatures : this.userFeatures)].sort();
    return xml('query', { xmlns: NS_DISCO_INFO, ...(node !== undefined ? { node } : {}) },
      xml('identity', { category: identity.category, type: identity.type, name: identity.name }),
      ...features.map((f) => xml('feature', { var: f })));
  }

  /** disco#items: nothing is listed yet (no rooms, no nodes), but the query is answered (XEP-0030 §4). */
  items(to: string, node: string | undefined): Element {
    const jid = parseJid(to);
    if (jid === null || jid.domain !== this.domain) return discoError('cancel', 'item-not-found');
    if (node !== undefined) return discoError('cancel', 'item-not-found');
    return xml('query', { xmlns: NS_DISCO_ITEMS });
  }

  /** iq callee handlers. */
  infoHandler = (ctx: IncomingContext): Element => this.info(ctx.stanza.attrs.to as string, ctx.element.attrs.node as string | undefined);
  itemsHandler = (ctx: IncomingContext): Element => this.items(ctx.stanza.attrs.to as string, ctx.element.attrs.node as string | undefined);
}

function discoError(type: string, condition: string): Element {
  return xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }));
}
