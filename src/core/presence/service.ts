// Presence in both directions (RFC 8048): routes presence stanzas to the two
// halves (x2s: the gateway subscribes to SIP contacts for XMPP users; s2x:
// the gateway notifies SIP watchers of XMPP users), owns the start-up
// re-establishment and the XMPP users' online state.
//
// Which half a stanza belongs to (RFC 6121 §3): `subscribe`, `unsubscribe`
// and `probe` from an XMPP user are about the SIP contact's presence (x2s);
// `subscribed` and `unsubscribed` answer a SIP watcher (s2x); available and
// unavailable presence feeds the SIP watchers (s2x) and says whether the
// user is online, which decides whether x2s dialogs are refreshed (x2s).
import type { AddressMapper } from '../address.js';
import { Pacer } from '../pacer.js';
import type { Logger } from '../../log/logger.js';
import type { PresenceStore } from '../store/types.js';
import type { WatcherHandlers } from './notifier-port.js';
import type { PresenceConfig, PresenceCounters, PresenceStanza, PresenceXmppPort, SubscriberPort } from './ports.js';
import { S2xPresence } from './s2x.js';
import { X2sPresence } from './x2s.js';
import { bareJid, resourceOf } from '../jid.js';

export class PresenceService {
  readonly x2s: X2sPresence;
  readonly s2x: S2xPresence;
  /** Available resources of XMPP users, as their presence reached us. */
  private readonly online = new Map<string, Set<string>>();
  /** Start-up work is paced per side: resubscriptions to the SIP proxy, probes to the XMPP server. */
  private readonly sipPacer: Pacer;
  private readonly xmppPacer: Pacer;
  private readonly maxOnline: number;

  constructor(
    cfg: PresenceConfig & { maxSubscriptions: number },
    addresses: AddressMapper,
    private readonly store: PresenceStore,
    sip: SubscriberPort,
    xmpp: PresenceXmppPort,
    counters: PresenceCounters,
    private readonly log: Logger,
  ) {
    this.x2s = new X2sPresence(cfg, addresses, store, sip, xmpp, counters, log, cfg.maxSubscriptions);
    this.s2x = new S2xPresence(cfg, addresses, store, xmpp, counters, log, cfg.maxSubscriptions);
    this.sipPacer = new Pacer(cfg.restoreRate);
    this.xmppPacer = new Pacer(cfg.restoreRate);
    this.maxOnline = cfg.maxSubscriptions;
  }

  /** What the SIP notifier calls. */
  get handlers(): WatcherHandlers {
    return this.s2x;
  }

  get tableSizes(): Record<string, number> {
    return { ...this.x2s.tableSizes, ...this.s2x.tableSizes, presence_online_users: this.online.size, presence_restore_queue: this.sipPacer.pending + this.xmppPacer.pending };
  }

  async fromXmpp(p: PresenceStanza, log: Logger): Promise<void> {
    switch (p.type) {
      case 'subscribe': return this.x2s.subscribe(p, log);
      case 'unsubscribe': return this.x2s.unsubscribe(p, log);
      case 'probe': return this.x2s.probe(p, log);
      case 'subscribed': return this.s2x.subscribed(p);
      case 'unsubscribed': return this.s2x.unsubscribed(p);
      default:
        this.noteOnline(p);
        return this.s2x.presence(p);
    }
  }

  /** Tracks the user's available resources; the first and the last one change x2s interest. */
  private noteOnline(p: PresenceStanza): void {
    const user = bareJid(p.from);
    const resource = resourceOf(p.from) ?? '';
    const set = this.online.get(user);
    if (p.type !== 'unavailable') {
      if (set !== undefined) {
        set.add(resource);
        return;
      }
      if (this.online.size >= this.maxOnline) return; // untracked users stay "interested"
      this.online.set(user, new Set([resource]));
      void this.x2s.userOnline(user, true).catch((err: unknown) => this.log.error('online update failed', { err: String(err) }));
      return;
    }
    if (set === undefined) return;
    set.delete(resource);
    if (set.size > 0) return;
    this.online.delete(user);
    void this.x2s.userOnline(user, false).catch((err: unknown) => this.log.error('offline update failed', { err: String(err) }));
  }

  /** Re-establishes what the store holds (issue 4, item 5); resolves once everything is queued. */
  async restore(): Promise<{ resubscribes: number; probes: number }> {
    // Both sides at once: different tables, different servers, each paced on its own.
    const [resubscribes, probes] = await Promise.all([
      this.x2s.restore((task) => this.sipPacer.add(task)),
      this.s2x.restore((task) => this.xmppPacer.add(task)),
    ]);
    this.log.info('presence state restored', { resubscribes, probes });
    return { resubscribes, probes };
  }

  close(): void {
    this.sipPacer.close();
    this.xmppPacer.close();
    this.x2s.close();
    this.s2x.close();
    this.online.clear();
  }
}
