/**
 * One MSRP session (RFC 4975 §5, §7): our URI, the peer's path, the connection
 * it is bound to, outgoing messages and the reassembly of incoming ones.
 *
 * States: new → connecting (active) / waiting (passive) → bound → closed.
 * A session can also be bound straight from "new" when the peer's first request
 * arrives before the application called connect() (the SIP answer may reach the
 * peer, and its SEND reach us, before our own signalling code runs).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import { parseContentType } from '../sip/bodies/content-type.js';
import { type Result, describe as describeError, fail, ok } from '../sip/bodies/result.js';
import { bodilessSend, chunkMessage, pickTid } from './chunker.js';
import type { BoundSession, MsrpConnection, OutboundJob } from './connection.js';
import { type MsrpRequest, serializeRequest, serializeResponse } from './frame.js';
import { STATUS_TEXT } from './headers.js';
import { isValidMessageId, newMessageId } from './ids.js';
import { acceptsType, mayRespond, requestProblem, responseTo, successReport } from './inbound.js';
import { RecentIds } from './recent.js';
import { Reassembler } from './reassembly.js';
import type { Direction, MsrpReport, SendOptions, SessionEvents, SessionHost, SessionOptions, SessionRole, SessionState } from './session-types.js';
import { type MsrpUri, formatMsrpPath, parseMsrpPath } from './uri.js';

export type {
  Direction, MsrpMessage, MsrpReport, MsrpSendError, SendOptions, SessionEvents, SessionHost, SessionOptions, SessionRole, SessionState,
} from './session-types.js';

/** Types §8.9 exempts from the direction attribute: control and reporting payloads. */
const CONTROL_TYPES = ['application/im-iscomposing+xml', 'message/imdn+xml'];
/**
 * Message-IDs remembered per session for late REPORTs and failures (§7.1.2)
 * and held success REPORTs. Per session, so it bounds memory by sessions:
 * 1 024 cost a busy session about 100 KiB; a REPORT for one of our last 128
 * messages is all a chat needs.
 */
const SENT_IDS_REMEMBERED = 128;

export class MsrpSession extends EventEmitter<SessionEvents> implements BoundSession {
  readonly sessionId: string;
  readonly localUri: MsrpUri;
  /** The a=path value of our SDP. */
  readonly path: string;
  readonly acceptTypes: readonly string[];
  readonly maxMessageBytes: number;
  readonly direction: Direction;
  private stateValue: SessionState = 'new';
  private roleValue: SessionRole | undefined;
  private remote: MsrpUri[] | undefined;
  private conn: MsrpConnection | undefined;
  private readonly reassembler: Reassembler;
  private readonly queued: OutboundJob[] = [];
  private readonly sent = new RecentIds(SENT_IDS_REMEMBERED);
  private readonly stopped = new RecentIds(SENT_IDS_REMEMBERED);
  private readonly failed = new RecentIds(SENT_IDS_REMEMBERED);
  private waiters: Array<(r: Result<void>) => void> = [];
  /** Success REPORTs held for reportSuccess(), oldest first, bounded. */
  private readonly owedReports = new Map<string, { size: number; toPath: readonly MsrpUri[] }>();
  private readonly deferReports: boolean;
  private bindTimer: NodeJS.Timeout | undefined;
  private readonly label: number;
  private logger: Logger | undefined;

  constructor(private readonly host: SessionHost, localUri: MsrpUri, opts: Required<Omit<SessionOptions, 'direction'>> & SessionOptions) {
    super();
    this.localUri = localUri;
    this.sessionId = localUri.sessionId ?? '';
    this.path = formatMsrpPath([localUri]);
    this.acceptTypes = [...opts.acceptTypes];
    this.maxMessageBytes = opts.maxMessageBytes;
    this.direction = opts.direction ?? 'sendrecv';
    this.deferReports = opts.deferSuccessReports === true;
    this.reassembler = new Reassembler({ ...host.reassembly, maxMessageBytes: opts.maxMessageBytes });
    // Never log the session-id: it is the session's only secret (§14.1).
    this.label = host.nextLabel();
  }

