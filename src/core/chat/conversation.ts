// One chat session (RFC 7573): an XMPP user and a SIP user, one INVITE
// dialog, one MSRP session. Identity is the pair (XMPP bare JID, SIP AOR):
// the XMPP side may change resource mid-conversation (replies then go to
// the resource that wrote last), and one pair has one session at a time.
import type { XmppMessage } from '../im/model.js';
import type { ChatDialog, ChatMedia } from './ports.js';

export type ConversationState = 'inviting' | 'connecting' | 'up' | 'ended';

/** How many XMPP messages wait for a session being set up; more are refused. */
export const MAX_QUEUED = 50;
/** Receipt correlations kept per conversation (XEP-0184 id ⇄ MSRP Message-ID). */
export const MAX_RECEIPTS = 256;

export class Conversation {
  state: ConversationState;
  media: ChatMedia | undefined;
  dialog: ChatDialog | undefined;
  /** Messages from XMPP waiting for the session (sent in order once it is up). */
  readonly queue: XmppMessage[] = [];
  /** MSRP Message-ID we sent → the XMPP id whose <received/> its REPORT becomes. */
  readonly sentReceipts = new Map<string, string>();
  /** XMPP id we delivered → the MSRP Message-ID whose REPORT we owe. */
  readonly owedReports = new Map<string, string>();
  /** Last composing state sent to SIP (XEP-0085 §5.3: no two identical in a row). */
  lastComposing: boolean | undefined;
  /** The SIP user's full JID, the `from` of what the session delivers to XMPP. */
  sipFrom = '';
  timer: NodeJS.Timeout | undefined;
  lastActivity = Date.now();

  constructor(
    readonly key: string,
    /** The XMPP user: bare JID, and the full JID replies go to (undefined: the bare JID). */
    readonly user: string,
    public userFull: string | undefined,
    /** The SIP user: AOR and their JID under the component, with the resource they write from. */
    readonly sipAor: string,
    readonly sipJid: string,
    readonly callId: string,
    readonly startedBy: 'x2s' | 's2x',
  ) {
    this.state = startedBy === 'x2s' ? 'inviting' : 'connecting';
  }

  /** Where stanzas for the XMPP user go. */
  get xmppTo(): string {
    return this.userFull ?? this.user;
  }

  remember<K, V>(map: Map<K, V>, key: K, value: V): void {
    map.set(key, value);
    if (map.size > MAX_RECEIPTS) map.delete(map.keys().next().value as K);
  }
}
