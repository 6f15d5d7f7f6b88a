// The drachtio test double: an admin TCP server speaking the drachtio wire
// protocol to the real drachtio-srf, with a simulated SIP network that tests
// drive (drachtio-protocol.md A.1-A.12).
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { AppConnection, frameRecord, type FrameRecord } from './connection.js';
import { Engine } from './engine.js';
import { splitPayload } from './framing.js';
import type { InboundTransaction, OutboundRequest } from './handles.js';
import { peerInDialogRequest, type InDialogSpec } from './peer.js';
import { onAppProxy } from './proxy.js';
import type { LocalSip } from './sofia.js';
import { SipParseError, cseqOf, parseSip, type Peer } from './sip-text.js';
import { Waiter, type DialogInfo, type WireRecord } from './state.js';

export interface DrachtioDoubleOptions {
  /** Admin secret apps must send in `authenticate` (default `cymru`). */
  secret?: string;
  /** Admin address (default 127.0.0.1). */
  host?: string;
  /** Admin port; 0 (default) picks a free one. */
  port?: number;
  /** The SIP address the double pretends to listen on (default 127.0.0.1). */
  sipAddress?: string;
  /** The SIP port the double pretends to listen on (default 5080). */
  sipPort?: number;
  /** Version in the `authenticate` reply; must look like `vX.Y.Z` >= v0.8.2 for srf to ping (A.3). */
  version?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface RequestFilter extends WaitOptions {
  method?: string;
  match?: (req: OutboundRequest) => boolean;
}

export interface AppTarget {
  host?: string;
  port: number;
  /** Secret the app must present (default: the double's secret). */
  secret?: string;
}

interface PendingOutbound {
  raw: string;
  peer: Partial<Peer> | undefined;
  secret: string;
  resolve: (tx: InboundTransaction) => void;
  reject: (err: Error) => void;
}

const DEFAULT_TIMEOUT = 2000;

export class DrachtioDouble extends EventEmitter {
  readonly secret: string;
  readonly host: string;
  readonly version: string;
  readonly sip: LocalSip;
  /** Every frame both ways on every app connection, in order. */
  readonly frames: FrameRecord[] = [];
  /** Unexpected exceptions while handling app frames (should stay empty). */
  readonly errors: Error[] = [];

  private server: net.Server | undefined;
  private listenPort: number;
  private readonly conns = new Set<AppConnection>();
  private readonly pendingOutbound = new Map<AppConnection, PendingOutbound>();
  private readonly rr = new Map<string, number>();
  private readonly waiter = new Waiter();
  private readonly engine: Engine;
  private nextConnId = 1;

  private constructor(opts: DrachtioDoubleOptions) {
    super();
    this.secret = opts.secret ?? 'cymru';
    this.host = opts.host ?? '127.0.0.1';
    this.listenPort = opts.port ?? 0;
    this.version = opts.version ?? 'v0.9.5-double';
    this.sip = { address: opts.sipAddress ?? '127.0.0.1', port: opts.sipPort ?? 5080 };
    this.engine = new Engine(this.sip, this.waiter, (verb) => this.route(verb));
  }

  static async start(opts: DrachtioDoubleOptions = {}): Promise<DrachtioDouble> {
    const dd = new DrachtioDouble(opts);
    await dd.listen();
    return dd;
  }

  /** Admin port apps connect to. */
  get port(): number {
    return this.listenPort;
  }

  /** `tcp/<sip>,udp/<sip>`: first and third field of the `authenticate` reply (A.3). */
  get hostports(): string {
    return `tcp/${this.sip.address}:${this.sip.port},udp/${this.sip.address}:${this.sip.port}`;
  }

  /** Authenticated apps connected to the admin port. */
  get connectedApps(): number {
    return [...this.conns].filter((c) => c.mode === 'inbound' && c.alive && c.authenticated).length;
  }

  /** Every SIP message received from or put on the simulated network. */
  get wire(): readonly WireRecord[] {
    return this.engine.wire;
  }

  /** Every request the double put on the network, in order. */
  get requests(): readonly OutboundRequest[] {
    return this.engine.outbound;
  }

  get dialogs(): DialogInfo[] {
    return [...this.engine.dialogs.values()].map((d) => d.info());
  }

  dialog(id: string): DialogInfo | undefined {
    return this.engine.dialogs.get(id)?.info();
  }