  /** Created on first use: most sessions never log, and thousands of them are open at once. */
  private get log(): Logger {
    this.logger ??= this.host.log.child({ msrpSession: this.label });
    return this.logger;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get role(): SessionRole | undefined {
    return this.roleValue;
  }

  /** The peer's path: from connect(), else the From-Path of its first request. */
  get remotePath(): readonly MsrpUri[] | undefined {
    return this.remote;
  }

  /** The connection the session is bound to, if any. */
  get connection(): MsrpConnection | undefined {
    return this.conn;
  }

  /**
   * Starts the session with the peer's a=path (§8.2). Active: connect to the
   * authority of its first URI (§8.3), reusing a connection to the same
   * scheme/host/port (§5.4), and send a bodiless SEND at once (§5.4). Passive:
   * wait for the peer's first request. Resolves when bound; never rejects.
   */
  async connect(remotePath: string | readonly MsrpUri[], role: SessionRole): Promise<Result<void>> {
    if (this.stateValue === 'closed') return fail('session closed');
    if (this.roleValue !== undefined) return fail('connect() already called');
    const path = typeof remotePath === 'string' ? parseMsrpPath(remotePath) : ok([...remotePath]);
    if (!path.ok) return fail(`invalid remote path: ${path.error}`);
    const first = path.value[0];
    if (!first || first.port === undefined) return fail('the remote path needs a URI with a port (RFC 4975 §8.2)');
    this.roleValue = role;
    this.remote = path.value;
    if (this.stateValue === 'bound') return ok(undefined);
    if (role === 'passive') {
      this.stateValue = 'waiting';
      this.bindTimer = setTimeout(() => this.close(`peer did not connect within ${this.host.bindTimeoutMs} ms`), this.host.bindTimeoutMs).unref();
      return new Promise((resolve) => this.waiters.push(resolve));
    }
    this.stateValue = 'connecting';
    const r = await this.host.openConnection(first);
    // Read through the getter: the state may have changed while waiting.
    if (this.state === 'closed') return fail('session closed');
    if (this.state === 'bound') return ok(undefined);
    if (!r.ok || !r.value.isOpen) {
      const error = r.ok ? 'connection closed' : r.error;
      this.close(`connection failed: ${error}`);
      return fail(error);
    }
    // §5.4: "the active endpoint MUST immediately issue a SEND request" (before any queued message).
    // Failure-Report "yes", so a 481/506 (wrong or busy session) or silence shows the session did not come up.
    const tid = pickTid(Buffer.alloc(0), (t) => r.value.hasTid(t));
    r.value.sendUrgent({
      bytes: serializeRequest(bodilessSend(tid, path.value, this.localUri)),
      tid,
      track: {
        timeoutMs: this.host.transactionTimeoutMs,
        settle: (code, comment) => {
          if (code !== 200) this.close(`peer refused the session: ${code} ${comment ?? ''}`.trim());
        },
      },
    });
    this.bind(r.value);
    return ok(undefined);
  }

  /** Whether a request arriving on a new connection may bind this session (endpoint use). */
  get bindable(): boolean {
    return this.stateValue === 'new' || this.stateValue === 'waiting';
  }

  /** Binds to the connection a peer's first request came on (passive side, §5.4). Endpoint use. */
  bindFromPeer(conn: MsrpConnection, req: MsrpRequest): void {
    this.remote ??= req.fromPath;
    this.bind(conn);
  }

  /**
   * Sends a message, in chunks of at most the configured size (§5.1, §7.1.1).
   * Returns its Message-ID. Messages sent before the session is bound wait for it.
   * Throws a TypeError on invalid input (a programming error).
   */
  send(opts: SendOptions): Result<string> {
    const ct = typeof opts.contentType === 'string' ? parseContentType(opts.contentType) : null;
    if (ct === null || /[\r\n]/.test(opts.contentType)) throw new TypeError('send(): invalid contentType');
    if (opts.messageId !== undefined && !isValidMessageId(opts.messageId)) throw new TypeError('send(): invalid messageId');
    const fr = opts.failureReport ?? 'no';
    if (fr !== 'yes' && fr !== 'no' && fr !== 'partial') throw new TypeError('send(): invalid failureReport');
    if (this.stateValue === 'closed') return fail('session closed');
    if (!this.conn && this.queued.length >= this.host.maxQueuedMessages) return fail('too many messages waiting for the connection');
    // A copy: the chunks are cut lazily, so a caller reusing its buffer must not change what is sent.
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : Buffer.from(opts.body);
    const messageId = opts.messageId ?? newMessageId();
    this.sent.add(messageId);
    const src = { messageId, contentType: opts.contentType, body, successReport: opts.successReport === true, failureReport: fr, ...(opts.tid !== undefined ? { tid: opts.tid } : {}) };
    let chunks: ReturnType<typeof chunkMessage> | undefined;
    const job: OutboundJob = {
      next: () => {
        const conn = this.conn;
        if (this.stateValue === 'closed' || this.stopped.has(messageId) || !this.remote || !conn) return null;
        chunks ??= chunkMessage(src, { toPath: this.remote, fromPath: [this.localUri], chunkSize: this.host.chunkSize, tidInUse: (t) => conn.hasTid(t) });
        const step = chunks.next();
        if (step.done) return null;
        const req = step.value;
        const settle = (code: number, comment: string | undefined): void => this.sendResult(messageId, code, comment);
        // Failure-Report "yes": a timer per chunk; "partial": errors only, no timer to report (§7.1.1).
        const track = fr === 'no' ? undefined : { timeoutMs: this.host.transactionTimeoutMs, settle, silentTimeout: fr === 'partial' };
        return { bytes: serializeRequest(req), tid: req.tid, ...(track ? { track } : {}) };
      },
    };
    if (this.conn) this.conn.addJob(job);
    else this.queued.push(job);
    return ok(messageId);
  }

  /** Ends the session: partial messages are dropped, the connection is released (§5.4). */
  close(reason = 'closed by the application'): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    if (this.bindTimer) clearTimeout(this.bindTimer);
    this.reassembler.clear();
    this.owedReports.clear();
    this.queued.length = 0;
    const conn = this.conn;
    this.conn = undefined;
    conn?.detach(this);
    this.host.forget(this);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(fail(reason));
    if (this.host.log.isDebugEnabled()) this.log.debug('MSRP session closed', { reason });
    this.fire('closed', reason);
  }

