/**
 * The MSRP endpoint (RFC 4975; no relays, RFC 4976 is not implemented): one
 * listener (TCP, or TLS for "msrps" when a key and certificate are given), the
 * sessions, and the connections they share.
 *
 * Routing of inbound requests (§7.3, §5.4, §12):
 *  1. To-Path must hold exactly one URI naming one of our sessions, else 481.
 *  2. A session bound to another connection gets 506; an unbound one is bound
 *     to this connection ("the node MUST assume that the host that formed the
 *     connection is the host to which this URI was given").
 *  3. An unknown method gets 501.
 *  4. The session does the rest (400/403/415/413/200, reassembly, REPORTs).
 * No request ever gets a response when Failure-Report is "no", and REPORTs
 * never get one (§7.1.2).
 */
import { type Server, type Socket, createServer } from 'node:net';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../log/logger.js';
import { type Result, describe as describeError, fail, ok } from '../sip/bodies/result.js';
import { DEFAULT_CHUNK_SIZE, MAX_UNINTERRUPTIBLE_CHUNK } from './chunker.js';
import { MsrpConnection } from './connection.js';
import { type MsrpTlsOptions, dialMsrp } from './dial.js';
import { type MsrpRequest, serializeResponse } from './frame.js';
import { newSessionId } from './ids.js';
import { mayRespond, responseTo } from './inbound.js';
import { MsrpSession, type SessionHost, type SessionOptions } from './session.js';
import { type MsrpUri, authorityKey, msrpUriEquals, parseMsrpUri } from './uri.js';

export type { MsrpTlsOptions } from './dial.js';

export interface MsrpEndpointOptions {
  logger: Logger;
  /** Host written in our MSRP URIs (and so in a=path and c=). Default: listenAddress. */
  host?: string;
  /** Default "0.0.0.0". */
  listenAddress?: string;
  /** Default 2855, the registered MSRP port (§15.4). 0 picks a free port. */
  port?: number;
  /** With a key and certificate the listener speaks TLS and our URIs are msrps (§6). */
  tls?: MsrpTlsOptions;
  /** Default ["*"]. */
  acceptTypes?: string[];
  /** Largest message accepted, our SDP max-size (RFC 7573 §8: ≤ the XMPP stanza limit). Default 64 KiB. */
  maxMessageBytes?: number;
  /** Outgoing chunk size, 1..2048 (§7.1.1). Default 2048. */
  chunkSize?: number;
  maxSessions?: number;
  maxConnections?: number;
  /** Partial messages per session. Default 8. */
  maxPartialMessages?: number;
  /** Bytes of partial messages per session. Default 4 × maxMessageBytes. */
  maxBufferedBytes?: number;
  maxHeaderBytes?: number;
  /** Messages queued per session before it is bound. Default 64. */
  maxQueuedMessages?: number;
  /** An accepted connection on which no session is bound is closed after this. Default 30 s. */
  unboundTimeoutMs?: number;
  /** A passive session whose peer never connects is closed after this. Default 30 s. */
  bindTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** §7.1.1: 30 s. */
  transactionTimeoutMs?: number;
  /** Bodiless SEND after this long without traffic; 0 disables. Default 60 s. */
  keepaliveIntervalMs?: number;
}

export interface EndpointStats {
  sessions: number;
  connections: number;
}

export class MsrpEndpoint {
  private readonly log: Logger;
  private readonly server: Server;
  private readonly sessions = new Map<string, MsrpSession>();
  private readonly connections = new Set<MsrpConnection>();
  private readonly outbound = new Map<string, MsrpConnection>();
  private readonly connecting = new Map<string, Promise<Result<MsrpConnection>>>();
  private readonly dialing = new Set<Socket>();
  private readonly host: SessionHost;
  private nextConnId = 1;
  private nextSessionLabel = 1;
  private closed = false;
  private drained: (() => void) | undefined;
  private listening = false;
  private boundPort = 0;
  private readonly o: Required<Omit<MsrpEndpointOptions, 'tls' | 'host'>> & Pick<MsrpEndpointOptions, 'tls' | 'host'>;

