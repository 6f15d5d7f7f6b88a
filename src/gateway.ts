// The assembled gateway: both links, their routers, health and metrics.
// main.ts owns the process (signals, exit codes); tests start this directly
// or spawn main.ts.
import { mkdirSync, readFileSync } from 'node:fs';
import { Health } from './core/health.js';
import { InFlight } from './core/inflight.js';
import type { GatewayConfig } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { Metrics } from './http/metrics.js';
import { HttpEndpoint } from './http/server.js';
import { XmppLink } from './xmpp/link.js';
import { StanzaRouter } from './xmpp/router.js';
import { DiscoRegistry, NS_DISCO_INFO, NS_DISCO_ITEMS } from './xmpp/disco.js';
import { NS_PING, NS_VERSION, pingHandler, versionHandler } from './xmpp/service-iq.js';
import { SipLink } from './sip/link.js';
import { SipRouter } from './sip/router.js';
import { SOFTWARE } from './version.js';
import { AddressMapper } from './core/address.js';
import { ImService } from './core/im/service.js';
import { XmppImPort } from './xmpp/im-port.js';
import { NS_CHATSTATES, NS_RECEIPTS, readMessage, readStanzaError } from './xmpp/im.js';
import { SipImPort } from './sip/im-send.js';
import { ACCEPTED_TYPES, readSipMessage } from './sip/im-read.js';
import { PresenceService } from './core/presence/service.js';
import type { PresenceStore } from './core/store/types.js';
import { openSqliteStore } from './core/store/sqlite.js';
import { PresenceSubscriber } from './sip/presence-uac/index.js';
import { PresenceNotifier } from './sip/presence-uas.js';
import { XmppPresencePort } from './xmpp/presence-port.js';
import { readPresence } from './xmpp/presence.js';
import { NS_CAPS } from './core/caps.js';
import { ChatService } from './core/chat/service.js';
import { MsrpEndpoint } from './msrp/endpoint.js';
import { MsrpChatMedia } from './msrp/chat-media.js';
import { SipChatInvite } from './sip/chat-invite.js';

export class Gateway {
  readonly health = new Health();
  readonly metrics = new Metrics();
  readonly inflight = new InFlight();
  readonly xmpp: XmppLink;
  readonly sip: SipLink;
  readonly stanzas: StanzaRouter;
  readonly sipRouter: SipRouter;
  readonly disco: DiscoRegistry;
  readonly addresses: AddressMapper;
  readonly im: ImService;
  readonly chat: ChatService;
  readonly msrp: MsrpEndpoint;
  private readonly chatInvite: SipChatInvite;
  /** Presence (RFC 8048); set up in start() once the store is open, inbound drachtio mode only. */
  presence: PresenceService | undefined;
  private store: PresenceStore | undefined;
  private subscriber: PresenceSubscriber | undefined;
  private notifier: PresenceNotifier | undefined;
  private readonly http: HttpEndpoint;
  private httpPortBound: number | undefined;
  private stopped: Promise<void> | undefined;

