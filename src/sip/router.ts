// Inbound SIP requests: source policy first, then one handler per method,
// then one final error handler (architecture rule 4).
import { AddressMatcher } from '../core/cidr.js';
import type { InFlight } from '../core/inflight.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import type { SipLink } from './link.js';
import type { Next, SrfRequest, SrfResponse } from './srf-types.js';

export type SipHandler = (req: SrfRequest, res: SrfResponse, log: Logger) => Promise<void> | void;

/**
 * The new-request methods drachtio-server hands to applications
 * (drachtio-protocol.md A.5). All are routed so that the gateway, not the
 * server, answers them: a method without a route gets 503 from the server,
 * which would tell the proxy the gateway is down.
 */
export const ROUTABLE_METHODS = ['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH'] as const;

export class SipRouter {
  private readonly handlers = new Map<string, SipHandler>();
  private readonly trusted: AddressMatcher;
  private draining = false;
  private acceptTypes: string[] = [];

  constructor(
    private readonly link: SipLink,
    trustedSources: readonly string[],
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly inflight: InFlight,
  ) {
    this.trusted = new AddressMatcher(trustedSources);
    this.handlers.set('OPTIONS', (req, res) => this.answerOptions(req, res));
    const srf = link.srf;
    srf.use((req: SrfRequest, res: SrfResponse, next: Next) => {
      this.inflight.track(this.dispatch(req, res)).then(() => undefined, next);
    });
    for (const method of ROUTABLE_METHODS) {
      // A per-method layer makes srf send route|<verb>; dispatch() above has
      // already answered, so these layers are never reached with work to do.
      srf.use(method.toLowerCase(), (_req, _res, next) => next());
    }
    srf.use((err: unknown, req: SrfRequest, res: SrfResponse, _next: Next) => this.onError(err, req, res));
  }

  /** Install the handler for a method; later issues add MESSAGE, SUBSCRIBE, INVITE... */
  handle(method: string, handler: SipHandler): void {
    this.handlers.set(method.toUpperCase(), handler);
  }

  /** Body types the gateway takes, for the Accept header of OPTIONS (RFC 3261 §11.2). */
  accept(types: readonly string[]): void {
    this.acceptTypes = [...new Set([...this.acceptTypes, ...types])];
  }

  /** Methods the gateway implements, for Allow headers (RFC 3261 §20.5). */
  get allowed(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** During shutdown new requests get 503 with Retry-After (RFC 3261 §21.5.4). */
  startDraining(): void {
    this.draining = true;
  }

  private async dispatch(req: SrfRequest, res: SrfResponse): Promise<void> {
    const log = this.log.child({ dir: 'S->X', callId: req.get('Call-ID'), method: req.method, source: `${req.source_address}:${req.source_port}` });
    this.metrics.sipRequests.inc({ direction: 'in', method: req.method });
    res.on('end', ({ status }) => {
      this.metrics.sipResponses.inc({ direction: 'out', status: String(status) });
      // Outbound mode: one connection per request (drachtio-protocol.md A.11).
      // A handler that creates a dialog must keep its connection; none does yet.
      if (this.link.mode === 'outbound') this.link.srf.endSession(req);
    });

    if (!this.trusted.matches(req.source_address)) {
      this.metrics.errors.inc({ side: 'sip', kind: 'untrusted-source' });
      log.warn('request from untrusted source refused');
      res.send(403, 'Forbidden', { headers: { Warning: '399 gateway "source address not trusted"' } });
      return;
    }
    if (this.draining) {
      res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '5' } });
      return;
    }
    const handler = this.handlers.get(req.method);
    if (handler) {
      await handler(req, res, log);
      if (!res.finalResponseSent) throw new Error(`handler for ${req.method} returned without a final response`);
      return;
    }
    if ((ROUTABLE_METHODS as readonly string[]).includes(req.method)) {
      // RFC 3261 §8.2.1: a method we know but do not support → 405 with Allow.
      log.info('method not supported by this gateway');
      res.send(405, 'Method Not Allowed', { headers: { Allow: this.allowed.join(', ') } });
      return;
    }
    // RFC 3261 §8.2.1: a method we do not recognise → 501.
    log.info('method not implemented');
    res.send(501, 'Not Implemented', { headers: { Allow: this.allowed.join(', ') } });
  }

  private answerOptions(_req: SrfRequest, res: SrfResponse): void {
    // RFC 3261 §11.2: proxies use OPTIONS as a health probe; answer 200 with
    // the methods we implement and the bodies we take.
    const headers: Record<string, string> = { Allow: this.allowed.join(', ') };
    if (this.acceptTypes.length > 0) headers.Accept = this.acceptTypes.join(', ');
    res.send(200, 'OK', { headers });
  }

  private onError(err: unknown, req: SrfRequest, res: SrfResponse): void {
    this.metrics.errors.inc({ side: 'sip', kind: 'handler' });
    this.log.error('SIP request handler failed', {
      dir: 'S->X', callId: req.get('Call-ID'), method: req.method, err: err instanceof Error ? err.stack : String(err),
    });
    if (!res.finalResponseSent) {
      try {
        res.send(500, 'Server Internal Error');
      } catch (sendErr) {
        this.log.error('could not send 500', { callId: req.get('Call-ID'), err: String(sendErr) });
      }
    }
  }
}
