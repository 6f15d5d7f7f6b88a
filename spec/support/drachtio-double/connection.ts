// One TCP connection between the double and an app (drachtio-protocol.md A.1).
import type { Socket } from 'node:net';
import { CRLF, FrameDecoder, FrameError, MAX_APP_FRAME_DIGITS, encodeFrame, newMsgId, splitPayload } from './framing.js';
import type { AppLink } from './state.js';

/** One frame as it crossed an app connection. */
export interface FrameRecord {
  seq: number;
  at: number;
  /** Connection number (1, 2, … in order of connection). */
  conn: number;
  direction: 'app->server' | 'server->app';
  payload: string;
  /** Leader split on `|` (A.1); tokens[1] is the message type. */
  tokens: string[];
  /** SIP text after the first CRLF, if any. */
  body: string | undefined;
}

export interface ConnectionHooks {
  record(conn: AppConnection, direction: FrameRecord['direction'], payload: string): void;
  onPayload(conn: AppConnection, payload: string): void;
  onClose(conn: AppConnection, reason: string): void;
}

export class AppConnection implements AppLink {
  authenticated = false;
  /** Verbs this app routed (A.2 `route|<verb>`). */
  readonly verbs = new Set<string>();
  private closed = false;
  private closeReason = 'closed by app';
  private readonly decoder = new FrameDecoder(MAX_APP_FRAME_DIGITS);

  constructor(
    readonly id: number,
    readonly socket: Socket,
    /** inbound: the app connected to the admin port; outbound: the double connected to the app (A.11). */
    readonly mode: 'inbound' | 'outbound',
    private readonly hooks: ConnectionHooks,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('close', () => {
      this.closed = true;
      this.hooks.onClose(this, this.closeReason);
    });
  }

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  send(payload: string): void {
    if (!this.alive) return;
    this.hooks.record(this, 'server->app', payload);
    this.socket.write(encodeFrame(payload));
  }

  reply(appMsgId: string, rest: string, body?: string): void {
    this.send(`${newMsgId()}|response|${appMsgId}|${rest}${body === undefined ? '' : CRLF + body}`);
  }

  /** Orderly close after a final reply (wrong secret, unknown message type). */
  end(reason: string): void {
    this.closeReason = reason;
    this.socket.end();
  }

  /** Abrupt close, like a crashing server or a framing error. */
  destroy(reason: string): void {
    this.closeReason = reason;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let payloads: string[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      // A.1: e.g. a >= 100 000 byte frame: the server throws and drops the client
      if (err instanceof FrameError) {
        this.destroy(`framing error: ${err.message}`);
        return;
      }
      throw err;
    }
    // Log everything that arrived in this chunk before answering, as the
    // real server reads a whole chunk before replying (traces show 4 `route`
    // frames, then 4 replies).
    for (const p of payloads) this.hooks.record(this, 'app->server', p);
    for (const p of payloads) {
      if (!this.alive) return;
      this.hooks.onPayload(this, p);
    }
  }
}

export function frameRecord(seq: number, conn: number, direction: FrameRecord['direction'], payload: string): FrameRecord {
  const { tokens, body } = splitPayload(payload);
  return { seq, at: Date.now(), conn, direction, payload, tokens, body };
}
