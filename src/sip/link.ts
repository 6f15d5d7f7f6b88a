// The drachtio connection. Inbound mode: the gateway connects to
// drachtio-server's admin port; srf reconnects by itself (150 ms x 1.7^n,
// capped here) and re-sends every route on reconnect (drachtio-protocol.md
// A.4). Outbound mode: drachtio-server connects to us per request (A.11).
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import Srf from 'drachtio-srf';
import type { Health } from '../core/health.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import type { SrfApp } from './srf-types.js';

/** drachtio-srf's wire-protocol object (lib/wire-protocol.js), reached for a clean stop. */
interface SrfWireInternals {
  closing?: boolean;
  reconnectVars?: { retryTimer?: NodeJS.Timeout | null };
  socket?: { destroy(): void };
}

export class SipStartError extends Error {
  override readonly name = 'SipStartError';
}

export class SipLink extends EventEmitter {
  readonly srf: SrfApp;
  private started = false;
  private stopping = false;
  private up = false;
  private server: Server | undefined;

  constructor(
    private readonly cfg: GatewayConfig['sip']['drachtio'],
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly health: Health,
  ) {
    super();
    this.srf = new Srf() as unknown as SrfApp;
    // srf re-emits socket errors; unhandled, one would end the process (A.4).
    this.srf.on('error', (err) => {
      if (!this.stopping) this.log.warn('drachtio connection error', { err: err.message });
    });
  }

  get isUp(): boolean {
    return this.up;
  }

  get mode(): 'inbound' | 'outbound' {
    return this.cfg.mode;
  }

  start(): Promise<void> {
    return this.cfg.mode === 'inbound' ? this.startInbound() : this.startOutbound();
  }

  private startInbound(): Promise<void> {
    const { host, port, secret, pingIntervalMs, reconnectMaxDelayMs, startTimeoutMs } = this.cfg;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.halt(true);
        reject(new SipStartError(why));
      };
      const timer = setTimeout(
        () => fail(`drachtio: could not connect to ${host}:${port} within ${startTimeoutMs} ms`),
        startTimeoutMs,
      );
      this.srf.on('connect', (err, hostport, version) => {
        if (err) {
          if (!this.started) {
            fail(`drachtio-server at ${host}:${port} refused the secret (${err.message}); check sip.drachtio.secret`);
          } else {
            this.metrics.errors.inc({ side: 'sip', kind: 'auth-refused' });
            this.log.error('drachtio-server refused the secret on reconnect', { err: err.message });
          }
          return;
        }
        this.markUp(this.started, { hostport, version });
        if (!this.started) {
          this.started = true;
          clearTimeout(timer);
          resolve();
        }
      });
      this.srf.on('close', () => this.markDown('connection to drachtio-server lost'));
      this.srf.on('reconnecting', ({ delay, attempt }) => {
        if (this.started) this.log.info('reconnecting to drachtio-server', { delayMs: delay, attempt });
      });
      this.srf.connect({
        host, port, secret,
        // Pings keep NATs and idle timers happy; they do not detect a dead
        // server (A.4), TCP errors do.
        enablePing: true,
        pingInterval: pingIntervalMs,
        reconnect: { retryMaxDelay: reconnectMaxDelayMs },
      });
    });
  }

  private startOutbound(): Promise<void> {
    const { listenHost, listenPort, secret, startTimeoutMs } = this.cfg;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SipStartError(`drachtio: could not listen on ${listenHost}:${listenPort} within ${startTimeoutMs} ms`)), startTimeoutMs);
      this.srf.on('connect', (err) => {
        if (err) {
          this.metrics.errors.inc({ side: 'sip', kind: 'auth-refused' });
          this.log.warn('a drachtio-server connection failed to authenticate', { err: err.message });
        }
      });
      this.srf.on('listening', () => {
        clearTimeout(timer);
        this.started = true;
        this.markUp(false, { listen: `${listenHost}:${listenPort}` });
        resolve();
      });
      this.server = this.srf.listen({ host: listenHost, port: listenPort, secret }) as Server;
      this.server.on('error', (err) => {
        clearTimeout(timer);
        if (!this.started) reject(new SipStartError(`drachtio: cannot listen on ${listenHost}:${listenPort}: ${err.message}`));
        else this.log.error('drachtio listener error', { err: err.message });
      });
    });
  }

  /** Port actually bound in outbound mode (useful when configured as 0). */
  get listenPort(): number | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.markDown('stopped');
    this.halt(false);
  }

  private markUp(isReconnect: boolean, meta: Record<string, unknown>): void {
    this.up = true;
    this.health.set('sip', true);
    this.metrics.connectionUp.set({ side: 'sip' }, 1);
    if (isReconnect) this.metrics.reconnects.inc({ side: 'sip' });
    this.log.info(isReconnect ? 'drachtio link re-established' : 'drachtio link up', { mode: this.cfg.mode, ...meta });
    this.emit('up', isReconnect);
  }

  private markDown(reason: string): void {
    if (!this.up && this.health.get('sip').reason === reason) return;
    const wasUp = this.up;
    this.up = false;
    this.health.set('sip', false, reason);
    this.metrics.connectionUp.set({ side: 'sip' }, 0);
    if (wasUp) {
      if (!this.stopping) this.log.warn('drachtio link down', { reason });
      this.emit('down');
    }
  }

  /**
   * Stop srf for good: disconnect (which also stops its retry loop) or close
   * the listener. `force` also destroys a socket still connecting, which
   * srf.disconnect() does not know about yet.
   */
  private halt(force: boolean): void {
    if (this.cfg.mode === 'outbound') {
      this.server?.close();
      return;
    }
    try {
      this.srf.disconnect();
    } catch {
      // srf.disconnect() throws when no socket is connected (it looks up a
      // default socket first), before it marks itself as closing.
    }
    // So mark it closing ourselves and cancel a pending retry, or srf would
    // reconnect after we stopped.
    const wp = (this.srf as unknown as { _app?: { client?: { wp?: SrfWireInternals } } })._app?.client?.wp;
    if (wp) {
      wp.closing = true;
      if (wp.reconnectVars?.retryTimer) {
        clearTimeout(wp.reconnectVars.retryTimer);
        wp.reconnectVars.retryTimer = null;
      }
    }
    if (force) wp?.socket?.destroy();
  }
}
