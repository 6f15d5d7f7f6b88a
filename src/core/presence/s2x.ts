// SIP user watches an XMPP user: the gateway is the notifier (RFC 8048
// §5.3, mapping §3.2). The SIP notifier adapter calls these handlers; the
// XMPP side tells us of `subscribed`, `unsubscribed` and presence addressed
// to the SIP user's JID.
//
// Privacy (RFC 8048 §8.2): presence is cached per (SIP watcher, XMPP user)
// and only from stanzas the XMPP server addressed to that watcher's JID, so
// the server's own roster decides what each watcher may see; a NOTIFY with a
// body goes only to a watcher whose authorization the user granted.
import type { AddressMapper } from '../address.js';
import { BoundedMap } from '../bounded-map.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { Logger } from '../../log/logger.js';
import type { PresenceStore, S2xInput, S2xRecord } from '../store/types.js';
import { PresenceCache } from './cache.js';
import { xmppToPidf } from './map.js';
import type { PresenceDoc, XmppPresence } from './model.js';
import type { FinalDoc, Watcher, WatcherDecision, WatcherHandlers, WatcherRequest } from './notifier-port.js';
import type { PresenceConfig, PresenceCounters, PresenceStanza, PresenceXmppPort } from './ports.js';
import { bareJid, resourceOf } from '../jid.js';

interface Pair {
  readonly key: string;
  /** The SIP watcher: AOR and JID under the component. */
  readonly watcherAor: string;
  readonly watcherJid: string;
  /** The watched XMPP user: bare JID and the pres: URI of PIDF's entity (C13). */
  readonly user: string;
  readonly entity: string;
}

const REFUSE_WATCHER = { accept: false, status: 403, reason: 'Forbidden' } as const;

export class S2xPresence implements WatcherHandlers {
  /** Live watchers (SUBSCRIBE dialogs) per pair. */
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** The XMPP user's resources as the server sent them to the watcher's JID, per pair. */
  readonly cache: PresenceCache;
  /** Fetches waiting for the answer to a probe, per pair. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly queue = new KeyedQueue();
  /** The body of the last active NOTIFY per watcher (WeakMap: forgotten with the watcher). */
  private readonly lastSent = new WeakMap<Watcher, string>();
  /** The state each accepted SUBSCRIBE was given, until onWatcher (by Call-ID). */
  private readonly decided: BoundedMap<string, { state: 'pending' | 'active'; body: string }>;

  constructor(
    private readonly cfg: PresenceConfig,
    private readonly addresses: AddressMapper,
    private readonly store: PresenceStore,
    private readonly xmpp: PresenceXmppPort,
    private readonly counters: PresenceCounters,
    private readonly log: Logger,
    maxKeys: number,
  ) {
    this.cache = new PresenceCache(maxKeys);
    this.decided = new BoundedMap(maxKeys, 60_000);
  }

  get tableSizes(): Record<string, number> {
    let watchers = 0;
    for (const set of this.watchers.values()) watchers += set.size;
    return { presence_s2x_watchers: watchers, presence_s2x_cache: this.cache.size, presence_s2x_fetches: this.waiting.size };
  }

  private pairOf(watcherUri: string, targetUri: string): Pair | undefined {
    const watcher = this.addresses.sipUserToJid(watcherUri);
    const user = this.addresses.sipToXmppUser(targetUri);
    if (!watcher.ok || !user.ok) return undefined;
    return this.pair(watcher.value.bare, user.value.bare);
  }

  /** From the XMPP side: watcher JID (under the component) and user JID. */
  private pairOfJids(watcherJid: string, user: string): Pair | undefined {
    return this.pair(bareJid(watcherJid), bareJid(user));
  }

  private pair(watcherJid: string, user: string): Pair | undefined {
    const watcher = this.addresses.jidToSipUser(watcherJid);
    const sipUser = this.addresses.xmppUserToSip(user);
    if (!watcher.ok || !sipUser.ok) return undefined;
    return {
      key: `${watcherJid}\n${user}`, watcherJid, user, watcherAor: watcher.value.aor,
      entity: `pres:${sipUser.value.aor.slice('sip:'.length)}`,
    };
  }

  private async put(p: Pair, rec: S2xRecord | undefined, patch: Partial<S2xInput>): Promise<void> {
    const next: S2xInput = { ...(rec ?? { sipWatcher: p.watcherAor, xmppUser: p.user, authorization: 'pending' }), ...patch };
    if ('dialog' in patch && patch.dialog === undefined) delete next.dialog;
    await this.store.putS2x(next);
  }