  constructor(readonly cfg: GatewayConfig, private readonly log: Logger) {
    this.http = new HttpEndpoint(this.health, this.metrics, log.child({ module: 'http' }));
    this.xmpp = new XmppLink(cfg.xmpp, log.child({ module: 'xmpp' }), this.metrics, this.health);
    this.stanzas = new StanzaRouter(this.xmpp, log.child({ module: 'xmpp' }), this.metrics, this.inflight);
    this.disco = new DiscoRegistry(cfg.xmpp.componentDomain, 'SIP gateway');
    this.installServiceIqs();
    this.sip = new SipLink(cfg.sip.drachtio, log.child({ module: 'sip' }), this.metrics, this.health);
    this.sipRouter = new SipRouter(this.sip, cfg.sip.trustedSources, log.child({ module: 'sip' }), this.metrics, this.inflight);
    this.addresses = new AddressMapper({ componentDomain: cfg.xmpp.componentDomain, ...cfg.domains });
    const messages = new XmppImPort(this.xmpp, cfg.im.deliveryWindowMs);
    this.im = new ImService(
      cfg.im,
      this.addresses,
      messages,
      new SipImPort(this.sip, cfg.sip.outboundProxy, cfg.im.maxMessageBytes, this.metrics),
      { message: (direction, outcome) => this.metrics.imMessages.inc({ direction, outcome }) },
    );
    this.metrics.watchTables(() => this.im.tableSizes);
    this.msrp = new MsrpEndpoint({
      logger: log.child({ module: 'msrp' }),
      listenAddress: cfg.msrp.listenHost,
      host: cfg.msrp.host || cfg.msrp.listenHost,
      port: cfg.msrp.port,
      maxMessageBytes: cfg.msrp.maxMessageBytes,
      maxSessions: cfg.chat.maxSessions + 100,
      maxConnections: cfg.chat.maxSessions + 100, // one per SIP client at worst
      ...(cfg.msrp.tlsCert ? { tls: { cert: readFileSync(cfg.msrp.tlsCert), key: readFileSync(cfg.msrp.tlsKey) } } : {}),
    });
    this.chatInvite = new SipChatInvite(this.sip, cfg.sip.outboundProxy, cfg.chat.inviteTimeoutMs, this.metrics);
    const chatLog = log.child({ module: 'chat' });
    this.chat = new ChatService(
      { ...cfg.chat, defaultResource: cfg.im.defaultResource },
      this.addresses,
      messages,
      this.chatInvite,
      new MsrpChatMedia(this.msrp, chatLog),
      (msg, msgLog) => this.im.fromXmpp(msg, msgLog),
      { event: (what) => this.metrics.chatEvents.inc({ what }) },
      chatLog,
    );
    this.chatInvite.setHandlers(this.chat);
    this.metrics.watchTables(() => ({ ...this.chat.tableSizes, chat_invite_dialogs: this.chatInvite.size }));
    this.metrics.chatSessionCount = () => this.chat.size;
    this.installIm(log.child({ module: 'im' }));
    this.sipRouter.handle('INVITE', this.chatInvite.handler);
    // Presence: the XMPP user's unavailable presence ends their chat sessions; the rest is presence's.
    this.stanzas.on('presence', (stanza, stanzaLog) => {
      const p = readPresence(stanza);
      if (p.type === 'unavailable') this.chat.userUnavailable(p.from);
      return this.presence?.fromXmpp(p, stanzaLog);
    });
  }

  /** Pager-mode IM both ways (RFC 7572), with chat states and receipts. */
  private installIm(log: Logger): void {
    // A chat that belongs to an MSRP session goes there (RFC 7573), the rest in pager mode.
    this.stanzas.on('message', (stanza, stanzaLog) => {
      const msg = readMessage(stanza);
      return this.chat.takes(msg) ? this.chat.fromXmpp(msg, stanzaLog) : this.im.fromXmpp(msg, stanzaLog);
    });
    this.stanzas.on('error', (stanza, stanzaLog) => {
      if (stanza.name !== 'message' || !stanza.attrs.id) return;
      if (!this.im.xmppError(String(stanza.attrs.id), readStanzaError(stanza))) {
        // RFC 7247 §7: the SIP transaction was already answered; say so.
        this.metrics.imMessages.inc({ direction: 's2x', outcome: 'late-bounce' });
        stanzaLog.warn('XMPP error after the SIP MESSAGE was answered', readStanzaError(stanza));
      }
    });
    this.sipRouter.handle('MESSAGE', async (req, res, reqLog) => {
      const read = readSipMessage(req);
      const answer = read.ok ? await this.im.fromSip(read.msg, reqLog) : read;
      res.send(answer.status, answer.reason, answer.headers ? { headers: answer.headers } : {});
    });
    this.sipRouter.accept(ACCEPTED_TYPES);
    // XEP-0030: advertise only what now works.
    for (const ns of [NS_RECEIPTS, NS_CHATSTATES, 'jid\\20escaping']) this.disco.addUserFeature(ns);
    this.disco.addDomainFeature('jid\\20escaping'); // XEP-0106 §6
    log.debug('pager IM installed');
  }

