/**
 * One MSRP transport connection (TCP or TLS): the stream parser, the writer
 * (writer.ts: ordering and fairness), the transactions waiting for a response,
 * keepalive and the unbound timer.
 *
 * - Several sessions may share a connection (§5.4).
 * - A request sent with Failure-Report "yes" runs a timer from the moment it is
 *   handed to the operating system; no 200 within the transaction timeout (30 s,
 *   §7.1.1) counts as 408 (§10.4: a 408 is treated like a local timeout).
 * - A framing error closes this connection only, with the reason logged.
 * - If the connection fails, the sessions on it fail (§5.4).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { describe as describeError } from '../sip/bodies/result.js';
import type { MsrpFrame, MsrpRequest } from './frame.js';
import { MsrpParser, type ParserLimits } from './parser.js';
import { FrameWriter, type OutboundFrame, type OutboundJob, type Tracking } from './writer.js';

export type { OutboundFrame, OutboundJob, Tracking } from './writer.js';

/** What a connection needs from a session bound to it. */
export interface BoundSession {
  /** A bodiless SEND with Failure-Report "yes" for this session, or null when it cannot build one yet. */
  keepaliveFrame(conn: MsrpConnection): { bytes: Buffer; tid: string } | null;
  /** The peer answered the keepalive with an error (481: it no longer knows the session). */
  keepaliveRefused(code: number, comment: string | undefined): void;
  /** The connection failed or was closed. */
  transportClosed(reason: string): void;
}

export interface ConnectionOptions {
  id: number;
  socket: Socket;
  /** We opened it (active role) to `authority`. */
  authority?: string;
  log: Logger;
  limits: ParserLimits;
  keepaliveMs: number;
  transactionTimeoutMs: number;
  unboundTimeoutMs: number;
  onRequest: (conn: MsrpConnection, req: MsrpRequest) => void;
  onClosed: (conn: MsrpConnection, reason: string) => void;
}

