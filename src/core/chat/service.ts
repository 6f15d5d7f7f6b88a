// One-to-one chat sessions (RFC 7573; mapping §5, §7): XMPP chat ⇄ an INVITE
// dialog with an MSRP session. Sessions start on the first message from
// XMPP to a SIP domain configured for sessions, or on an INVITE with an MSRP
// offer from SIP; they end on BYE, <gone/>, inactivity, the XMPP user going
// unavailable, or shutdown. Anything a session cannot carry falls back to
// pager mode (the IM service), so no accepted message is lost.
import { randomUUID } from 'node:crypto';
import type { AddressMapper } from '../address.js';
import { BoundedMap } from '../bounded-map.js';
import { sipStatusToXmppError, timeoutError, type StanzaErrorSpec } from '../errors.js';
import type { XmppMessage } from '../im/model.js';
import type { ImXmppPort } from '../im/service.js';
import { isCallId } from '../im/x2s.js';
import { bareJid as bare, resourceOf } from '../jid.js';
import type { Logger } from '../../log/logger.js';
import { Conversation, MAX_QUEUED } from './conversation.js';
import type { ChatMediaPort, ChatPayload, ChatSipPort, InviteDecision, InviteOffer, MediaEvents } from './ports.js';

export interface ChatConfig {
  /** pager or session for SIP domains not listed in `modes`. */
  defaultMode: 'pager' | 'session';
  modes: ReadonlyArray<{ sip: string; mode: 'pager' | 'session' }>;
  inactivityMs: number;
  maxSessions: number;
  maxPerUser: number;
  /** How long a pair whose INVITE was refused for want of MSRP keeps using pager mode. */
  fallbackMs: number;
  defaultResource: string;
}

export interface ChatCounters {
  event(what: string): void;
}

/** RFC 7573 §4 [derived]: the SIP UA does not do MSRP; pager mode for that pair. */
const NO_SESSION_SUPPORT = new Set([415, 488, 606]);
/** RFC 3994 §4: how long a composing state holds at the SIP receiver without a refresh. */
const COMPOSING_REFRESH_S = 90;

export class ChatService {
  private readonly byKey = new Map<string, Conversation>();
  private readonly byUser = new Map<string, Set<Conversation>>();
  /** Pairs that fell back to pager mode. */
  private readonly pagerPairs: BoundedMap<string, true>;
  private readonly modes = new Map<string, 'pager' | 'session'>();
  private closing = false;

  constructor(
    private readonly cfg: ChatConfig,
    private readonly addresses: AddressMapper,
    private readonly xmpp: ImXmppPort,
    private readonly sip: ChatSipPort,
    private readonly media: ChatMediaPort,
    /** Pager mode (the IM service) for what a session cannot carry. */
    private readonly pager: (msg: XmppMessage, log: Logger) => Promise<void>,
    private readonly counters: ChatCounters,
    private readonly log: Logger,
  ) {
    this.pagerPairs = new BoundedMap(Math.max(1000, cfg.maxSessions * 2), cfg.fallbackMs);
    for (const m of cfg.modes) this.modes.set(m.sip.toLowerCase(), m.mode);
  }

  get size(): number {
    return this.byKey.size;
  }

  get tableSizes(): Record<string, number> {
    return { chat_sessions: this.byKey.size, chat_pager_fallbacks: this.pagerPairs.size };
  }

  private keyOf(msg: { from: string; to: string }): { key: string; aor: string; domain: string; target: string } | undefined {
    const to = this.addresses.jidToSipUser(msg.to);
    if (!to.ok) return undefined;
    return { key: `${bare(msg.from)}\n${to.value.aor}`, aor: to.value.aor, domain: to.value.domain, target: to.value.uri };
  }