  /** The PIDF of what the watcher may see: one tuple per resource (RFC 8048 §6.2, C13, C14). */
  private doc(p: Pair): PresenceDoc | undefined {
    const cached = this.cache.get(p.key);
    return cached.length === 0 ? undefined : xmppToPidf(p.entity, cached.map((c) => c.presence));
  }

  /** Every resource closed (RFC 8048 §5.3.3, C11). */
  private closedDoc(p: Pair): PresenceDoc {
    const cached = this.cache.get(p.key);
    const closed: XmppPresence[] = cached.length === 0
      ? [{ available: false }]
      : cached.map((c) => ({ ...(c.presence.resource !== undefined ? { resource: c.presence.resource } : {}), available: false }));
    return xmppToPidf(p.entity, closed);
  }

  // ---- WatcherHandlers (the SIP notifier) ----------------------------------

  /** A new SUBSCRIBE (RFC 8048 §5.3.1, C8) or fetch (§7.2, C12). */
  async onSubscribe(req: WatcherRequest): Promise<WatcherDecision> {
    const watcher = this.addresses.sipUserToJid(req.watcherUri);
    if (!watcher.ok) return REFUSE_WATCHER;
    const user = this.addresses.sipToXmppUser(req.targetUri);
    if (!user.ok) return { accept: false, status: 404, reason: 'Not Found' };
    const p = this.pair(watcher.value.bare, user.value.bare);
    if (p === undefined) return REFUSE_WATCHER;
    if (req.isFetch) return { accept: true };
    return this.queue.run(p.key, () => this.decide(p, req));
  }

