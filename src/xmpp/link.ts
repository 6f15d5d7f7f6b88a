// The XEP-0114 connection: first connect, reconnect with jittered backoff,
// and a keepalive that finds half-open links (architecture rule 6).
//
// @xmpp/component's own reconnect module retries every second forever and
// also retries a refused secret; it is stopped and replaced here so that
// start-up failures end the process and later drops back off exponentially.
import { EventEmitter } from 'node:events';
import { component, xml, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { Backoff } from '../core/backoff.js';
import type { Health } from '../core/health.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import { XmppStartError, describeXmppError, isFatalXmppError } from './errors.js';

export class NotConnectedError extends Error {
  override readonly name = 'NotConnectedError';
}

const NS_PING = 'urn:xmpp:ping';

export class XmppLink extends EventEmitter {
  readonly entity: Component;
  private readonly backoff: Backoff;
  private stopping = false;
  private online = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastInput = Date.now();
  private pingSeq = 0;

  constructor(
    private readonly cfg: GatewayConfig['xmpp'],
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly health: Health,
  ) {
    super();
    this.entity = component({
      service: `xmpp://${cfg.host}:${cfg.port}`,
      domain: cfg.componentDomain,
      password: cfg.secret,
    });
    this.entity.reconnect.stop();
    this.backoff = new Backoff(cfg.reconnect.initialDelayMs, cfg.reconnect.maxDelayMs);
    // Without a listener an 'error' event would crash the process; errors are
    // handled where the attempt that caused them is awaited.
    this.entity.on('error', (err: unknown) => this.log.debug('xmpp entity error', { err: describeXmppError(err) }));
    this.entity.on('input', () => { this.lastInput = Date.now(); });
    // Count at the entity so iq replies sent by the iq callee are counted too.
    this.entity.on('stanza', (el: Element) => metrics.stanzas.inc({ direction: 'in', kind: el.name }));
    this.entity.on('send', (el: Element) => {
      if (el.name === 'message' || el.name === 'presence' || el.name === 'iq') metrics.stanzas.inc({ direction: 'out', kind: el.name });
    });
    this.entity.on('disconnect', () => this.onDisconnect());
  }

  get isOnline(): boolean {
    return this.online;
  }

  get domain(): string {
    return this.cfg.componentDomain;
  }

  /**
   * Connects and authenticates. Resolves once online. Rejects with
   * XmppStartError at once when the server refuses the secret or the domain,
   * or when the server stays unreachable for startTimeoutMs.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + this.cfg.startTimeoutMs;
    const startBackoff = new Backoff(Math.min(200, this.cfg.reconnect.initialDelayMs || 200), 2000);
    for (;;) {
      if (this.stopping) throw new XmppStartError('stopped before the XMPP connection came up');
      try {
        await this.attempt();
        this.markOnline(false);
        return;
      } catch (err) {
        const why = describeXmppError(err);
        if (isFatalXmppError(err)) throw new XmppStartError(`XMPP: ${why}`);
        const wait = startBackoff.next();
        if (Date.now() + wait > deadline) {
          throw new XmppStartError(`XMPP: could not connect to ${this.cfg.host}:${this.cfg.port} within ${this.cfg.startTimeoutMs} ms: ${why}`);
        }
        this.log.warn('XMPP server not reachable yet, retrying', { err: why, retryInMs: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** Sends a stanza; throws NotConnectedError while the link is down so callers can answer with an error. */
  async send(el: Element): Promise<void> {
    if (!this.online) throw new NotConnectedError('XMPP link is down');
    await this.entity.send(el);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.stopKeepalive();
    const wasOnline = this.online;
    this.online = false;
    this.health.set('xmpp', false, 'stopped');
    this.metrics.connectionUp.set({ side: 'xmpp' }, 0);
    if (this.entity.status === 'offline' || this.entity.status === 'disconnect') return;
    try {
      // Closes the stream and waits (bounded by the entity timeout) for the server to close it.
      await this.entity.stop();
    } catch (err) {
      if (wasOnline) this.log.debug('XMPP stream close was not clean', { err: describeXmppError(err) });
      this.entity.socket?.destroy();
    }
  }

  /** One connect + stream open + handshake, resolving when online. */
  private async attempt(): Promise<void> {
    const e = this.entity;
    const online = new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        e.off('online', onOnline);
        e.off('error', onError);
        e.off('disconnect', onDisconnect);
      };
      const onOnline = () => { cleanup(); resolve(); };
      const onError = (err: unknown) => { cleanup(); reject(err); };
      const onDisconnect = () => { cleanup(); reject(new Error('connection closed during handshake')); };
      e.on('online', onOnline);
      e.on('error', onError);
      e.on('disconnect', onDisconnect);
    });
    online.catch(() => undefined); // observed below; avoid an unhandled rejection if connect() throws first
    try {
      await e.connect(e.options.service);
      // Without TCP_NODELAY a small stanza (the delivery barrier's ping)
      // waits behind an unacknowledged one for the server's delayed ACK,
      // about 40 ms on Linux; docs/performance.md has the measurement.
      e.socket?.setNoDelay(true);
      await e.open({ domain: this.cfg.componentDomain });
      await online;
    } catch (err) {
      // Leave the entity in a state the next attempt can start from.
      if (e.socket) e.socket.destroy();
      throw err;
    }
  }

  private markOnline(isReconnect: boolean): void {
    this.online = true;
    this.backoff.reset();
    this.lastInput = Date.now();
    this.health.set('xmpp', true);
    this.metrics.connectionUp.set({ side: 'xmpp' }, 1);
    if (isReconnect) this.metrics.reconnects.inc({ side: 'xmpp' });
    this.log.info(isReconnect ? 'XMPP link re-established' : 'XMPP component online', {
      domain: this.cfg.componentDomain, server: `${this.cfg.host}:${this.cfg.port}`,
    });
    this.startKeepalive();
    this.emit('online', isReconnect);
  }

  private onDisconnect(): void {
    if (!this.online) return; // failures during an attempt are handled by the attempt's caller
    this.online = false;
    this.stopKeepalive();
    this.health.set('xmpp', false, 'connection to XMPP server lost');
    this.metrics.connectionUp.set({ side: 'xmpp' }, 0);
    this.emit('offline');
    if (this.stopping) return;
    this.log.warn('XMPP link lost, reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      if (this.stopping) return;
      this.attempt().then(
        () => {
          // stop() may have come while this attempt was under way.
          if (this.stopping) void this.entity.stop().catch(() => this.entity.socket?.destroy());
          else this.markOnline(true);
        },
        (err: unknown) => {
          const why = describeXmppError(err);
          // A refused secret after a good start means the server's config
          // changed; keep trying (an operator may fix it) but say so loudly.
          const level = isFatalXmppError(err) ? 'error' : 'warn';
          this.log.log(level, 'XMPP reconnect failed', { err: why, attempt: this.backoff.attempts });
          this.health.set('xmpp', false, why);
          if (!this.stopping) this.scheduleReconnect();
        },
      );
    }, delay);
    this.log.debug('XMPP reconnect scheduled', { delayMs: delay, attempt: this.backoff.attempts });
  }

  // Keepalive (XEP-0199 §4.2 style, but addressed to our own domain): the
  // ping travels through the server and back, so an answer proves that both
  // directions of the link work; TCP alone cannot tell a half-open link.
  private startKeepalive(): void {
    const { intervalMs, timeoutMs } = this.cfg.keepalive;
    if (intervalMs === 0) return;
    const tick = () => {
      const idle = Date.now() - this.lastInput;
      if (idle < intervalMs) {
        this.keepaliveTimer = setTimeout(tick, intervalMs - idle);
        return;
      }
      const id = `keepalive-${++this.pingSeq}`;
      const ping = xml('iq', { type: 'get', id, to: this.cfg.componentDomain, from: this.cfg.componentDomain }, xml('ping', { xmlns: NS_PING }));
      this.entity.iqCaller.request(ping, timeoutMs).then(
        () => {
          if (this.online) this.keepaliveTimer = setTimeout(tick, intervalMs);
        },
        (err: unknown) => {
          if (!this.online) return;
          const timedOut = err instanceof Error && err.name === 'TimeoutError';
          if (!timedOut) {
            // The server answered (even with an error): the link is alive.
            this.keepaliveTimer = setTimeout(tick, intervalMs);
            return;
          }
          this.metrics.errors.inc({ side: 'xmpp', kind: 'keepalive-timeout' });
          this.log.warn('XMPP keepalive unanswered, dropping the link', { timeoutMs });
          this.entity.socket?.destroy();
        },
      );
    };
    this.keepaliveTimer = setTimeout(tick, intervalMs);
  }

  private stopKeepalive(): void {
    clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}