  constructor(options: MsrpEndpointOptions) {
    const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024;
    // Field by field with "??", so that an explicit undefined (from a config object) keeps the default.
    this.o = {
      logger: options.logger,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      listenAddress: options.listenAddress ?? '0.0.0.0',
      port: options.port ?? 2855,
      acceptTypes: options.acceptTypes ?? ['*'],
      maxMessageBytes,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      maxSessions: options.maxSessions ?? 1000,
      maxConnections: options.maxConnections ?? 1000,
      maxPartialMessages: options.maxPartialMessages ?? 8,
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * maxMessageBytes,
      maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
      maxQueuedMessages: options.maxQueuedMessages ?? 64,
      unboundTimeoutMs: options.unboundTimeoutMs ?? 30_000,
      bindTimeoutMs: options.bindTimeoutMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      // §7.1.1: "within 30 seconds".
      transactionTimeoutMs: options.transactionTimeoutMs ?? 30_000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 60_000,
    };
    if (!Number.isInteger(this.o.chunkSize) || this.o.chunkSize < 1 || this.o.chunkSize > MAX_UNINTERRUPTIBLE_CHUNK) {
      throw new RangeError(`chunkSize must be 1..${MAX_UNINTERRUPTIBLE_CHUNK} (RFC 4975 §7.1.1)`);
    }
    this.log = options.logger.child({ module: 'msrp' });
    const advertised = this.o.host ?? this.o.listenAddress;
    if (advertised === '0.0.0.0' || advertised === '::') {
      // §8.1/§6: peers connect to the authority of our URI; a wildcard address there cannot work.
      this.log.warn('MSRP endpoint has no host to advertise; set "host"', { listenAddress: this.o.listenAddress });
    }
    const onSocket = (socket: Socket): void => this.accept(socket);
    this.server = options.tls
      ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onSocket)
      : createServer(onSocket);
    this.server.on('error', (e) => this.log.error('MSRP listener error', { error: describeError(e) }));
    this.server.on('tlsClientError', (e: Error, s: TLSSocket) => {
      this.log.info('MSRP TLS handshake failed', { remote: `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`, error: describeError(e) });
    });
    this.host = {
      log: this.log, nextLabel: () => this.nextSessionLabel++, chunkSize: this.o.chunkSize, transactionTimeoutMs: this.o.transactionTimeoutMs,
      bindTimeoutMs: this.o.bindTimeoutMs, maxQueuedMessages: this.o.maxQueuedMessages,
      reassembly: { maxPartialMessages: this.o.maxPartialMessages, maxBufferedBytes: this.o.maxBufferedBytes },
      openConnection: (uri) => this.openConnection(uri),
      forget: (s) => { if (this.sessions.get(s.sessionId) === s) this.sessions.delete(s.sessionId); },
    };
  }

  /** "msrps" when the listener speaks TLS. */
  get scheme(): 'msrp' | 'msrps' {
    return this.o.tls ? 'msrps' : 'msrp';
  }

  /** The port actually listened on (after start()). */
  get port(): number {
    return this.boundPort;
  }

  stats(): EndpointStats {
    return { sessions: this.sessions.size, connections: this.connections.size };
  }

  /** Starts listening; rejects when the address cannot be bound. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.o.port, this.o.listenAddress, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : this.o.port;
    this.listening = true;
    this.log.info('MSRP endpoint listening', { address: this.o.listenAddress, port: this.boundPort, scheme: this.scheme });
  }

  /**
   * A new session with a local URI whose session-id has 128 random bits (§14.1
   * requires 80). The URI's authority is our host and listening port (§8.1).
   */
  createSession(opts: SessionOptions = {}): Result<MsrpSession> {
    if (this.closed) return fail('endpoint closed');
    if (!this.listening) return fail('endpoint not started');
    if (this.sessions.size >= this.o.maxSessions) return fail(`too many MSRP sessions (${this.o.maxSessions})`);
    const host = this.o.host ?? this.o.listenAddress;
    const bracketed = host.includes(':') ? `[${host}]` : host;
    const uri = parseMsrpUri(`${this.scheme}://${bracketed}:${this.boundPort}/${newSessionId()};tcp`);
    if (!uri.ok) return fail(`cannot build a local URI: ${uri.error}`);
    const session = new MsrpSession(this.host, uri.value, {
      acceptTypes: opts.acceptTypes ?? this.o.acceptTypes,
      maxMessageBytes: opts.maxMessageBytes ?? this.o.maxMessageBytes,
      deferSuccessReports: opts.deferSuccessReports === true,
      ...(opts.direction ? { direction: opts.direction } : {}),
    });
    this.sessions.set(session.sessionId, session);
    return ok(session);
  }

  /** Closes every session and connection and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.close('endpoint closed');
    for (const c of [...this.connections]) c.close('endpoint closed');
    for (const s of this.dialing) s.destroy();
    // Resolve only once every socket has really closed, so that nothing outlives close().
    const drained = this.connections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => { this.drained = resolve; });
    const stopped = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    await Promise.all([drained, stopped]);
    this.listening = false;
  }

  private accept(socket: Socket): void {
    if (this.closed || this.connections.size >= this.o.maxConnections) {
      this.log.warn('MSRP connection refused', { reason: this.closed ? 'endpoint closed' : 'too many connections', remote: socket.remoteAddress });
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.addConnection(socket);
  }

  private addConnection(socket: Socket, authority?: string): MsrpConnection {
    const conn = new MsrpConnection({
      id: this.nextConnId++, socket, log: this.log,
      ...(authority !== undefined ? { authority } : {}),
      limits: { maxHeaderBytes: this.o.maxHeaderBytes, maxBodyBytes: Math.max(this.o.maxMessageBytes, MAX_UNINTERRUPTIBLE_CHUNK) },
      keepaliveMs: this.o.keepaliveIntervalMs, transactionTimeoutMs: this.o.transactionTimeoutMs, unboundTimeoutMs: this.o.unboundTimeoutMs,
      onRequest: (c, req) => this.route(c, req),
      onClosed: (c) => {
        this.connections.delete(c);
        if (this.closed && this.connections.size === 0) this.drained?.();
        if (c.authority !== undefined && this.outbound.get(c.authority) === c) this.outbound.delete(c.authority);
      },
    });
    this.connections.add(conn);
    if (authority !== undefined) this.outbound.set(authority, conn);
    return conn;
  }

  private route(conn: MsrpConnection, req: MsrpRequest): void {
    const target = req.toPath[0];
    if (!target) return;
    const reply = (code: number, self: MsrpUri): void => {
      // §7.1.2: "MSRP nodes MUST NOT send MSRP responses to REPORT requests."
      if (req.method === 'REPORT' || !mayRespond(req.failureReport, code)) return;
      conn.sendUrgent({ bytes: serializeResponse(responseTo(req, code, self)), tid: req.tid });
    };
    // §7.3: "the To-Path will have exactly one URI, which MUST map to an existing session".
    const session = req.toPath.length === 1 ? this.sessions.get(target.sessionId ?? '') : undefined;
    if (!session || !msrpUriEquals(session.localUri, target)) {
      this.log.info('MSRP request for no session', { conn: conn.id, tid: req.tid, method: req.method, code: 481 });
      reply(481, target);
      return;
    }
    if (session.connection !== conn) {
      if (session.connection !== undefined || !session.bindable) {
        // §5.4: a session is never used on two connections (someone who learned the URI could inject).
        this.log.info('MSRP request for a session bound elsewhere', { conn: conn.id, tid: req.tid, code: 506 });
        reply(506, session.localUri);
        return;
      }
      session.bindFromPeer(conn, req);
    }
    if (req.method !== 'SEND' && req.method !== 'REPORT') {
      // §12: "If an MSRP device receives a request with an unknown method, it MUST return a 501 response."
      reply(501, session.localUri);
      return;
    }
    session.handleRequest(conn, req);
  }

  /** A connection to the authority of `uri`, reusing one with the same scheme, host and port (§5.4). */
  private openConnection(uri: MsrpUri): Promise<Result<MsrpConnection>> {
    if (this.closed) return Promise.resolve(fail('endpoint closed'));
    const key = authorityKey(uri);
    const existing = this.outbound.get(key);
    if (existing?.isOpen) return Promise.resolve(ok(existing));
    const inFlight = this.connecting.get(key);
    if (inFlight) return inFlight;
    if (this.connections.size >= this.o.maxConnections) return Promise.resolve(fail('too many connections'));
    const attempt = this.dial(uri, key).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }

  private async dial(uri: MsrpUri, key: string): Promise<Result<MsrpConnection>> {
    const { socket, ready } = dialMsrp(uri, { connectTimeoutMs: this.o.connectTimeoutMs, ...(this.o.tls ? { tls: this.o.tls } : {}) });
    this.dialing.add(socket);
    const r = await ready;
    this.dialing.delete(socket);
    if (!r.ok) return r;
    if (this.closed) {
      socket.destroy();
      return fail('endpoint closed');
    }
    this.log.debug('MSRP connection opened', { to: key });
    return ok(this.addConnection(socket, key));
  }
}