  /** Handles a request that the endpoint routed here (To-Path matched, binding checked, method known). */
  handleRequest(conn: MsrpConnection, req: MsrpRequest): void {
    if (req.method === 'REPORT') {
      this.handleReport(req);
      return;
    }
    const respond = (code: number): void => {
      if (mayRespond(req.failureReport, code)) conn.sendUrgent({ bytes: serializeResponse(responseTo(req, code, this.localUri)), tid: req.tid });
    };
    const problem = requestProblem(req);
    if (problem !== null) {
      this.log.info('MSRP request refused', { tid: req.tid, code: 400, reason: problem });
      respond(400);
      return;
    }
    const body = req.body;
    const messageId = req.messageId;
    // A bodiless SEND binds the connection or keeps it alive (§5.4, §7.1): answered, never surfaced.
    if (body === null || messageId === undefined) {
      respond(200);
      return;
    }
    const contentType = req.contentType ?? '';
    const mime = parseContentType(contentType)?.mime ?? '';
    if ((this.direction === 'sendonly' || this.direction === 'inactive') && !CONTROL_TYPES.includes(mime)) {
      respond(403);
      return;
    }
    // §7.3.1: an unsupported media type gets 415 when Failure-Report is not "no".
    if (!acceptsType(this.acceptTypes, contentType)) {
      respond(415);
      return;
    }
    const outcome = this.reassembler.accept({ ...req, body, messageId });
    if (outcome.kind === 'reject') {
      this.log.info('MSRP chunk refused', { tid: req.tid, messageId, code: outcome.code, reason: outcome.reason });
      respond(outcome.code);
      return;
    }
    respond(200);
    if (outcome.kind !== 'complete') return;
    const m = outcome.message;
    if (m.successReport && this.deferReports) {
      this.owedReports.set(m.messageId, { size: m.body.length, toPath: req.fromPath });
      if (this.owedReports.size > SENT_IDS_REMEMBERED) this.owedReports.delete(this.owedReports.keys().next().value!);
    } else if (m.successReport) {
      this.sendSuccessReport(conn, m.messageId, m.body.length, req.fromPath);
    }
    this.fire('message', { ...m });
  }