  /** Does this message from XMPP belong to a chat session, existing or to be opened? */
  takes(msg: XmppMessage): boolean {
    if (msg.type !== 'chat' || this.closing) return false;
    const k = this.keyOf(msg);
    if (k === undefined) return false;
    if (this.byKey.has(k.key)) return true;
    // Only a content message from a full JID starts a session (RFC 7573 §4).
    if (msg.body === undefined || !msg.from.includes('/')) return false;
    const mode = this.modes.get(k.domain) ?? this.cfg.defaultMode;
    return mode === 'session' && this.pagerPairs.get(k.key) === undefined;
  }

  // ---- XMPP -> SIP -----------------------------------------------------------

  async fromXmpp(msg: XmppMessage, log: Logger): Promise<void> {
    const k = this.keyOf(msg);
    if (k === undefined) return this.pager(msg, log);
    let c = this.byKey.get(k.key);
    if (c === undefined) {
      const userCount = this.byUser.get(bare(msg.from))?.size ?? 0;
      if (this.byKey.size >= this.cfg.maxSessions || userCount >= this.cfg.maxPerUser) {
        log.info('chat session limit reached; pager mode for this message', { sessions: this.byKey.size, userSessions: userCount });
        this.counters.event('limit-pager');
        return this.pager(msg, log);
      }
      const callId = msg.thread !== undefined && isCallId(msg.thread) ? msg.thread : randomUUID();
      c = new Conversation(k.key, bare(msg.from), msg.from, k.aor, bare(msg.to), callId, 'x2s');
      c.sipFrom = `${bare(msg.to)}/${resourceOf(msg.to) ?? this.cfg.defaultResource}`;
      this.register(c);
      c.queue.push(msg);
      void this.open(c, msg, k.target, log);
      return;
    }
    c.userFull = msg.from; // replies go to the resource that wrote last
    c.lastActivity = Date.now();
    if (msg.chatState === 'gone' && msg.body === undefined) {
      // RFC 7573 §4 / mapping E7: <gone/> ends the session with BYE.
      this.end(c, 'the XMPP user left (<gone/>)', { bye: true, gone: false });
      return;
    }
    if (c.state !== 'up') {
      if (c.queue.length >= MAX_QUEUED) {
        await this.xmpp.sendError(msg, { condition: 'resource-constraint', type: 'wait', text: 'the chat session is still being set up' });
        return;
      }
      c.queue.push(msg);
      return;
    }
    await this.sendToSip(c, msg, log);
  }

  /** INVITE with our offer; on success the queued messages go out in order (RFC 7573 §4, Fig. 1). */
  private async open(c: Conversation, first: XmppMessage, target: string, log: Logger): Promise<void> {
    const from = this.addresses.xmppUserToSip(first.from);
    if (!from.ok) return this.fallBack(c, 'the sender cannot be mapped', log, false);
    const created = this.media.create(this.mediaEvents(c, log));
    if (!created.ok) return this.fallBack(c, `no MSRP session: ${created.error}`, log, false);
    c.media = created.value.media;
    const outcome = await this.sip.invite({
      targetUri: target, fromUri: from.value.uri, contact: from.value.uri, callId: c.callId, sdp: created.value.sdp,
      ...(first.subject !== undefined ? { subject: first.subject } : {}),
    }, log);
    if (c.state === 'ended') {
      if (outcome.kind === 'answered') void outcome.dialog.bye();
      return;
    }
    if (outcome.kind !== 'answered') {
      if (outcome.kind === 'rejected' && NO_SESSION_SUPPORT.has(outcome.status)) {
        return this.fallBack(c, `INVITE answered ${outcome.status}`, log, true);
      }
      const error = outcome.kind === 'rejected' ? sipStatusToXmppError(outcome.status, outcome.reason)
        : outcome.kind === 'timeout' ? timeoutError()
          : { ...timeoutError(), text: 'the SIP side is unreachable' };
      log.info('chat INVITE failed', { callId: c.callId, outcome: outcome.kind, status: outcome.kind === 'rejected' ? outcome.status : undefined });
      this.counters.event(`invite-${outcome.kind === 'rejected' ? outcome.status : outcome.kind}`);
      await this.failQueue(c, error);
      this.end(c, 'INVITE failed', { bye: false, gone: false });
      return;
    }
    c.dialog = outcome.dialog;
    const device = this.contactResource(outcome.contact);
    if (device !== undefined && resourceOf(first.to) === undefined) c.sipFrom = `${c.sipJid}/${device}`;
    outcome.dialog.onEnded(() => this.end(c, 'BYE from SIP', { bye: false, gone: true }));
    if (!this.media.check(outcome.sdp).ok) {
      // An answer without an MSRP stream (RFC 7573 §4 [derived]): the UA cannot do sessions.
      void outcome.dialog.bye();
      return this.fallBack(c, 'the answer has no MSRP stream', log, true);
    }
    c.state = 'connecting';
    const up = await c.media.connect(outcome.sdp, true);
    if (!up.ok) {
      void outcome.dialog.bye();
      return this.fallBack(c, `MSRP connection failed: ${up.error}`, log, false);
    }
    this.up(c, log);
  }

