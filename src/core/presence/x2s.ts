// XMPP user watches a SIP contact: the gateway is the SIP subscriber (RFC
// 8048 §5.2, mapping §3.1 and §3.4). One SUBSCRIBE dialog per (XMPP user,
// SIP contact); the authorization and the dialog are persisted, work on one
// pair runs in order (KeyedQueue), and every timer belongs to its entry.
import type { AddressMapper } from '../address.js';
import { Backoff } from '../backoff.js';
import type { StanzaErrorSpec } from '../errors.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { Logger } from '../../log/logger.js';
import type { PresenceStore, X2sInput, X2sRecord } from '../store/types.js';
import { PresenceCache } from './cache.js';
import { pidfToXmpp } from './map.js';
import type { PresenceDoc, XmppPresence } from './model.js';
import type { PresenceConfig, PresenceCounters, PresenceStanza, PresenceXmppPort, SubscriberPort } from './ports.js';
import type { Subscription, SubscriptionEvent } from './subscriber-port.js';
import { bareJid, resourceOf } from '../jid.js';

/**
 * Final answers that end the authorization. RFC 8048 §5.2.2 names 403, 489
 * and 603; [impl] 404, 410, 484 and 604 say the contact does not exist, and
 * retrying them would leave the XMPP user's request pending for ever.
 */
const PERMANENT = new Set([403, 404, 410, 484, 489, 603, 604]);
/** Mapping §3.4: terminated with these reasons ends the authorization; others resubscribe. */
const FINAL_REASONS = new Set(['rejected', 'noresource', 'invariant']);
const RETRY_INITIAL_MS = 2000;
/** Stored dialogs cleared per write transaction at start-up. */
const RESTORE_BATCH = 500;

interface Entry {
  readonly key: string;
  /** Bare JID of the XMPP user, and the SIP URI they appear as. */
  readonly user: string;
  readonly userUri: string;
  /** AOR of the SIP contact, and its bare JID under the component. */
  readonly contact: string;
  readonly contactJid: string;
  sub?: Subscription;
  timer?: NodeJS.Timeout;
  readonly backoff: Backoff;
  /** The reason of the last terminating NOTIFY, read when the 'ended' event follows. */
  terminated?: { reason?: string; retryAfter?: number };
}

export class X2sPresence {
  private readonly entries = new Map<string, Entry>();
  private readonly queue = new KeyedQueue();
  /** The SIP contact's resources per entry key. */
  readonly cache: PresenceCache;
  private closed = false;

  constructor(
    private readonly cfg: PresenceConfig,
    private readonly addresses: AddressMapper,
    private readonly store: PresenceStore,
    private readonly sip: SubscriberPort,
    private readonly xmpp: PresenceXmppPort,
    private readonly counters: PresenceCounters,
    private readonly log: Logger,
    maxKeys: number,
  ) {
    this.cache = new PresenceCache(maxKeys);
  }

  get tableSizes(): Record<string, number> {
    return { presence_x2s_entries: this.entries.size, presence_x2s_cache: this.cache.size, presence_x2s_queue: this.queue.size };
  }

  /** The entry for a stanza's pair, or the error to answer it with. */
  private entryFor(p: PresenceStanza): Entry | StanzaErrorSpec {
    const user = this.addresses.xmppUserToSip(bareJid(p.from));
    if (!user.ok) return { condition: 'not-allowed', type: 'cancel', text: 'your domain may not use this gateway' };
    const contact = this.addresses.jidToSipUser(bareJid(p.to));
    if (!contact.ok) return { condition: contact.error.xmppCondition, type: 'cancel', text: contact.error.message };
    return this.entry(bareJid(p.from), user.value.aor, contact.value.aor, bareJid(p.to));
  }

