// The XMPP side of bench/presence.ts and bench/chat.ts: a private Prosody with
// a second component domain, and on it an XEP-0114 component in this process
// that PLAYS THE XMPP USERS x{i}@users.example.test (no c2s logins: Prosody
// routes component to component). Also stanza errors in words.
import { component, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';

import { startProsody, type XmppServer } from '../spec/support/xmpp-servers/index.js';
import { sleep } from './run.js';

export const USERS_DOMAIN = 'users.example.test';
const USERS_SECRET = 'users-bench-secret';

/** A private Prosody that accepts the users component. */
export function startProsodyWithUsers(): Promise<XmppServer> {
  return startProsody({ users: [], extraComponents: [{ domain: USERS_DOMAIN, secret: USERS_SECRET }] });
}

export async function startUsersComponent(server: XmppServer, onStanza: (el: Element) => void,
  on: { problem(what: string): void; offline(): void }): Promise<Component> {
  const c = component({ service: `xmpp://127.0.0.1:${server.componentPort}`, domain: USERS_DOMAIN, password: USERS_SECRET });
  c.reconnect.stop();
  c.on('error', (err: unknown) => on.problem(`component error: ${err instanceof Error ? err.message : String(err)}`));
  c.on('offline', () => on.offline());
  c.on('stanza', onStanza);
  await c.start();
  return c;
}

/** Stops the users component, giving up after 3 s. */
export async function stopUsersComponent(c: Component | undefined): Promise<void> {
  if (c) await Promise.race([c.stop().catch(() => undefined), sleep(3000)]);
}

/** `stanza error <condition>[: <text>]` of an error stanza. */
export function stanzaError(el: Element): string {
  const err = el.getChild('error');
  const cond = err?.children.find((c) => typeof c !== 'string' && c.name !== 'text');
  return `stanza error ${typeof cond === 'object' && cond ? cond.name : 'unknown'}${err?.getChildText('text') ? `: ${err.getChildText('text')}` : ''}`;
}