  /** Generic wait on the double's state; `probe` returns undefined until done. */
  waitFor<T>(probe: () => T | undefined, what: string, opts: WaitOptions = {}): Promise<T> {
    return this.waiter.waitFor(probe, opts.timeoutMs ?? DEFAULT_TIMEOUT, what);
  }

  /** Resolves once a connected, authenticated app has routed `verb`. */
  async waitForRoute(verb: string, opts: WaitOptions = {}): Promise<void> {
    const v = verb.toLowerCase();
    await this.waitFor(() => [...this.conns].some((c) => c.alive && c.authenticated && c.verbs.has(v)) || undefined,
      `an app routing '${v}'`, opts);
  }

  async waitForApps(count: number, opts: WaitOptions = {}): Promise<void> {
    await this.waitFor(() => this.connectedApps === count || undefined, `${count} connected app(s)`, opts);
  }

  waitForFrame(pred: (f: FrameRecord) => boolean, opts: WaitOptions & { after?: number } = {}): Promise<FrameRecord> {
    return this.waitFor(() => this.frames.find((f) => f.seq > (opts.after ?? 0) && pred(f)), 'a matching frame', opts);
  }

  /**
   * A SIP peer sends `raw` (exact text, CRLF line ends). The double adds only
   * `;rport=<port>` to the top Via, as sofia does (A.5). The peer defaults to
   * the top Via's transport/host/port.
   */
  inject(raw: string, peer?: Partial<Peer>): InboundTransaction {
    return this.engine.receive(raw, peer);
  }

  /** Next request the double put on the network (each is returned once). */
  nextRequest(filter: RequestFilter = {}): Promise<OutboundRequest> {
    const method = filter.method?.toUpperCase();
    return this.waitFor(() => {
      const r = this.engine.outbound.find((x) => !this.engine.taken.has(x)
        && (!method || x.method === method) && (!filter.match || filter.match(x)));
      if (r) this.engine.taken.add(r);
      return r;
    }, `an outbound ${method ?? 'request'}`, filter);
  }

  /** An in-dialog request from the dialog's peer, built for an established dialog. */
  buildInDialogRequest(dialogId: string, spec: InDialogSpec): string {
    const d = this.engine.dialogs.get(dialogId);
    if (!d) throw new Error(`no dialog ${dialogId}`);
    const ackCseq = d.lastServerInvite ? cseqOf(d.lastServerInvite.request).seq : d.remoteCseq;
    const cseq = spec.method.toUpperCase() === 'ACK' ? ackCseq : d.remoteCseq + 1;
    return peerInDialogRequest({
      callId: d.callId, peerParty: d.remoteParty, doubleParty: d.localParty,
      doubleTarget: d.localContactUri || `sip:${this.sip.address}:${this.sip.port}`,
      peerContact: d.remoteContact, peer: d.peer,
    }, spec, cseq);
  }

  /** The dialog's peer sends a request in the dialog (raw text, or built from `spec`). */
  injectInDialog(dialogId: string, request: string | InDialogSpec, peer?: Partial<Peer>): InboundTransaction {
    const d = this.engine.dialogs.get(dialogId);
    if (!d) throw new Error(`no dialog ${dialogId}`);
    const raw = typeof request === 'string' ? request : this.buildInDialogRequest(dialogId, request);
    return this.inject(raw, { ...d.peer, ...peer });
  }

  /**
   * Outbound-connection mode (A.11): connect to an app listening with
   * `srf.listen`, wait for its `authenticate`, answer, then push `raw` as a new
   * request on that connection. Resolves once the request was handed over.
   */
  async connectToApp(target: AppTarget, raw: string, peer?: Partial<Peer>): Promise<InboundTransaction> {
    const socket = net.connect({ host: target.host ?? '127.0.0.1', port: target.port });
    await once(socket, 'connect');
    socket.setKeepAlive(true);
    const conn = this.addConnection(socket, 'outbound');
    return new Promise<InboundTransaction>((resolve, reject) => {
      this.pendingOutbound.set(conn, { raw, peer, secret: target.secret ?? this.secret, resolve, reject });
    });
  }

  /** Crash: drop the listener and every app socket, forget all state, listen again on the same port. */
  async restart(): Promise<void> {
    await this.closeAll();
    this.engine.reset();
    this.rr.clear();
    await this.listen();
  }

