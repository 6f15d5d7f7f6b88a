// The part of drachtio-srf 5.0.29 the gateway uses, typed from its source
// (lib/srf.js, proto.js, response.js, wire-protocol.js). Its bundled d.ts
// lacks connect()'s reconnect/ping options, the outbound-mode listen(),
// error middleware, endSession(), message()/subscribe()/notify() and the
// events as they really fire, so the gateway talks to srf through this.
import type { EventEmitter } from 'node:events';

export interface SrfRequest {
  method: string;
  uri: string;
  source: 'network' | 'application';
  source_address: string;
  source_port: string | number;
  protocol: string;
  body: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
  getParsedHeader(name: string): unknown;
  /** Outbound mode: the socket this request arrived on (used by endSession). */
  socket?: unknown;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
}

export interface SrfResponse extends EventEmitter {
  status: number;
  readonly finalResponseSent: boolean;
  send(status: number, reason?: string | SendOptions, opts?: SendOptions): void;
  /** Emitted once, when a final (>= 200) response is sent. */
  on(event: 'end', listener: (info: { status: number; reason: string }) => void): this;
}

export type Next = (err?: unknown) => void;
export type Middleware = (req: SrfRequest, res: SrfResponse, next: Next) => void;
export type ErrorMiddleware = (err: unknown, req: SrfRequest, res: SrfResponse, next: Next) => void;

export interface ConnectOptions {
  host: string;
  port: number;
  secret: string;
  enablePing?: boolean;
  pingInterval?: number;
  reconnect?: { retryMaxDelay?: number; maxAttempts?: number };
}

export interface ListenOptions {
  host: string;
  port: number;
  secret: string;
}

export interface SrfApp extends EventEmitter {
  connect(opts: ConnectOptions): void;
  listen(opts: ListenOptions): unknown;
  disconnect(): void;
  /** Outbound mode: close the listening server. */
  close?(): void;
  use(fn: Middleware | ErrorMiddleware): void;
  use(method: string, fn: Middleware): void;
  /** Outbound mode: hang up the per-request connection drachtio-server opened. */
  endSession(req: SrfRequest): void;
  /** 'connect' fires with an Error when the secret is refused, else (null, hostports, version). */
  on(event: 'connect', listener: (err: Error | null, hostport?: string, version?: string) => void): this;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'reconnecting', listener: (info: { delay: number; attempt: number }) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
