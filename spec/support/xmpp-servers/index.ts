// Private XMPP servers (Prosody, ejabberd) on 127.0.0.1 for the test suite,
// plus a ready-to-use test client. See harness.test.ts for usage.

import { startEjabberd } from './ejabberd.js';
import { startProsody } from './prosody.js';
import type { StartXmppServer, XmppServerKind } from './types.js';

export { startProsody } from './prosody.js';
export { startEjabberd, findEjabberdctl } from './ejabberd.js';
export { connectClient, IqError, type ConnectClientOptions, type TestClient } from './client.js';
export { allocatePorts } from './ports.js';
export { livingGroupMembers, pidExists } from './process.js';
export type {
  ExtraComponent,
  StartXmppServer,
  StartXmppServerOptions,
  XmppServer,
  XmppServerKind,
  XmppUser,
} from './types.js';

/**
 * Servers an integration suite should run against. ejabberd is always listed
 * (its start fails loudly with an install hint when ejabberdctl is missing),
 * unless SKIP_EJABBERD=1.
 */
export const xmppServerKinds: Array<{ kind: XmppServerKind; start: StartXmppServer }> = [
  { kind: 'prosody', start: startProsody },
  ...(process.env.SKIP_EJABBERD === '1' ? [] : [{ kind: 'ejabberd' as const, start: startEjabberd }]),
];
