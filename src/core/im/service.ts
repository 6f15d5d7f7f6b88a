// Pager-mode IM in both directions: carries out the translators' decisions
// through two ports, keeps the bounded tables that correlate responses,
// errors and receipts, and never lets a message vanish without an answer.
import { randomUUID } from 'node:crypto';
import type { AddressMapper } from '../address.js';
import { BoundedMap } from '../bounded-map.js';
import { errorTypeFor, sipStatusToXmppError, timeoutError, xmppErrorToSipStatus, type StanzaErrorSpec } from '../errors.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { COMPOSING_REFRESH_S, ConversationTimers, DEFAULT_REFRESH_S, MAX_REFRESHES, REFRESH_MARGIN_S } from './composing.js';
import { decideS2x, type OutboundImdnRecord } from './s2x.js';
import { decideX2s, type InboundImdnRequest } from './x2s.js';
import type { SipMessageIn, SipMessageOut, XmppMessage } from './model.js';

export type SipSendOutcome =
  | { kind: 'response'; status: number; reason: string; contact?: string }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'unavailable'; why: string }
  | { kind: 'timeout' };

export interface ImSipPort {
  send(out: SipMessageOut, timeoutMs: number, log: Logger): Promise<SipSendOutcome>;
}

export interface ImXmppPort {
  send(msg: XmppMessage): Promise<void>;
  sendError(original: XmppMessage, error: StanzaErrorSpec): Promise<void>;
  /** Resolves once the XMPP server has processed everything sent to `domain` before the call. */
  barrier(domain: string): Promise<void>;
}

export interface SipAnswer {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

export interface ImCounters {
  message(direction: 'x2s' | 's2x', outcome: string): void;
}

interface PendingS2x {
  settle(answer: SipAnswer): void;
  toFullJid: boolean;
}

const RECEIPT_TTL_MS = 30 * 60 * 1000;

export class ImService {
  /** S->X stanzas awaiting a possible bounce, by stanza id. */
  private readonly pendingS2x = new Map<string, PendingS2x>();
  private pendingX2s = 0;
  /** Stanza id delivered from SIP -> the IMDN request that came with it. */
  private readonly inboundImdn: BoundedMap<string, InboundImdnRequest>;
  /** imdn.Message-ID the gateway sent -> the XMPP message it came from. */
  private readonly outboundImdn: BoundedMap<string, OutboundImdnRecord>;
  /** Last chat state sent per (XMPP sender, SIP recipient): XEP-0085 §5.3, no two identical in a row. */
  private readonly lastChatState: BoundedMap<string, string>;
  /** Re-sends of isComposing "active" towards SIP while the XMPP user composes (RFC 3994 §3.2). */
  private readonly composingRefresh: ConversationTimers;
  /** Expiry of an isComposing "active" from SIP that was not refreshed (RFC 3994 §4). */
  private readonly composingExpiry: ConversationTimers;

  constructor(
    private readonly cfg: GatewayConfig['im'],
    private readonly addresses: AddressMapper,
    private readonly xmpp: ImXmppPort,
    private readonly sip: ImSipPort,
    private readonly counters: ImCounters,
  ) {
    this.inboundImdn = new BoundedMap(cfg.maxPending, RECEIPT_TTL_MS);
    this.outboundImdn = new BoundedMap(cfg.maxPending, RECEIPT_TTL_MS);
    this.lastChatState = new BoundedMap(cfg.maxPending, RECEIPT_TTL_MS);
    this.composingRefresh = new ConversationTimers(cfg.maxPending);
    this.composingExpiry = new ConversationTimers(cfg.maxPending);
  }

  /** Stops every timer (gateway shutdown). */
  close(): void {
    this.composingRefresh.clear();
    this.composingExpiry.clear();
  }

  /** Sizes of the correlation tables, for gauges. */
  get tableSizes(): Record<string, number> {
    return {
      pending_s2x: this.pendingS2x.size,
      pending_x2s: this.pendingX2s,
      inbound_imdn: this.inboundImdn.size,
      outbound_imdn: this.outboundImdn.size,
      chat_states: this.lastChatState.size,
      composing_refresh: this.composingRefresh.size,
      composing_expiry: this.composingExpiry.size,
    };
  }

  // ---- XMPP -> SIP -------------------------------------------------------