  /** Pager mode for the queued messages (and, when `remember`, for the pair for a while). */
  private async fallBack(c: Conversation, why: string, log: Logger, remember: boolean): Promise<void> {
    log.info('chat session not possible; pager mode', { callId: c.callId, why, remembered: remember });
    this.counters.event(remember ? 'fallback-pager' : 'failed-pager');
    if (remember) this.pagerPairs.set(c.key, true);
    const queued = c.queue.splice(0);
    this.end(c, why, { bye: false, gone: false });
    for (const msg of queued) await this.pager(msg, log);
  }

  private async failQueue(c: Conversation, error: StanzaErrorSpec): Promise<void> {
    for (const msg of c.queue.splice(0)) if (msg.body !== undefined) await this.xmpp.sendError(msg, error);
  }

  private up(c: Conversation, log: Logger): void {
    if (c.state === 'ended') return;
    c.state = 'up';
    this.counters.event(`up-${c.startedBy}`);
    if (log.isInfoEnabled()) log.info('chat session up', { callId: c.callId, user: c.user, sip: c.sipAor, startedBy: c.startedBy });
    this.armInactivity(c);
    const queued = c.queue.splice(0);
    void (async () => {
      for (const msg of queued) await this.sendToSip(c, msg, log);
    })();
  }

  private async sendToSip(c: Conversation, msg: XmppMessage, log: Logger): Promise<void> {
    const media = c.media;
    if (media === undefined || c.state !== 'up') return this.pager(msg, log);
    // XEP-0184 <received/> → the REPORT owed for that message (RFC 7573 §7).
    if (msg.receivedId !== undefined) {
      const owed = c.owedReports.get(msg.receivedId);
      if (owed !== undefined && media.reportDelivered(owed)) c.owedReports.delete(msg.receivedId);
    }
    let payload: ChatPayload | undefined;
    if (msg.body !== undefined) {
      const bytes = Buffer.byteLength(msg.body);
      if (media.peerMaxBytes !== undefined && bytes > media.peerMaxBytes) {
        await this.xmpp.sendError(msg, { condition: 'policy-violation', type: 'modify', text: `the SIP user accepts at most ${media.peerMaxBytes} bytes` });
        return;
      }
      payload = { kind: 'text', text: msg.body };
      c.lastComposing = false; // a content message ends composing (RFC 3994 §3.3)
    } else if (msg.chatState !== undefined && msg.chatState !== 'gone') {
      // Mapping §7.1 / E12: composing → active; anything else → idle; never twice in a row.
      const active = msg.chatState === 'composing';
      if (c.lastComposing === active) return;
      c.lastComposing = active;
      payload = active ? { kind: 'composing', active, refreshS: COMPOSING_REFRESH_S } : { kind: 'composing', active };
    }
    if (payload === undefined) return;
    const receipt = payload.kind === 'text' && msg.receiptRequest === true && msg.id !== undefined;
    const sent = media.send(payload, { ...(msg.id !== undefined ? { tid: msg.id } : {}), receipt });
    if (!sent.ok) {
      log.info('MSRP send failed; ending the session, pager mode for the message', { why: sent.error });
      this.end(c, `MSRP send failed: ${sent.error}`, { bye: true, gone: false });
      if (payload.kind === 'text') await this.pager(msg, log);
      return;
    }
    this.counters.event(payload.kind === 'text' ? 'x2s-message' : 'x2s-composing');
    if (receipt) c.remember(c.sentReceipts, sent.value, msg.id!);
  }