  private entry(user: string, userUri: string, contact: string, contactJid: string): Entry {
    const key = `${user}\n${contact}`;
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { key, user, userUri, contact, contactJid, backoff: new Backoff(RETRY_INITIAL_MS, this.cfg.retryMaxDelayMs) };
      this.entries.set(key, e);
    }
    return e;
  }

  private run(e: Entry, what: string, task: () => Promise<void>): Promise<void> {
    return this.queue.run(e.key, task).catch((err: unknown) => {
      this.log.error('presence task failed', { what, user: e.user, contact: e.contact, err: err instanceof Error ? err.stack : String(err) });
    });
  }

  private async put(e: Entry, rec: X2sRecord | undefined, patch: Partial<X2sInput>): Promise<void> {
    const base: X2sInput = rec ?? { xmppUser: e.user, sipContact: e.contact, state: 'subscribing', interested: true };
    const next: X2sInput = { ...base, ...patch };
    for (const k of ['dialog', 'retryAt'] as const) if (k in patch && patch[k] === undefined) delete next[k];
    await this.store.putX2s(next);
  }

  // ---- stanzas from the XMPP user ---------------------------------------

  /** `subscribe` (RFC 8048 §5.2.1, vector C1). */
  async subscribe(p: PresenceStanza, log: Logger): Promise<void> {
    const e = this.entryFor(p);
    if (!('key' in e)) return this.xmpp.sendError(p, e);
    await this.run(e, 'subscribe', async () => {
      const rec = await this.store.getX2s(e.user, e.contact);
      if (rec === undefined && (await this.store.countX2sByUser(e.user)) >= this.cfg.maxPerUser) {
        log.info('subscription refused: per-user cap reached', { cap: this.cfg.maxPerUser });
        this.counters.event('x2s', 'subscribe-over-cap');
        await this.xmpp.sendError(p, { condition: 'policy-violation', type: 'cancel', text: `at most ${this.cfg.maxPerUser} SIP contacts per user` });
        this.dropIfIdle(e); // entries exist only for stored pairs, or a flood of refused requests would grow the table
        return;
      }
      this.counters.event('x2s', 'subscribe');
      if (rec?.state === 'active') {
        // RFC 6121 §3.1.3: a request the contact already approved is answered at once.
        await this.xmpp.send({ from: e.contactJid, to: e.user, type: 'subscribed' });
        await this.answerFromCache(e, e.user, undefined);
      }
      if (rec === undefined || !rec.interested) await this.put(e, rec, { interested: true });
      if (e.sub === undefined) await this.doSubscribe(e);
    });
  }

  /** `unsubscribe` (RFC 8048 §5.2.3, vector C6): in-dialog Expires: 0, then `unsubscribed`. */
  async unsubscribe(p: PresenceStanza, log: Logger): Promise<void> {
    const e = this.entryFor(p);
    if (!('key' in e)) return this.xmpp.sendError(p, e);
    await this.run(e, 'unsubscribe', async () => {
      this.counters.event('x2s', 'unsubscribe');
      const sub = e.sub;
      this.forget(e);
      await this.store.deleteX2s(e.user, e.contact);
      if (sub !== undefined && !sub.ended) await sub.unsubscribe();
      if (log.isDebugEnabled()) log.debug('unsubscribed', { contact: e.contact, hadDialog: sub !== undefined });
      await this.xmpp.send({ from: e.contactJid, to: e.user, type: 'unsubscribed' });
    });
  }

  /**
   * `probe` (mapping §9.2, RFC 6121 §4.3.2, RFC 8048 §7.1, vector C7): no
   * authorization → `unsubscribed`; pending → nothing (an `unsubscribed`
   * would cancel the user's pending request, RFC 6121 §3.2); otherwise the
   * last presence of each resource, from cache or from a fetch. A probe also
   * says the user is online again, so a lapsed dialog is resubscribed.
   */
  async probe(p: PresenceStanza, log: Logger): Promise<void> {
    const e = this.entryFor(p);
    if (!('key' in e)) {
      if (log.isDebugEnabled()) log.debug('probe of an address that is not a SIP user ignored', { reason: e.text });
      return;
    }
    await this.run(e, 'probe', async () => {
      const rec = await this.store.getX2s(e.user, e.contact);
      if (rec === undefined) {
        this.counters.event('x2s', 'probe-unauthorized');
        await this.xmpp.send({ from: e.contactJid, to: bareJid(p.from), type: 'unsubscribed' });
        this.dropIfIdle(e);
        return;
      }
      if (rec.state !== 'active') {
        this.counters.event('x2s', 'probe-pending');
        return;
      }
      this.counters.event('x2s', 'probe');
      if (!rec.interested) await this.put(e, rec, { interested: true });
      if (e.sub === undefined && !this.cache.has(e.key)) {
        const out = await this.sip.fetch({ targetUri: e.contact, fromUri: e.userUri, ...this.proxy() }, this.cfg.fetchTimeoutMs);
        if (out.kind === 'doc' && out.doc !== undefined) this.absorb(e, out.doc);
        else if (log.isDebugEnabled()) log.debug('fetch gave no state', { outcome: out.kind });
      }
      await this.answerFromCache(e, p.from, resourceOf(p.to));
      if (e.sub === undefined && e.timer === undefined) this.retryLater(e, 0);
    });
  }

  /** The user's own presence says whether they are online (RFC 8048 §5.2.2: refresh while online). */
  async userOnline(user: string, online: boolean): Promise<void> {
    for (const rec of await this.store.listX2sByUser(user)) {
      const e = this.fromRecord(rec);
      if (e === undefined) continue;
      void this.run(e, online ? 'user-online' : 'user-offline', async () => {
        const now = await this.store.getX2s(e.user, e.contact);
        if (now === undefined) return;
        if (now.interested !== online) await this.put(e, now, { interested: online });
        // RFC 8048 §5.2.2: a new presence session is like a probe: resubscribe a lapsed dialog.
        if (online && e.sub === undefined && e.timer === undefined) await this.doSubscribe(e);
      });
    }
  }

  // ---- the SIP side -------------------------------------------------------

  private proxy(): { proxy?: string } {
    return this.cfg.proxy ? { proxy: this.cfg.proxy } : {};
  }

  /** SUBSCRIBE in a new dialog; runs inside the pair's queue. */
  private async doSubscribe(e: Entry): Promise<void> {
    if (this.closed) return;
    this.clearTimer(e);
    let mine: Subscription | undefined;
    const outcome = await this.sip.subscribe(
      { targetUri: e.contact, fromUri: e.userUri, expires: this.cfg.expires, ...this.proxy() },
      // Events never come before the outcome, and run after it in the queue.
      (ev) => void this.run(e, `event:${ev.kind}`, () => this.onEvent(e, mine, ev)),
    );
    const rec = await this.store.getX2s(e.user, e.contact);
    if (outcome.kind === 'accepted') {
      mine = outcome.subscription;
      if (rec === undefined) {
        void mine.unsubscribe(); // the user unsubscribed meanwhile
        return;
      }
      e.sub = mine;
      await this.put(e, rec, { dialog: dialogOf(mine), retryAt: undefined });
      this.scheduleRefresh(e, mine, outcome.expires);
      return;
    }
    if (rec === undefined) return;
    if (outcome.kind === 'rejected' && PERMANENT.has(outcome.status)) {
      await this.cancelAuthorization(e, `SUBSCRIBE answered ${outcome.status}`);
      return;
    }
    // 423 (already retried once with Min-Expires), 481, 5xx, timeouts, SIP down: transient (RFC 8048 §5.2.2).
    this.counters.event('x2s', `subscribe-${outcome.kind}`);
    this.log.info('SUBSCRIBE failed; will retry', {
      user: e.user, contact: e.contact, outcome: outcome.kind, status: outcome.kind === 'rejected' ? outcome.status : undefined,
    });
    this.retryLater(e, outcome.kind === 'rejected' && outcome.retryAfter !== undefined ? outcome.retryAfter * 1000 : e.backoff.next());
  }

  private async onEvent(e: Entry, sub: Subscription | undefined, ev: SubscriptionEvent): Promise<void> {
    if (sub === undefined || e.sub !== sub) return; // a dialog this entry no longer uses
    const log = this.log.child({ dir: 'S->X', callId: sub.callId });
    if (ev.kind === 'refused-notify') {
      this.counters.event('s2x', `notify-refused-${ev.status}`);
      log.warn('NOTIFY refused', { status: ev.status, why: ev.why });
      return;
    }
    if (ev.kind === 'ended') return this.onEnded(e, ev.why, log);
    const rec = await this.store.getX2s(e.user, e.contact);
    if (rec === undefined) return;
    this.counters.event('s2x', `notify-${ev.state}`);
    if (ev.state === 'pending') {
      // RFC 8048 §5.2.1 (C2): answer 200 (the adapter did) and send no stanza.
      if (rec.state === 'subscribing') await this.put(e, rec, { state: 'pending' });
      return;
    }
    if (ev.state === 'terminated') {
      e.terminated = { ...(ev.reason ? { reason: ev.reason } : {}), ...(ev.retryAfter !== undefined ? { retryAfter: ev.retryAfter } : {}) };
      if (ev.doc !== undefined && rec.state === 'active') await this.deliver(e, ev.doc);
      return;
    }
    e.backoff.reset();
    // A NOTIFY may shorten the subscription (RFC 6665 §4.1.3); store and re-plan only on a change
    // (its expires is in whole seconds counted from now, so the same lifetime moves by up to a second).
    const stored = rec.dialog;
    if (rec.state !== 'active' || stored?.dialogId !== sub.dialogId || Math.abs(stored.expiresAt - sub.expiresAt) > 2000) {
      await this.put(e, rec, { state: 'active', dialog: dialogOf(sub) });
      this.scheduleRefresh(e, sub);
    }
    if (rec.state !== 'active') {
      // RFC 8048 §5.2.1 (C3, C4): the first active NOTIFY is the approval.
      log.info('SIP contact approved the subscription', { user: e.user, contact: e.contact });
      await this.xmpp.send({ from: e.contactJid, to: e.user, type: 'subscribed' });
    }
    // A NOTIFY without a body says nothing of the state (RFC 8048 §5.2.1: unknown).
    if (ev.doc !== undefined) await this.deliver(e, ev.doc);
  }

  private async onEnded(e: Entry, why: string, log: Logger): Promise<void> {
    e.sub = undefined;
    this.clearTimer(e);
    const rec = await this.store.getX2s(e.user, e.contact);
    if (rec === undefined) return;
    await this.put(e, rec, { dialog: undefined });
    const t = e.terminated;
    e.terminated = undefined;
    if (why === 'terminated' && t?.reason !== undefined && FINAL_REASONS.has(t.reason)) {
      await this.cancelAuthorization(e, `terminated;reason=${t.reason}`);
      return;
    }
    if (!rec.interested) {
      // The user is offline: let it lapse until their next presence or probe (RFC 8048 §5.2.2).
      this.cache.delete(e.key);
      if (log.isDebugEnabled()) log.debug('dialog lapsed while the user is offline', { why });
      return;
    }
    // RFC 6665 §4.1.3: deactivated, timeout or no reason → at once; probation, giveup → after retry-after.
    const now = why !== 'terminated' || t?.reason === undefined || t.reason === 'deactivated' || t.reason === 'timeout';
    const delay = t?.retryAfter !== undefined ? t.retryAfter * 1000 : now && e.backoff.attempts === 0 ? 0 : e.backoff.next();
    log.info('subscription ended; resubscribing', { user: e.user, contact: e.contact, why, reason: t?.reason, delayMs: delay });
    if (delay === 0) e.backoff.next(); // a notifier that ends every dialog at once gets backed off next time
    this.retryLater(e, delay);
  }

  /** Maps a PIDF to the contact's resources and sends what changed to the user's bare JID. */
  private async deliver(e: Entry, doc: PresenceDoc): Promise<void> {
    for (const p of this.absorb(e, doc)) {
      await this.xmpp.send({
        from: `${e.contactJid}/${p.resource!}`, to: e.user, presence: p, ...(p.available ? {} : { type: 'unavailable' as const }),
      });
    }
  }

  /**
   * Updates the cache from a full-state PIDF (RFC 3856 §6.6: each NOTIFY
   * carries the whole state) and returns the presences that changed,
   * including resources that vanished (→ unavailable). Zero tuples → nothing
   * (RFC 3922 §5.2.11, vector C16).
   */
  private absorb(e: Entry, doc: PresenceDoc): XmppPresence[] {
    const mapped = pidfToXmpp(doc);
    if (mapped.length === 0) return [];
    const changed: XmppPresence[] = [];
    const seen = new Set<string>();
    for (const m of mapped) {
      const p: XmppPresence = { ...m, resource: m.resource ?? this.cfg.defaultResource };
      if (seen.has(p.resource!)) continue;
      seen.add(p.resource!);
      if (this.cache.put(e.key, p)) changed.push(p);
    }
    for (const c of this.cache.available(e.key)) {
      if (seen.has(c.presence.resource!)) continue;
      const gone: XmppPresence = { resource: c.presence.resource!, available: false };
      this.cache.put(e.key, gone);
      changed.push(gone);
    }
    return changed;
  }

  /** RFC 6121 §4.3.2: the last presence of each resource, or unavailable with a delay stamp. */
  private async answerFromCache(e: Entry, to: string, resource: string | undefined): Promise<void> {
    const all = this.cache.get(e.key).filter((c) => resource === undefined || c.presence.resource === resource);
    const available = all.filter((c) => c.presence.available);
    for (const c of available) await this.xmpp.send({ from: `${e.contactJid}/${c.presence.resource!}`, to, presence: c.presence });
    if (available.length > 0) return;
    const last = all.reduce((t, c) => Math.max(t, c.at), 0);
    await this.xmpp.send({
      from: resource === undefined ? e.contactJid : `${e.contactJid}/${resource}`, to, type: 'unavailable',
      ...(last > 0 ? { delay: new Date(last) } : {}),
    });
  }

  /** RFC 8048 §5.2.2: the authorization is over; tell the user (C5). */
  private async cancelAuthorization(e: Entry, why: string): Promise<void> {
    this.log.info('SIP contact cancelled the authorization', { user: e.user, contact: e.contact, why });
    this.counters.event('x2s', 'authorization-cancelled');
    await this.store.deleteX2s(e.user, e.contact);
    for (const c of this.cache.available(e.key)) {
      await this.xmpp.send({ from: `${e.contactJid}/${c.presence.resource!}`, to: e.user, type: 'unavailable' });
    }
    const sub = e.sub;
    this.forget(e);
    if (sub !== undefined && !sub.ended) void sub.unsubscribe();
    await this.xmpp.send({ from: e.contactJid, to: e.user, type: 'unsubscribed' });
  }

  // ---- timers -------------------------------------------------------------

  /** Refresh "sufficiently in advance" (RFC 8048 §5.2.2): a tenth of the interval, 5 s to 5 min, at most half. */
  private scheduleRefresh(e: Entry, sub: Subscription, grantedSec?: number): void {
    this.clearTimer(e);
    const left = sub.expiresAt - Date.now();
    const interval = (grantedSec ?? Math.max(1, left / 1000)) * 1000;
    const margin = Math.min(Math.max(interval / 10, 5000), 300_000, interval / 2);
    this.arm(e, Math.max(0, left - margin), 'refresh', () => this.refresh(e, sub));
  }

  private async refresh(e: Entry, sub: Subscription): Promise<void> {
    if (e.sub !== sub || sub.ended || this.closed) return;
    const rec = await this.store.getX2s(e.user, e.contact);
    if (rec === undefined || !rec.interested) return; // offline user: let it lapse (RFC 8048 §5.2.2)
    const r = await sub.refresh(this.cfg.expires);
    if (e.sub !== sub) return;
    if (r.kind === 'refreshed') {
      await this.put(e, rec, { dialog: dialogOf(sub) });
      this.scheduleRefresh(e, sub, r.expires);
    } else if (r.kind === 'rejected' && PERMANENT.has(r.status)) {
      await this.cancelAuthorization(e, `refresh answered ${r.status}`);
    } else if (r.kind !== 'ended') {
      // Still valid until expiresAt (RFC 6665 §4.1.2.2): try again halfway there; expiry resubscribes.
      const left = sub.expiresAt - Date.now();
      if (left > 2000) this.arm(e, left / 2, 'refresh', () => this.refresh(e, sub));
    }
  }

  private retryLater(e: Entry, delayMs: number): void {
    this.clearTimer(e);
    if (this.closed) return;
    this.arm(e, delayMs, 'resubscribe', async () => {
      const rec = await this.store.getX2s(e.user, e.contact);
      if (rec !== undefined && rec.interested && e.sub === undefined) await this.doSubscribe(e);
    });
  }

  /** The entry's one timer: `task` runs in the pair's queue; a pending timer never keeps a stopping process alive. */
  private arm(e: Entry, delayMs: number, what: string, task: () => Promise<void>): void {
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.run(e, what, task);
    }, delayMs);
    e.timer.unref();
  }

  private clearTimer(e: Entry): void {
    if (e.timer !== undefined) clearTimeout(e.timer);
    e.timer = undefined;
  }

  private forget(e: Entry): void {
    this.clearTimer(e);
    e.sub = undefined;
    this.cache.delete(e.key);
    this.entries.delete(e.key);
  }

  private dropIfIdle(e: Entry): void {
    if (e.sub === undefined && e.timer === undefined) this.entries.delete(e.key);
  }

  // ---- restart --------------------------------------------------------------

  /** The entry of a stored record, or undefined when the record no longer maps (configuration changed). */
  private fromRecord(rec: X2sRecord): Entry | undefined {
    const user = this.addresses.xmppUserToSip(rec.xmppUser);
    const contact = this.addresses.sipUserToJid(rec.sipContact);
    if (!user.ok || !contact.ok) return undefined;
    return this.entry(rec.xmppUser, user.value.aor, rec.sipContact, contact.value.bare);
  }

  /**
   * Start-up (issue 4, item 5): dialogs of the previous run are gone with
   * drachtio's connection, so each stored one is forgotten and, while its
   * user is interested, resubscribed through `pace` (rate-limited).
   */
  async restore(pace: (task: () => void) => void): Promise<number> {
    let n = 0;
    const stale: X2sInput[] = [];
    const flush = async (): Promise<void> => {
      if (stale.length > 0) await this.store.putX2sMany(stale.splice(0));
      await new Promise((r) => setImmediate(r)); // let the gateway serve traffic between pages
    };
    for await (const rec of this.store.listX2s()) {
      const e = this.fromRecord(rec);
      if (e === undefined) {
        this.log.warn('stored subscription no longer maps; left alone', { user: rec.xmppUser, contact: rec.sipContact });
        continue;
      }
      if (rec.dialog !== undefined) {
        const { dialog: _gone, ...rest } = rec;
        stale.push(rest);
        if (stale.length >= RESTORE_BATCH) await flush();
      }
      if (!rec.interested) continue;
      n += 1;
      pace(() => void this.run(e, 'restore', async () => {
        if (e.sub === undefined) await this.doSubscribe(e);
      }));
    }
    await flush();
    return n;
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) this.clearTimer(e);
    this.entries.clear();
    this.cache.clear();
  }
}

function dialogOf(sub: Subscription): NonNullable<X2sInput['dialog']> {
  return {
    dialogId: sub.dialogId, callId: sub.callId, localTag: sub.localTag, expiresAt: Math.round(sub.expiresAt),
    ...(sub.remoteTag !== undefined ? { remoteTag: sub.remoteTag } : {}),
  };
}