  async fromXmpp(msg: XmppMessage, log: Logger): Promise<void> {
    const decision = decideX2s(msg, {
      addresses: this.addresses,
      defaultResource: this.cfg.defaultResource,
      now: () => new Date(),
      newMessageId: () => randomUUID(),
      inboundImdn: (id) => this.inboundImdn.get(id),
    });
    if (decision.kind === 'drop') {
      if (log.isDebugEnabled()) log.debug('message not translated', { reason: decision.reason });
      this.counters.message('x2s', 'dropped');
      return;
    }
    if (decision.kind === 'error') {
      log.info('message refused', { condition: decision.error.condition, reason: decision.error.text });
      this.counters.message('x2s', decision.error.condition);
      await this.xmpp.sendError(msg, decision.error);
      return;
    }
    const { out } = decision;
    if (out.payload.kind === 'iscomposing' && !this.chatStateChanged(msg, out)) {
      this.counters.message('x2s', 'duplicate-chat-state');
      return;
    }
    if (this.pendingX2s >= this.cfg.maxPending) {
      this.counters.message('x2s', 'resource-constraint');
      await this.xmpp.sendError(msg, { condition: 'resource-constraint', type: 'wait', text: 'too many messages in flight' });
      return;
    }
    // Remember the IMDN request before sending: the recipient may send its
    // "delivered" notification before its 200 reaches us (RFC 5438 §7.2
    // does not order them). A failed send forgets it again below.
    const imdnId = out.payload.kind === 'text' && out.payload.imdn && msg.id ? out.payload.imdn.messageId : undefined;
    if (imdnId !== undefined) this.outboundImdn.set(imdnId, { stanzaId: msg.id!, xmppSender: msg.from });
    this.pendingX2s += 1;
    let outcome: SipSendOutcome;
    try {
      outcome = await this.sip.send(out, this.cfg.sipTimeoutMs, log);
    } finally {
      this.pendingX2s -= 1;
    }
    const error = this.x2sError(outcome);
    if (out.payload.kind === 'text') {
      // A content message ends composing at the receiver (RFC 3994 §3.3).
      this.lastChatState.delete(chatKey(msg, out));
      this.composingRefresh.cancel(chatKey(msg, out));
    }
    if (error === undefined) {
      this.counters.message('x2s', 'delivered');
      if (out.payload.kind === 'iscomposing') this.keepComposing(msg, out, 0, log);
      if (log.isDebugEnabled()) log.debug('MESSAGE accepted', outcome.kind === 'response' ? { status: outcome.status } : {});
      return;
    }
    if (out.payload.kind === 'iscomposing') this.lastChatState.delete(chatKey(msg, out));
    if (imdnId !== undefined) this.outboundImdn.delete(imdnId);
    this.counters.message('x2s', error.condition);
    log.info('MESSAGE failed', { outcome: outcome.kind, status: outcome.kind === 'response' ? outcome.status : undefined, condition: error.condition });
    // Chat states and receipts are not worth an error to the user (XEP-0085
    // §5.5 notifications are advisory); content messages are.
    if (out.payload.kind === 'text') await this.xmpp.sendError(msg, error);
  }

  private x2sError(outcome: SipSendOutcome): StanzaErrorSpec | undefined {
    switch (outcome.kind) {
      case 'response':
        // 2xx ends it quietly: RFC 3428 §4, 200 is not a read receipt.
        return outcome.status < 300 ? undefined : sipStatusToXmppError(outcome.status, outcome.reason, outcome.contact);
      case 'timeout':
        return { ...timeoutError(), text: 'no answer from the SIP network' };
      case 'too-large':
        // RFC 7572 §6: the X2S gateway SHOULD return <policy-violation/>.
        return { condition: 'policy-violation', type: errorTypeFor('policy-violation'), text: `message too large for SIP pager mode (${outcome.bytes} > ${this.cfg.maxMessageBytes} bytes)` };
      case 'unavailable':
        return { condition: 'remote-server-timeout', type: 'wait', text: 'the SIP network is not reachable from the gateway right now' };
    }
  }

  /** While the state stays "active", re-send it before the receiver's refresh interval runs out. */
  private keepComposing(msg: XmppMessage, out: SipMessageOut, count: number, log: Logger): void {
    const key = chatKey(msg, out);
    if (out.payload.kind !== 'iscomposing' || out.payload.state !== 'active') {
      this.composingRefresh.cancel(key);
      return;
    }
    if (count >= MAX_REFRESHES) return; // the receiver times out to idle by itself
    this.composingRefresh.arm(key, (COMPOSING_REFRESH_S - REFRESH_MARGIN_S) * 1000, () => {
      if (this.lastChatState.get(key) !== 'active') return;
      this.sip.send(out, this.cfg.sipTimeoutMs, log).then(
        (o) => {
          if (this.x2sError(o) === undefined) this.keepComposing(msg, out, count + 1, log);
        },
        () => undefined,
      );
    });
  }

  private chatStateChanged(msg: XmppMessage, out: SipMessageOut): boolean {
    if (out.payload.kind !== 'iscomposing') return true;
    const key = chatKey(msg, out);
    if (this.lastChatState.get(key) === out.payload.state) return false;
    this.lastChatState.set(key, out.payload.state);
    return true;
  }

  // ---- SIP -> XMPP -------------------------------------------------------

