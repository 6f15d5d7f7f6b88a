// The two JID splits the core services need. Stanzas reach them already
// validated by the XMPP router (xmpp/router.ts), so these only cut strings.

/** `user@domain/res` → `user@domain` (a resource may itself contain '/', RFC 7622 §3.4). */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

/** The resourcepart, or undefined for a bare JID. */
export function resourceOf(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash === -1 ? undefined : jid.slice(slash + 1);
}