  // ---- SIP -> XMPP -------------------------------------------------------------

  /** An INVITE with an MSRP offer (RFC 7573 §5, Fig. 2; E4). */
  async onInvite(offer: InviteOffer, log: Logger): Promise<InviteDecision> {
    if (this.closing) return { accept: false, status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '30' } };
    const from = this.addresses.sipUserToJid(offer.fromUri);
    if (!from.ok) return { accept: false, status: 403, reason: 'Forbidden' };
    const to = this.addresses.sipToXmppUser(offer.targetUri);
    if (!to.ok) return { accept: false, status: 404, reason: 'Not Found' };
    const aor = this.addresses.jidToSipUser(from.value.bare);
    if (!aor.ok) return { accept: false, status: 403, reason: 'Forbidden' };
    const media = this.media.check(offer.sdp);
    if (!media.ok) {
      log.info('INVITE without a usable MSRP offer refused', { why: media.error });
      this.counters.event('invite-488');
      return { accept: false, status: 488, reason: 'Not Acceptable Here' };
    }
    const key = `${to.value.bare}\n${aor.value.aor}`;
    const old = this.byKey.get(key);
    if (old !== undefined) this.end(old, 'replaced by a new INVITE', { bye: true, gone: false });
    if (this.byKey.size >= this.cfg.maxSessions) {
      return { accept: false, status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '60' } };
    }
    if ((this.byUser.get(to.value.bare)?.size ?? 0) >= this.cfg.maxPerUser) return { accept: false, status: 486, reason: 'Busy Here' };
    const c = new Conversation(key, to.value.bare, to.value.resource !== undefined ? to.value.full : undefined, aor.value.aor,
      from.value.bare, offer.callId, 's2x');
    c.sipFrom = `${from.value.bare}/${from.value.resource ?? this.contactResource(offer.contactUri) ?? this.cfg.defaultResource}`;
    const created = this.media.create(this.mediaEvents(c, log), offer.sdp);
    if (!created.ok) {
      log.warn('no MSRP session for an INVITE', { why: created.error });
      return { accept: false, status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '60' } };
    }
    c.media = created.value.media;
    this.register(c);
    return {
      accept: true,
      sdp: created.value.sdp,
      established: (dialog) => {
        c.dialog = dialog;
        dialog.onEnded(() => this.end(c, 'BYE from SIP', { bye: false, gone: true }));
        if (c.state === 'ended') {
          void dialog.bye();
          return;
        }
        void c.media!.connect(offer.sdp, false).then((r) => {
          if (r.ok) this.up(c, log);
          else this.end(c, `MSRP session failed: ${r.error}`, { bye: true, gone: false });
        });
      },
      failed: (why) => this.end(c, why, { bye: false, gone: false }),
    };
  }

  private contactResource(contact: string | undefined): string | undefined {
    if (contact === undefined) return undefined;
    const m = this.addresses.sipUserToJid(contact);
    return m.ok ? m.value.resource : undefined;
  }

  private mediaEvents(c: Conversation, log: Logger): MediaEvents {
    const send = (m: XmppMessage): void => {
      this.xmpp.send(m).catch((err: unknown) => log.warn('could not send a chat stanza to XMPP', { err: String(err) }));
    };
    return {
      message: (m) => {
        c.lastActivity = Date.now();
        const base = { from: c.sipFrom, to: c.xmppTo, type: 'chat' as const, thread: c.callId };
        if (m.payload.kind === 'text') {
          // Mapping §5.2, E3/E5: id = the MSRP tid, thread = Call-ID; Success-Report → receipt request (§5.5).
          send({ ...base, id: m.tid, body: m.payload.text, ...(m.receiptRequested ? { receiptRequest: true } : {}) });
          if (m.receiptRequested) c.remember(c.owedReports, m.tid, m.messageId);
          this.counters.event('s2x-message');
        } else {
          // E12: isComposing active → <composing/>, idle → <active/>.
          send({ ...base, chatState: m.payload.active ? 'composing' : 'active' });
        }
      },
      delivered: (messageId) => {
        const id = c.sentReceipts.get(messageId);
        if (id === undefined) return;
        c.sentReceipts.delete(messageId);
        // E10: a message carrying only <received/>.
        send({ from: c.sipFrom, to: c.xmppTo, type: 'normal', receivedId: id });
      },
      closed: (reason) => this.end(c, `MSRP: ${reason}`, { bye: true, gone: true }),
    };
  }

  // ---- ending ------------------------------------------------------------------

  private register(c: Conversation): void {
    this.byKey.set(c.key, c);
    let set = this.byUser.get(c.user);
    if (set === undefined) this.byUser.set(c.user, (set = new Set()));
    set.add(c);
  }

  /** RFC 7573 §4: no activity for chat.inactivityMs ends the session (XEP-0085 suggests 10 min). */
  private armInactivity(c: Conversation): void {
    const idle = Date.now() - c.lastActivity;
    c.timer = setTimeout(() => {
      if (c.state === 'ended') return;
      if (Date.now() - c.lastActivity >= this.cfg.inactivityMs) this.end(c, 'inactivity', { bye: true, gone: true });
      else this.armInactivity(c);
    }, Math.max(0, this.cfg.inactivityMs - idle));
    c.timer.unref();
  }

  /** Ends a conversation once: BYE and/or <gone/> as asked, media closed, tables cleaned. */
  private end(c: Conversation, why: string, opts: { bye: boolean; gone: boolean }): void {
    if (c.state === 'ended') return;
    const wasUp = c.state === 'up';
    c.state = 'ended';
    if (c.timer !== undefined) clearTimeout(c.timer);
    if (this.byKey.get(c.key) === c) this.byKey.delete(c.key);
    const set = this.byUser.get(c.user);
    set?.delete(c);
    if (set?.size === 0) this.byUser.delete(c.user);
    c.media?.close(why);
    if (opts.bye && c.dialog !== undefined) void c.dialog.bye();
    // Messages still waiting for the session are not lost: pager mode takes them.
    for (const msg of c.queue.splice(0)) {
      this.pager(msg, this.log).catch((err: unknown) => this.log.warn('pager fallback failed', { err: String(err) }));
    }
    // Mapping §5.3 / E8: the XMPP user learns that the conversation is over.
    if (opts.gone && wasUp) {
      this.xmpp.send({ from: c.sipFrom, to: c.xmppTo, type: 'chat', thread: c.callId, chatState: 'gone' })
        .catch((err: unknown) => this.log.warn('could not send <gone/>', { err: String(err) }));
    }
    this.counters.event('ended');
    if (this.log.isInfoEnabled()) this.log.info('chat session ended', { callId: c.callId, user: c.user, sip: c.sipAor, why });
  }

  /** The XMPP user's resource went unavailable: its sessions end (issue 5, item 4). */
  userUnavailable(fullJid: string): void {
    for (const c of [...(this.byUser.get(bare(fullJid)) ?? [])]) {
      if (c.userFull === fullJid || c.userFull === undefined) this.end(c, 'the XMPP user went unavailable', { bye: true, gone: false });
    }
  }

  /** Shutdown: every session ends with BYE, waiting at most `withinMs` for the answers. */
  async close(withinMs: number): Promise<void> {
    this.closing = true;
    const byes: Promise<void>[] = [];
    for (const c of [...this.byKey.values()]) {
      const dialog = c.dialog;
      this.end(c, 'gateway shutting down', { bye: false, gone: true });
      if (dialog !== undefined) byes.push(dialog.bye());
    }
    await Promise.race([Promise.allSettled(byes), new Promise((r) => setTimeout(r, withinMs).unref())]);
  }
}