  /** Sends a success REPORT held by deferSuccessReports (§7.1.3); false when none is owed or the session is down. */
  reportSuccess(messageId: string): boolean {
    const owed = this.owedReports.get(messageId);
    if (owed === undefined || !this.conn || this.stateValue === 'closed') return false;
    this.owedReports.delete(messageId);
    this.sendSuccessReport(this.conn, messageId, owed.size, owed.toPath);
    return true;
  }

  keepaliveFrame(conn: MsrpConnection): { bytes: Buffer; tid: string } | null {
    if (!this.remote) return null;
    const tid = pickTid(Buffer.alloc(0), (t) => conn.hasTid(t));
    return { bytes: serializeRequest(bodilessSend(tid, this.remote, this.localUri)), tid };
  }

  keepaliveRefused(code: number, comment: string | undefined): void {
    // 481: the peer no longer knows the session (§10.8: "The sender should terminate the session").
    if (code === 481 || code === 506) this.close(`peer refused the keepalive: ${code} ${comment ?? ''}`.trim());
  }

  transportClosed(reason: string): void {
    this.conn = undefined;
    // §5.4: "If a connection fails for any reason, then an MSRP endpoint MUST consider any sessions
    // associated with the connection as also having failed."
    this.close(`connection lost: ${reason}`);
  }

  /**
   * Emits to the application. Events also fire from timers, where an exception
   * thrown by a listener would be uncaught and end the process: it is logged instead.
   */
  private fire<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    try {
      // The cast only restates the generic signature that TypeScript cannot relate to EventEmitter<T>'s conditional types.
      (this.emit as (e: K, ...a: SessionEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      this.log.error('MSRP session listener threw', { event, error: describeError(e) });
    }
  }

  private bind(conn: MsrpConnection): void {
    this.conn = conn;
    this.stateValue = 'bound';
    if (this.bindTimer) clearTimeout(this.bindTimer);
    conn.attach(this);
    for (const job of this.queued.splice(0)) conn.addJob(job);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(ok(undefined));
  }

  private sendSuccessReport(conn: MsrpConnection, messageId: string, size: number, toPath: readonly MsrpUri[]): void {
    const tid = pickTid(Buffer.alloc(0), (t) => conn.hasTid(t));
    // §7.1.3: To-Path is the From-Path of the original request; REPORTs get no response (§7.1.2).
    conn.sendUrgent({ bytes: serializeRequest(successReport({ tid, messageId, size, toPath, self: this.localUri })), tid });
  }

  private handleReport(req: MsrpRequest): void {
    const problem = requestProblem(req);
    const status = req.status;
    const messageId = req.messageId;
    if (problem !== null || !status || messageId === undefined) {
      this.log.info('MSRP REPORT ignored', { tid: req.tid, reason: problem });
      return;
    }
    // §7.1.1/§7.1.2: a REPORT for a Message-ID we did not send is silently ignored.
    if (!this.sent.has(messageId)) {
      if (this.host.log.isDebugEnabled()) this.log.debug('MSRP REPORT for an unknown Message-ID', { tid: req.tid, messageId });
      return;
    }
    // §7.3.2: a "000" status reads like a transaction response; a failure stops the message (§10.5 for 413).
    if (status.namespace === '000' && status.code !== 200) this.stopped.add(messageId);
    const report: MsrpReport = { messageId, namespace: status.namespace, code: status.code, tid: req.tid };
    if (status.comment !== undefined) report.comment = status.comment;
    if (req.byteRange !== undefined) report.byteRange = req.byteRange;
    this.fire('report', report);
  }

  private sendResult(messageId: string, code: number, comment: string | undefined): void {
    if (code === 200) return;
    // §10.5: after a 413 "MUST NOT send any further chunks"; §7.3.2: other failures abort the message too.
    this.stopped.add(messageId);
    if (this.failed.has(messageId)) return;
    this.failed.add(messageId);
    this.fire('sendError', { messageId, code, reason: comment ?? STATUS_TEXT[code] ?? 'error' });
  }
}