  /**
   * Presence both ways (RFC 8048) over the persistent store. Needs drachtio's
   * inbound mode: SUBSCRIBE dialogs live on the app's connection, and in
   * outbound mode drachtio-server closes it after each request (A.11).
   */
  private installPresence(log: Logger): void {
    const cfg = this.cfg.presence;
    if (this.sip.mode !== 'inbound') {
      log.warn('presence disabled: it needs sip.drachtio.mode inbound; SUBSCRIBE is answered 405 and presence stanzas are ignored');
      return;
    }
    this.store = openSqliteStore(this.cfg.dataDir);
    this.subscriber = new PresenceSubscriber(this.sip, { maxSubscriptions: cfg.maxSubscriptions, metrics: this.metrics });
    this.notifier = new PresenceNotifier(this.sip, {
      minExpires: cfg.minExpires,
      maxExpires: cfg.maxExpires,
      defaultExpires: Math.min(Math.max(3600, cfg.minExpires), cfg.maxExpires), // RFC 3856 §6.4
      maxWatchers: cfg.maxSubscriptions,
      rateLimitMs: cfg.notifyIntervalMs,
      docTimeoutMs: cfg.fetchTimeoutMs + 500,
    }, log, this.metrics);
    const presence = new PresenceService(
      {
        ...cfg,
        defaultResource: this.cfg.im.defaultResource,
        ...(this.cfg.sip.outboundProxy ? { proxy: this.cfg.sip.outboundProxy } : {}),
      },
      this.addresses, this.store, this.subscriber,
      new XmppPresencePort(this.xmpp, this.disco),
      { event: (direction, what) => this.metrics.presenceEvents.inc({ direction, what }) },
      log,
    );
    this.presence = presence;
    this.notifier.setHandlers(presence.handlers);
    this.sipRouter.handle('SUBSCRIBE', this.notifier.handler);
    this.sipRouter.handle('NOTIFY', this.subscriber.handleStrayNotify);
    const subscriber = this.subscriber;
    const notifier = this.notifier;
    this.metrics.watchTables(() => ({ ...presence.tableSizes, ...subscriber.tableSizes, ...notifier.tableSizes }));
    this.disco.addUserFeature(NS_CAPS);
    log.debug('presence installed');
  }

  private installServiceIqs(): void {
    const callee = this.xmpp.entity.iqCallee;
    const domain = this.cfg.xmpp.componentDomain;
    callee.get(NS_DISCO_INFO, 'query', this.disco.infoHandler);
    callee.get(NS_DISCO_ITEMS, 'query', this.disco.itemsHandler);
    callee.get(NS_PING, 'ping', pingHandler(domain));
    callee.get(NS_VERSION, 'query', versionHandler(domain, SOFTWARE));
    this.disco.addDomainFeature(NS_PING);
    this.disco.addDomainFeature(NS_VERSION);
  }

  get httpPort(): number | undefined {
    return this.httpPortBound;
  }

  /** Starts the health endpoint first (it answers 503 while the links come up), then both links. */
  async start(): Promise<void> {
    mkdirSync(this.cfg.dataDir, { recursive: true });
    this.installPresence(this.log.child({ module: 'presence' }));
    await this.msrp.start();
    this.httpPortBound = await this.http.listen(this.cfg.http.host, this.cfg.http.port);
    const results = await Promise.allSettled([this.xmpp.start(), this.sip.start()]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      await this.stop();
      throw failures[0]!.reason;
    }
    // Both links are up: re-establish the stored subscriptions (paced).
    if (this.presence) await this.presence.restore();
    this.log.info('gateway started', { ...SOFTWARE, component: this.cfg.xmpp.componentDomain, drachtioMode: this.cfg.sip.drachtio.mode });
  }

  /**
   * Graceful stop: refuse new work (health 503, SIP 503 with Retry-After),
   * let in-flight work finish within shutdown.graceMs, then close both links
   * and the HTTP listener. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.health.startDraining();
      this.sipRouter.startDraining();
      const finished = await this.inflight.drain(this.cfg.shutdown.graceMs);
      if (!finished) this.log.warn('shutdown grace period over; abandoning in-flight work', { pending: this.inflight.size });
      this.im.close();
      // RFC 7573 §4: every chat session ends with BYE while the SIP link is still up.
      await this.chat.close(Math.min(this.cfg.shutdown.graceMs, 3000));
      // Watchers get terminated;reason=deactivated and re-subscribe (RFC 6665 §4.1.3);
      // our own subscriptions are left to lapse: the next start resubscribes from the store.
      this.presence?.close();
      await this.notifier?.close(Math.max(this.cfg.shutdown.graceMs, 3000));
      this.subscriber?.close();
      await Promise.allSettled([this.sip.stop(), this.xmpp.stop()]);
      await this.store?.close();
      await this.msrp.close();
      await this.http.close();
      this.log.info('gateway stopped');
    })();
    return this.stopped;
  }
}
