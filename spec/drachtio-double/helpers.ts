// Shared setup for the drachtio double contract tests: the real drachtio-srf
// (CommonJS) connected to a DrachtioDouble.
import { EventEmitter, once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { TestContext } from 'node:test';
import {
  DrachtioDouble, FrameDecoder, encodeFrame, type DrachtioDoubleOptions,
} from '../support/drachtio-double/index.js';

const require = createRequire(import.meta.url);

// drachtio-srf's bundled typings do not match its runtime API (e.g. request()),
// so the tests use this loose view of it.
export interface SrfApp extends EventEmitter {
  connect(opts: Record<string, unknown>): void;
  listen(opts: Record<string, unknown>): any;
  disconnect(): void;
  endSession(req: any): void;
  use(verb: string, fn: (req: any, res: any, next: () => void) => void): void;
  message(fn: (req: any, res: any) => void): void;
  invite(fn: (req: any, res: any) => void): void;
  subscribe(fn: (req: any, res: any) => void): void;
  options(fn: (req: any, res: any) => void): void;
  register(fn: (req: any, res: any) => void): void;
  request(uri: string, opts: Record<string, unknown>): Promise<any>;
  createUAS(req: any, res: any, opts: Record<string, unknown>): Promise<any>;
  createUAC(uri: string, opts: Record<string, unknown>, cbs?: Record<string, unknown>): Promise<any>;
  proxyRequest(req: any, dest: string | string[], opts?: Record<string, unknown>): Promise<any>;
  unregisterForMessages(verb: string): void;
  findDialogById(id: string): any;
  removeDialog(dlg: any): void;
}

export const Srf = require('drachtio-srf') as new () => SrfApp;

export interface Harness {
  dd: DrachtioDouble;
  srf: SrfApp;
  /** Errors srf emitted ('error' must always have a listener, A.4). */
  srfErrors: Error[];
}

export interface HarnessOptions extends DrachtioDoubleOptions {
  /** Registers handlers before srf connects. */
  handlers?: (srf: SrfApp) => void;
  connect?: Record<string, unknown>;
  /** Verbs to wait for after connecting. */
  routes?: string[];
}

interface SrfWireInternals {
  closing?: boolean;
  reconnectVars?: { retryTimer?: NodeJS.Timeout | null };
}

/**
 * Never let srf leave a reconnect loop running. srf.disconnect() throws
 * (an assert in a debug message) when srf has no live socket, e.g. while it
 * waits to reconnect, and then never sets its `closing` flag: the retry timer
 * would keep the test process alive. So set the flag and clear the timer too.
 */
export function closeSrf(srf: SrfApp): void {
  try {
    srf.disconnect();
  } catch {
    // no live socket: handled below
  }
  const wp = (srf as unknown as { _app?: { client?: { wp?: SrfWireInternals } } })._app?.client?.wp;
  if (wp) {
    wp.closing = true;
    if (wp.reconnectVars?.retryTimer) {
      clearTimeout(wp.reconnectVars.retryTimer);
      wp.reconnectVars.retryTimer = null;
    }
  }
}

/** A double plus a connected srf; both are closed when the test ends. */
export async function harness(t: TestContext, opts: HarnessOptions = {}): Promise<Harness> {
  const dd = await DrachtioDouble.start(opts);
  const srf = new Srf();
  const srfErrors: Error[] = [];
  srf.on('error', (err: Error) => srfErrors.push(err));
  t.after(async () => {
    closeSrf(srf);
    await dd.stop();
  });
  opts.handlers?.(srf);
  const connected = once(srf, 'connect');
  srf.connect({ host: dd.host, port: dd.port, secret: opts.secret ?? 'cymru', ...opts.connect });
  const [err] = await connected as [Error | null];
  if (err) throw err;
  for (const verb of opts.routes ?? []) await dd.waitForRoute(verb);
  return { dd, srf, srfErrors };
}

/**
 * Resolves with the args of the next `event` on `emitter`, or rejects after
 * `ms`. Unlike events.once it ignores 'error' events (srf re-emits socket errors).
 */
export function nextEvent(em: EventEmitter, event: string, ms = 2000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.removeListener(event, on);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const on = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    em.once(event, on);
  });
}

/** A bare TCP client speaking the framing, for what srf cannot be made to send. */
export interface RawClient {
  send(payload: string): void;
  /** Next payload from the double. */
  next(ms?: number): Promise<string>;
  /** Resolves when the double closed the connection. */
  closed: Promise<void>;
  destroy(): void;
}

export async function rawClient(t: TestContext, port: number): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  t.after(() => socket.destroy());
  const decoder = new FrameDecoder();
  const queue: string[] = [];
  const waiting: Array<(p: string) => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const p of decoder.push(chunk)) {
      const w = waiting.shift();
      if (w) w(p);
      else queue.push(p);
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    send: (payload) => socket.write(encodeFrame(payload)),
    next: (ms = 2000) => {
      const q = queue.shift();
      if (q !== undefined) return Promise.resolve(q);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('raw client: no frame')), ms);
        waiting.push((p) => {
          clearTimeout(timer);
          resolve(p);
        });
      });
    },
    closed,
    destroy: () => socket.destroy(),
  };
}

export const SDP_A = [
  'v=0', 'o=alice 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=message 7394 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://127.0.0.1:7394/s111271;tcp', '',
].join('\r\n');

export const SDP_GW = [
  'v=0', 'o=gw 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=message 7395 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://127.0.0.1:7395/gw123;tcp', '',
].join('\r\n');