  private async decide(p: Pair, req: WatcherRequest): Promise<WatcherDecision> {
    const rec = await this.store.getS2x(p.watcherAor, p.user);
    if (rec === undefined && (await this.store.countS2xByWatcher(p.watcherAor)) >= this.cfg.maxPerUser) {
      this.counters.event('s2x', 'subscribe-over-cap');
      return { accept: false, status: 403, reason: 'Subscription Limit Reached' };
    }
    this.counters.event('s2x', 'subscribe');
    if (rec?.authorization === 'granted') {
      // Authorized before (e.g. a watcher re-subscribing after our restart): active at once,
      // with the state if known, else a probe fills the cache and a NOTIFY follows.
      if (!this.cache.has(p.key)) await this.sendProbe(p);
      const doc = this.doc(p);
      this.decided.set(req.callId, { state: 'active', body: doc === undefined ? '' : JSON.stringify(doc) });
      return { accept: true, state: 'active', ...(doc ? { doc } : {}) };
    }
    try {
      // RFC 8048 §5.3.1: ask the XMPP user; answer the SUBSCRIBE without waiting (RFC 6665 §4.2.1.1).
      await this.xmpp.send({ from: p.watcherJid, to: p.user, type: 'subscribe' });
    } catch (err) {
      this.log.warn('could not send the subscription request to XMPP', { user: p.user, err: String(err) });
      return { accept: false, status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '30' } };
    }
    await this.put(p, rec, { authorization: 'pending' });
    this.decided.set(req.callId, { state: 'pending', body: '' });
    return { accept: true, state: 'pending' };
  }

  onWatcher(w: Watcher): void {
    const p = this.pairOf(w.watcherUri, w.targetUri);
    if (p === undefined) return;
    let set = this.watchers.get(p.key);
    if (set === undefined) this.watchers.set(p.key, (set = new Set()));
    set.add(w);
    const decided = this.decided.get(w.callId);
    this.decided.delete(w.callId);
    void this.task(p, 'watcher', async () => {
      const rec = await this.store.getS2x(p.watcherAor, p.user);
      await this.put(p, rec, { dialog: dialogOf(w) });
      // `subscribed` may have come between the decision and now.
      if (decided?.state === 'active') this.lastSent.set(w, decided.body);
      if (decided?.state === 'pending' && rec?.authorization === 'granted') await this.notifyActive(w, this.doc(p));
    });
  }

  /** RFC 8048 §5.3.2: a refresh gets the state if there is meaningful state, else the last NOTIFY again. */
  onRefresh(w: Watcher): void {
    const p = this.pairOf(w.watcherUri, w.targetUri);
    if (p === undefined) return;
    const doc = this.doc(p);
    void this.task(p, 'refresh', async () => {
      const rec = await this.store.getS2x(p.watcherAor, p.user);
      if (rec !== undefined) await this.put(p, rec, { dialog: dialogOf(w) });
      // Always sent (RFC 6665 §4.2.1.2: a refresh is followed by a NOTIFY), so not deduplicated.
      if (rec?.authorization === 'granted' && doc !== undefined) await this.notifyActive(w, doc, true);
    });
  }

  /** A fetch: from cache, else probe and wait (RFC 8048 §7.2, C12). */
  async onFetch(req: WatcherRequest): Promise<PresenceDoc | undefined> {
    const p = this.pairOf(req.watcherUri, req.targetUri);
    if (p === undefined) return undefined;
    this.counters.event('s2x', 'fetch');
    if (!this.cache.has(p.key)) {
      const answered = new Promise<void>((resolve) => {
        let set = this.waiting.get(p.key);
        if (set === undefined) this.waiting.set(p.key, (set = new Set()));
        set.add(resolve);
        setTimeout(resolve, this.cfg.fetchTimeoutMs).unref();
      });
      await this.sendProbe(p);
      await answered;
    }
    return this.doc(p);
  }

  /** Expires: 0 in the dialog (RFC 8048 §5.3.3, C11): closed PIDF, and `unavailable` to the user. */
  onUnsubscribe(w: Watcher): FinalDoc {
    return this.ended(w, 'unsubscribe');
  }

  onExpire(w: Watcher): FinalDoc {
    return this.ended(w, 'expire');
  }

  onGone(w: Watcher): void {
    const p = this.unwatch(w);
    if (p !== undefined) void this.clearDialog(p, w);
  }

  private ended(w: Watcher, what: string): FinalDoc {
    const p = this.unwatch(w);
    if (p === undefined) return undefined;
    this.counters.event('s2x', what);
    const doc = this.closedDoc(p);
    void this.clearDialog(p, w);
    void this.xmpp.send({ from: p.watcherJid, to: p.user, type: 'unavailable' })
      .catch((err: unknown) => this.log.warn('could not send unavailable', { user: p.user, err: String(err) }));
    return doc;
  }

  private unwatch(w: Watcher): Pair | undefined {
    const p = this.pairOf(w.watcherUri, w.targetUri);
    if (p === undefined) return undefined;
    const set = this.watchers.get(p.key);
    set?.delete(w);
    if (set?.size === 0) this.watchers.delete(p.key);
    return p;
  }

  private clearDialog(p: Pair, w: Watcher): Promise<void> {
    return this.task(p, 'clear-dialog', async () => {
      const rec = await this.store.getS2x(p.watcherAor, p.user);
      if (rec?.dialog?.dialogId === w.dialogId) await this.put(p, rec, { dialog: undefined });
    });
  }

  // ---- from XMPP -------------------------------------------------------------

  /** `subscribed` (C9): authorization granted → NOTIFY active (empty until presence comes). */
  async subscribed(s: PresenceStanza): Promise<void> {
    const p = this.pairOfJids(s.to, s.from);
    if (p === undefined) return;
    this.counters.event('x2s', 'subscribed');
    await this.task(p, 'subscribed', async () => {
      const rec = await this.store.getS2x(p.watcherAor, p.user);
      if (rec?.authorization !== 'granted') await this.put(p, rec, { authorization: 'granted' });
      const doc = this.doc(p);
      for (const w of this.live(p)) void this.notifyActive(w, doc);
    });
  }

  /** `unsubscribed` (C10): authorization refused or revoked → terminated;reason=rejected. */
  async unsubscribed(s: PresenceStanza): Promise<void> {
    const p = this.pairOfJids(s.to, s.from);
    if (p === undefined) return;
    this.counters.event('x2s', 'unsubscribed');
    await this.task(p, 'unsubscribed', async () => {
      await this.store.deleteS2x(p.watcherAor, p.user);
      this.cache.delete(p.key);
      const ws = this.live(p);
      this.watchers.delete(p.key);
      await Promise.all(ws.map((w) => w.terminate('rejected')));
    });
  }

  /** Available or unavailable presence of one resource (C13, C14) → NOTIFY to authorized watchers. */
  async presence(s: PresenceStanza): Promise<void> {
    const p = this.pairOfJids(s.to, s.from);
    if (p === undefined) return;
    const changed = this.absorb(p.key, s);
    for (const done of this.waiting.get(p.key) ?? []) done();
    this.waiting.delete(p.key);
    if (!changed || this.live(p).length === 0) return;
    await this.task(p, 'presence', async () => {
      const rec = await this.store.getS2x(p.watcherAor, p.user);
      if (rec?.authorization !== 'granted') return;
      this.counters.event('x2s', 'presence-notified');
      const doc = this.doc(p);
      for (const w of this.live(p)) void this.notifyActive(w, doc);
    });
  }

  /**
   * NOTIFY active unless this watcher already got exactly this (a `subscribed`
   * and the presence right behind it would otherwise send the same body twice).
   */
  private notifyActive(w: Watcher, doc: PresenceDoc | undefined, always = false): Promise<unknown> {
    const body = doc === undefined ? '' : JSON.stringify(doc);
    if (!always && this.lastSent.get(w) === body) return Promise.resolve();
    this.lastSent.set(w, body);
    return w.notify({ state: 'active' }, doc);
  }

  /**
   * Records one presence. Presence from the bare JID speaks for the whole
   * user: unavailable is the server's "no available resources" (RFC 6121
   * §4.3.2), so every resource is closed and no tuple is kept for the bare
   * JID once a resource is known.
   */
  private absorb(key: string, s: PresenceStanza): boolean {
    const resource = resourceOf(s.from);
    const presence: XmppPresence = { ...(s.presence ?? { available: s.type !== 'unavailable' }) };
    delete presence.resource;
    if (resource !== undefined) {
      const dropped = this.cache.remove(key, undefined);
      return this.cache.put(key, { ...presence, resource }) || dropped;
    }
    const resources = this.cache.get(key).filter((c) => c.presence.resource !== undefined);
    if (presence.available || resources.length === 0) return this.cache.put(key, presence);
    let changed = false;
    for (const c of resources) {
      if (c.presence.available) changed = this.cache.put(key, { resource: c.presence.resource!, available: false }) || changed;
    }
    return changed;
  }

  private live(p: Pair): Watcher[] {
    return [...(this.watchers.get(p.key) ?? [])].filter((w) => w.alive);
  }

  private sendProbe(p: Pair): Promise<void> {
    return this.xmpp.send({ from: p.watcherJid, to: p.user, type: 'probe' })
      .catch((err: unknown) => {
        this.log.warn('could not send probe', { user: p.user, err: String(err) });
      });
  }

  /** Store work on one pair runs in order (a late onWatcher must not revive a record `unsubscribed` deleted). */
  private task(p: Pair, what: string, fn: () => Promise<void>): Promise<void> {
    return this.queue.run(p.key, fn).catch((err: unknown) => {
      this.log.error('presence task failed', { what, err: err instanceof Error ? err.stack : String(err) });
    });
  }

  // ---- restart -----------------------------------------------------------------

  /**
   * Start-up: drachtio's dialogs did not survive, so stored ones are
   * forgotten (a watcher's next refresh gets 481 and it subscribes anew);
   * the XMPP users that had watchers are probed through `pace` so that the
   * new SUBSCRIBEs find their state at once.
   */
  async restore(pace: (task: () => void) => void): Promise<number> {
    let n = 0;
    const stale: S2xInput[] = [];
    const flush = async (): Promise<void> => {
      if (stale.length > 0) await this.store.putS2xMany(stale.splice(0));
      await new Promise((r) => setImmediate(r)); // let the gateway serve traffic between pages
    };
    for await (const rec of this.store.listS2x()) {
      if (rec.dialog === undefined) continue;
      const { dialog: _gone, ...rest } = rec;
      stale.push(rest);
      if (stale.length >= 500) await flush();
      const watcher = this.addresses.sipUserToJid(rec.sipWatcher);
      const p = watcher.ok ? this.pair(watcher.value.bare, rec.xmppUser) : undefined;
      if (p === undefined || rec.authorization !== 'granted') continue;
      n += 1;
      pace(() => void this.sendProbe(p));
    }
    await flush();
    return n;
  }

  close(): void {
    this.watchers.clear();
    this.cache.clear();
    for (const set of this.waiting.values()) for (const done of set) done();
    this.waiting.clear();
  }
}

function dialogOf(w: Watcher): NonNullable<S2xInput['dialog']> {
  return {
    dialogId: w.dialogId, callId: w.callId, remoteTag: w.remoteTag, localTag: w.localTag,
    expiresAt: Math.round(w.expiresAt), watcherContact: w.contactUri,
  };
}