export class MsrpConnection {
  readonly id: number;
  readonly authority: string | undefined;
  readonly remote: string;
  readonly sessions = new Set<BoundSession>();
  private readonly socket: Socket;
  private readonly parser: MsrpParser;
  private readonly log: Logger;
  private readonly writer: FrameWriter;
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; track: Tracking }>();
  private closing = false;
  private finished = false;
  private reason: string | undefined;
  private lastReceived = Date.now();
  private keepalivePending = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private unboundTimer: NodeJS.Timeout | undefined;
  private forceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    this.id = opts.id;
    this.authority = opts.authority;
    this.socket = opts.socket;
    this.remote = `${opts.socket.remoteAddress ?? '?'}:${opts.socket.remotePort ?? '?'}`;
    this.log = opts.log.child({ conn: opts.id, remote: this.remote });
    this.parser = new MsrpParser(opts.limits);
    this.socket.setNoDelay(true);
    // Every socket has an 'error' listener: a peer reset must never become an uncaught exception.
    this.socket.on('error', (e) => { this.reason ??= `socket error: ${describeError(e)}`; });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => {
      const cut = this.parser.end();
      if (cut !== undefined && this.parser.error === undefined) this.reason ??= `peer closed: ${cut}`;
      this.reason ??= 'peer closed the connection';
    });
    this.socket.on('close', () => this.finish());
    this.writer = new FrameWriter(this.socket, this.log, (f) => this.track(f), () => {
      this.log.warn('closing MSRP connection: the peer does not read its responses');
      this.close('peer does not read (write queue full)');
    });
    // §5.4: the passive side learns who connected from the first request; a connection that never
    // sends one only holds resources.
    this.unboundTimer = setTimeout(() => this.close(`no session bound within ${opts.unboundTimeoutMs} ms`), opts.unboundTimeoutMs).unref();
    if (opts.keepaliveMs > 0) this.keepaliveTimer = setInterval(() => this.keepalive(), opts.keepaliveMs).unref();
  }

  get isOpen(): boolean {
    return !this.closing && !this.finished;
  }

  /** True when `tid` belongs to a transaction still waiting for its response (§7.1: no collisions). */
  hasTid(tid: string): boolean {
    return this.pending.has(tid);
  }

  attach(session: BoundSession): void {
    this.sessions.add(session);
    if (this.unboundTimer) clearTimeout(this.unboundTimer);
    this.unboundTimer = undefined;
  }

  /** Removes a session; the connection closes once none is left (§5.4: not while sessions use it). */
  detach(session: BoundSession): void {
    if (!this.sessions.delete(session)) return;
    if (this.sessions.size === 0) this.close('no session left', true);
  }

  sendUrgent(frame: OutboundFrame): void {
    if (this.isOpen) this.writer.sendUrgent(frame);
  }

  addJob(job: OutboundJob): void {
    if (this.isOpen) this.writer.addJob(job);
  }

  /** Closes the connection: `graceful` flushes what is queued in the socket first. */
  close(reason: string, graceful = false): void {
    if (this.finished) return;
    if (this.closing) {
      // Already ending gracefully; a hard close (endpoint shutdown) does not wait for the peer.
      if (!graceful) this.socket.destroy();
      return;
    }
    this.closing = true;
    this.reason ??= reason;
    this.clearTimers();
    // Frames not yet handed to the socket are dropped; what the socket holds is still flushed by end().
    this.writer.stop();
    if (graceful) {
      this.socket.end();
      // A peer that never closes its side must not keep the socket (and the process) alive.
      this.forceTimer = setTimeout(() => this.socket.destroy(), 2000).unref();
    } else {
      this.socket.destroy();
    }
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    const { frames, error } = this.parser.push(chunk);
    for (const frame of frames) {
      if (!this.isOpen) return;
      try {
        this.onFrame(frame);
      } catch (e) {
        // A bug here or in an application listener: log it, keep the process and the connection.
        this.log.error('MSRP frame handling failed', { tid: frame.tid, error: describeError(e) });
      }
    }
    if (error !== undefined && this.isOpen) {
      this.log.warn('closing MSRP connection: malformed data', { reason: error });
      this.close(`malformed MSRP: ${error}`);
    }
  }

  private onFrame(frame: MsrpFrame): void {
    if (frame.kind === 'request') {
      this.opts.onRequest(this, frame);
      return;
    }
    const entry = this.pending.get(frame.tid);
    if (!entry) {
      // Late (after our timeout) or for a Failure-Report "no" request that got one anyway: nothing waits.
      this.log.debug('MSRP response for no pending transaction', { tid: frame.tid, code: frame.code });
      return;
    }
    clearTimeout(entry.timer);
    this.pending.delete(frame.tid);
    entry.track.settle(frame.code, frame.comment);
  }

  /** Starts the transaction timer of a frame that awaits a response, once it is handed to the socket (§7.1.1). */
  private track(frame: OutboundFrame): void {
    const track = frame.track;
    if (!track) return;
    const timer = setTimeout(() => {
      this.pending.delete(frame.tid);
      if (!track.silentTimeout) track.settle(408, 'no response (local timeout)');
    }, track.timeoutMs).unref();
    this.pending.set(frame.tid, { timer, track });
  }

  /**
   * Keepalive: after `keepaliveMs` without receiving anything, a bodiless SEND with Failure-Report
   * "yes" (§7.1: bodiless requests keep NAT bindings alive). No response within the transaction
   * timeout means the peer is gone, and the connection (with its sessions, §5.4) is closed.
   */
  private keepalive(): void {
    if (!this.isOpen || this.keepalivePending || Date.now() - this.lastReceived < this.opts.keepaliveMs) return;
    for (const session of this.sessions) {
      const frame = session.keepaliveFrame(this);
      if (!frame) continue;
      this.keepalivePending = true;
      this.sendUrgent({
        ...frame,
        track: {
          timeoutMs: this.opts.transactionTimeoutMs,
          settle: (code, comment) => {
            this.keepalivePending = false;
            if (code === 408) {
              this.log.warn('closing MSRP connection: keepalive not answered', { timeoutMs: this.opts.transactionTimeoutMs });
              this.close('keepalive not answered (peer unreachable)');
            } else if (code !== 200) {
              session.keepaliveRefused(code, comment);
            }
          },
        },
      });
      return;
    }
  }

  private clearTimers(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (this.unboundTimer) clearTimeout(this.unboundTimer);
    this.keepaliveTimer = undefined;
    this.unboundTimer = undefined;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    if (this.forceTimer) clearTimeout(this.forceTimer);
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.writer.stop();
    const reason = this.reason ?? 'connection closed';
    this.log.debug('MSRP connection closed', { reason });
    const sessions = [...this.sessions];
    this.sessions.clear();
    for (const s of sessions) {
      try {
        s.transportClosed(reason);
      } catch (e) {
        this.log.error('MSRP session close failed', { error: describeError(e) });
      }
    }
    this.opts.onClosed(this, reason);
  }
}
