// IQs the component answers for its own domain: XEP-0199 ping and XEP-0092
// software version. User JIDs under the domain do not answer them (the disco
// features of user JIDs do not list them), so the iq callee's default
// service-unavailable applies there (XEP-0199 §8).
import { xml } from '@xmpp/component';
import type { IncomingContext } from '@xmpp/component';
import { parseJid } from './stanza.js';

export const NS_PING = 'urn:xmpp:ping';
export const NS_VERSION = 'jabber:iq:version';

export interface SoftwareVersion {
  name: string;
  version: string;
}

function toDomain(ctx: IncomingContext, domain: string): boolean {
  const jid = parseJid(ctx.stanza.attrs.to as string | undefined);
  return jid !== null && jid.local === '' && jid.resource === '' && jid.domain === domain;
}

export function pingHandler(domain: string) {
  // XEP-0199 §4.2: the pong is an empty result. The iq callee sends an empty
  // result for any truthy non-element return value.
  return (ctx: IncomingContext, next: () => Promise<unknown>): unknown => (toDomain(ctx, domain) ? true : next());
}

export function versionHandler(domain: string, sw: SoftwareVersion) {
  // XEP-0092 §2: name and version; <os/> is optional and left out on purpose
  // (it would tell an attacker more than a user needs).
  return (ctx: IncomingContext, next: () => Promise<unknown>): unknown =>
    toDomain(ctx, domain)
      ? xml('query', { xmlns: NS_VERSION }, xml('name', {}, sw.name), xml('version', {}, sw.version))
      : next();
}