  /**
   * Translates a MESSAGE and answers it truthfully (RFC 7247 §7): the stanza
   * is handed to the XMPP server, then a barrier is sent after it. A bounce
   * for the stanza before the barrier returns becomes the mapped SIP error
   * (§2.1); otherwise 202 Accepted, because the message left SIP for another
   * network (RFC 3428 §7). deliveryWindowMs caps the wait; errors that come
   * later are logged and counted.
   */
  async fromSip(msg: SipMessageIn, log: Logger): Promise<SipAnswer> {
    const decision = decideS2x(msg, {
      addresses: this.addresses,
      defaultResource: this.cfg.defaultResource,
      newStanzaId: () => `s2x-${randomUUID()}`,
      outboundImdn: (id) => this.outboundImdn.get(id),
    });
    if (decision.kind === 'reject') {
      this.counters.message('s2x', String(decision.status));
      log.info('MESSAGE refused', { status: decision.status, reason: decision.reason });
      return { status: decision.status, reason: decision.reason, ...(decision.headers ? { headers: decision.headers } : {}) };
    }
    if (decision.kind === 'absorb') {
      this.counters.message('s2x', 'absorbed');
      log.info('MESSAGE accepted without an XMPP stanza', { reason: decision.reason });
      return { status: 200, reason: 'OK' };
    }
    if (this.pendingS2x.size >= this.cfg.maxPending) {
      this.counters.message('s2x', '503');
      return { status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '5' } };
    }
    const { stanza } = decision;
    this.trackComposing(msg, stanza);
    const id = stanza.id!;
    const flowLog = log.child({ stanzaId: id });
    const answered = new Promise<SipAnswer>((resolve) => {
      this.pendingS2x.set(id, { settle: resolve, toFullJid: decision.toFullJid });
    });
    const timer = setTimeout(() => this.settleS2x(id, { status: 202, reason: 'Accepted' }), this.cfg.deliveryWindowMs);
    try {
      await this.xmpp.send(stanza);
    } catch (err) {
      clearTimeout(timer);
      this.pendingS2x.delete(id);
      this.counters.message('s2x', '480');
      flowLog.warn('XMPP side unavailable', { err: String(err) });
      return { status: 480, reason: 'Temporarily Unavailable', headers: { 'Retry-After': '10' } };
    }
    const domain = stanza.to.split('@')[1]?.split('/')[0] ?? '';
    this.xmpp.barrier(domain).then(
      () => this.settleS2x(id, { status: 202, reason: 'Accepted' }),
      () => undefined, // the window timer answers
    );
    const answer = await answered;
    clearTimeout(timer);
    if (answer.status < 300 && decision.imdn) this.inboundImdn.set(id, decision.imdn);
    this.counters.message('s2x', String(answer.status));
    if (flowLog.isDebugEnabled()) flowLog.debug('MESSAGE answered', { status: answer.status });
    return answer;
  }

  /**
   * An "active" isComposing from SIP expires unless refreshed (RFC 3994 §4):
   * then the XMPP user gets the idle mapping, <active/>. Anything else from
   * the same sender to the same user ends the wait.
   */
  private trackComposing(msg: SipMessageIn, stanza: XmppMessage): void {
    const key = `${stanza.from}\u0000${stanza.to}`;
    const c = msg.content;
    if (c.kind !== 'iscomposing' || c.state !== 'active') {
      this.composingExpiry.cancel(key);
      return;
    }
    const refreshS = c.refresh ?? DEFAULT_REFRESH_S;
    this.composingExpiry.arm(key, refreshS * 1000, () => {
      const idle: XmppMessage = { id: `s2x-${randomUUID()}`, from: stanza.from, to: stanza.to, type: 'chat', chatState: 'active' };
      if (stanza.thread !== undefined) idle.thread = stanza.thread;
      this.xmpp.send(idle).then(
        () => this.counters.message('s2x', 'composing-expired'),
        () => undefined,
      );
    });
  }

  /**
   * An error stanza from the XMPP server. Returns true when it answered a
   * pending SIP MESSAGE; otherwise it is a late bounce, logged by the caller.
   */
  xmppError(id: string, error: { condition: string; text?: string }): boolean {
    const pending = this.pendingS2x.get(id);
    if (!pending) return false;
    const mapped = xmppErrorToSipStatus(error, { toFullJid: pending.toFullJid });
    // §2.1 note (1): a 405 must name what is allowed (RFC 3261 §21.4.6).
    const headers = mapped.status === 405 ? { Allow: 'MESSAGE, OPTIONS' } : undefined;
    this.settleS2x(id, { status: mapped.status, reason: mapped.reason, ...(headers ? { headers } : {}) });
    return true;
  }

  private settleS2x(id: string, answer: SipAnswer): void {
    const pending = this.pendingS2x.get(id);
    if (!pending) return;
    this.pendingS2x.delete(id);
    pending.settle(answer);
  }
}

function chatKey(msg: XmppMessage, out: SipMessageOut): string {
  return `${msg.from}\u0000${out.toUri}`;
}