  /** Abrupt close of everything. */
  async stop(): Promise<void> {
    this.waiter.abortAll(new Error('DrachtioDouble stopped'));
    await this.closeAll();
  }

  // ------------------------------------------------------------------ internals

  private async listen(): Promise<void> {
    const server = net.createServer((socket) => {
      socket.setKeepAlive(true);
      this.addConnection(socket, 'inbound');
    });
    server.listen(this.listenPort, this.host);
    await once(server, 'listening');
    this.server = server;
    this.listenPort = (server.address() as net.AddressInfo).port;
  }

  private async closeAll(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) c.destroy('server stopped');
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private addConnection(socket: net.Socket, mode: 'inbound' | 'outbound'): AppConnection {
    const conn = new AppConnection(this.nextConnId++, socket, mode, {
      record: (c, direction, payload) => {
        const rec = frameRecord(this.frames.length + 1, c.id, direction, payload);
        this.frames.push(rec);
        this.emit('frame', rec);
        this.waiter.notify();
      },
      onPayload: (c, payload) => {
        try {
          this.onPayload(c, payload);
        } catch (err) {
          this.errors.push(err as Error);
          console.error('DrachtioDouble: error handling frame', err);
        }
      },
      onClose: (c, reason) => {
        this.conns.delete(c);
        const pending = this.pendingOutbound.get(c);
        this.pendingOutbound.delete(c);
        pending?.reject(new Error(`app connection closed before the request was delivered (${reason})`));
        this.emit('disconnect', { conn: c.id, reason });
        this.waiter.notify();
      },
    });
    this.conns.add(conn);
    this.emit('connection', { conn: conn.id, mode });
    return conn;
  }

  /** Round robin between apps that routed the verb (A.4). */
  private route(verb: string): AppConnection | undefined {
    const apps = [...this.conns].filter((c) => c.mode === 'inbound' && c.alive && c.authenticated && c.verbs.has(verb));
    if (apps.length === 0) return undefined;
    const n = this.rr.get(verb) ?? 0;
    this.rr.set(verb, n + 1);
    return apps[n % apps.length];
  }

  private onPayload(conn: AppConnection, payload: string): void {
    const { tokens, body } = splitPayload(payload);
    const msgId = tokens[0] ?? '';
    const type = tokens[1] ?? '';
    if (type === 'authenticate') return this.authenticate(conn, msgId, tokens[2] ?? '');
    if (!conn.authenticated) {
      conn.reply(msgId, 'NO|authentication required'); // not observed
      conn.end('message before authenticate');
      return;
    }
    switch (type) {
      case 'route':
        conn.verbs.add((tokens[2] ?? '').toLowerCase());
        conn.reply(msgId, 'OK');
        this.waiter.notify();
        return;
      case 'remove_route':
        conn.verbs.delete((tokens[2] ?? '').toLowerCase());
        conn.reply(msgId, 'OK');
        this.waiter.notify();
        return;
      case 'ping':
        conn.reply(msgId, 'OK|pong'); // A.4
        return;
      case 'sip':
      case 'proxy': {
        let msg;
        try {
          msg = parseSip(body ?? '', { wholeBody: true });
        } catch (err) {
          if (!(err instanceof SipParseError)) throw err;
          conn.reply(msgId, `NOK|failed to parse SIP message: ${err.message}`);
          return;
        }
        if (type === 'sip') this.engine.fromApp(conn, msgId, tokens, msg);
        else onAppProxy(this.engine, conn, msgId, tokens, msg);
        return;
      }
      default:
        conn.reply(msgId, 'NO|Unknown message type'); // A.2: ... and disconnect
        conn.end('unknown message type');
    }
  }

  /** A.3: `OK|<hostports>|<version>|<local hostports>` or `NO|incorrect secret` + close. */
  private authenticate(conn: AppConnection, msgId: string, secret: string): void {
    const pending = this.pendingOutbound.get(conn);
    if (secret !== (pending?.secret ?? this.secret)) {
      conn.reply(msgId, 'NO|incorrect secret');
      conn.end('incorrect secret');
      return;
    }
    conn.authenticated = true;
    conn.reply(msgId, `OK|${this.hostports}|${this.version}|${this.hostports}`);
    this.waiter.notify();
    if (pending) {
      // A.11: the server pushes the pending request right after the OK
      this.pendingOutbound.delete(conn);
      pending.resolve(this.engine.receive(pending.raw, pending.peer, conn));
    }
  }
}
