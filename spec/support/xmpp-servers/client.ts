// A real XMPP client (@xmpp/client 0.14) for tests, logged in with PLAIN over
// loopback TCP (0.14 never picks PLAIN by itself on an unencrypted stream, and
// its SCRAM is slow), with an error listener, a stanza buffer and helpers.

import { randomUUID } from 'node:crypto';

import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

import type { XmppServer } from './types.js';

export interface ConnectClientOptions {
  /** Send initial presence (<presence/>) before resolving. Default false: the resource is then not "available",
   * so messages to the bare JID go to offline storage rather than to this client. */
  presence?: boolean;
  /** Login timeout, default 10000 ms. */
  timeoutMs?: number;
}

export interface TestClient {
  /** Full JID after resource binding. */
  jid: string;
  xmpp: Client;
  /** Everything the client emitted as 'error'. */
  errors: Error[];
  send(el: Element): Promise<void>;
  /** Sends an iq (an id is added when missing); resolves with the result stanza, rejects with an IqError carrying the error stanza. */
  iq(el: Element, timeoutMs?: number): Promise<Element>;
  /**
   * Resolves with the first incoming stanza matching `predicate`, looking first at stanzas
   * buffered since they arrived (a matched stanza is removed from the buffer; others stay).
   */
  waitFor(predicate: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  /** Stanzas received and not yet taken by waitFor (oldest first). */
  buffered(): Element[];
  stop(): Promise<void>;
}

export class IqError extends Error {
  readonly stanza: Element;
  readonly condition: string;
  readonly errorType: string;

  constructor(stanza: Element) {
    const error = stanza.getChild('error');
    const condition =
      error?.getChildElements().find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')
        ?.name ?? 'undefined-condition';
    const text = error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas');
    super(`iq error ${condition}${text ? ` (${text})` : ''}: ${stanza.toString()}`);
    this.name = 'IqError';
    this.stanza = stanza;
    this.condition = condition;
    this.errorType = String(error?.attrs.type ?? '');
  }
}

const MAX_BUFFER = 2000;

function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function quietStop(xmpp: Client): Promise<void> {
  try {
    xmpp.reconnect.stop();
    await withTimeout(xmpp.stop(), 5000, () => 'stop timed out');
  } catch {
    // server may be gone already
  }
  const socket = (xmpp as unknown as { socket: { destroy(): void } | null }).socket;
  socket?.destroy();
}

export async function connectClient(
  server: XmppServer,
  user: string,
  password: string,
  resource = 'test',
  opts: ConnectClientOptions = {},
): Promise<TestClient> {
  const userAgent = xml('user-agent', { id: randomUUID() });
  const xmpp = client({
    service: `xmpp://${server.host}:${server.c2sPort}`,
    domain: server.domain,
    resource,
    credentials: async (authenticate, mechanisms) => {
      if (!mechanisms.includes('PLAIN')) {
        throw new Error(`server offers no PLAIN (offered and supported: ${mechanisms.join(', ') || 'none'})`);
      }
      await authenticate({ username: user, password }, 'PLAIN', userAgent);
    },
  });
  // Tests decide themselves when to reconnect.
  xmpp.reconnect.stop();

  // Guard against data arriving after the parser was detached (seen once with 0.14:
  // "Cannot read properties of null (reading 'write')" in Connection._onData, uncaught).
  const conn = xmpp as unknown as { _onData(data: Buffer): void; parser: unknown };
  const onData = conn._onData;
  conn._onData = function guardedOnData(this: typeof conn, data: Buffer) {
    if (this.parser) onData.call(this, data);
  };

  const errors: Error[] = [];
  xmpp.on('error', (err: Error) => errors.push(err));

  const buffer: Element[] = [];
  const waiters: Array<{ predicate: (el: Element) => boolean; resolve(el: Element): void; reject(err: Error): void }> = [];
  const pendingIqs = new Map<string, { resolve(el: Element): void; reject(err: Error): void }>();
  let stopped = false;

  xmpp.on('stanza', (el: Element) => {
    const { type, id } = el.attrs as { type?: string; id?: string };
    if (el.name === 'iq' && (type === 'result' || type === 'error') && id && pendingIqs.has(id)) {
      const pending = pendingIqs.get(id);
      pendingIqs.delete(id);
      if (type === 'result') pending?.resolve(el);
      else pending?.reject(new IqError(el));
      return;
    }
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      if (!w) continue;
      let match: boolean;
      try {
        match = w.predicate(el);
      } catch (err) {
        waiters.splice(i, 1);
        i--;
        w.reject(err as Error);
        continue;
      }
      if (match) {
        waiters.splice(i, 1);
        w.resolve(el);
        return;
      }
    }
    buffer.push(el);
    if (buffer.length > MAX_BUFFER) buffer.shift();
  });

  let jid: string;
  const timeoutMs = opts.timeoutMs ?? 10000;
  try {
    const address = await withTimeout(xmpp.start(), timeoutMs, () => `login timed out after ${timeoutMs} ms`);
    jid = address.toString();
    if (opts.presence) await xmpp.send(xml('presence'));
  } catch (err) {
    await quietStop(xmpp);
    throw new Error(
      `${user}@${server.domain}/${resource} could not log in to ${server.kind} on port ${server.c2sPort}: ${(err as Error).message}\n${server.logTail(15)}`,
    );
  }

  const describeBuffer = (): string => {
    const last = buffer.slice(-10).map((s) => `  ${s.toString().slice(0, 400)}`);
    return last.length ? `last buffered stanzas:\n${last.join('\n')}` : 'no buffered stanzas';
  };

  return {
    jid,
    xmpp,
    errors,
    async send(el: Element): Promise<void> {
      await xmpp.send(el);
    },
    iq(el: Element, iqTimeoutMs = 5000): Promise<Element> {
      if (stopped) return Promise.reject(new Error(`${jid}: client stopped`));
      if (!el.attrs.id) el.attrs.id = randomUUID();
      const id = String(el.attrs.id);
      return new Promise<Element>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingIqs.delete(id);
          reject(new Error(`${jid}: no reply to iq id=${id} within ${iqTimeoutMs} ms: ${el.toString()}`));
        }, iqTimeoutMs);
        pendingIqs.set(id, {
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        xmpp.send(el).catch((err: Error) => {
          pendingIqs.get(id)?.reject(err);
          pendingIqs.delete(id);
        });
      });
    },
    waitFor(predicate: (el: Element) => boolean, waitTimeoutMs = 5000): Promise<Element> {
      for (let i = 0; i < buffer.length; i++) {
        const el = buffer[i] as Element;
        let match: boolean;
        try {
          match = predicate(el);
        } catch (err) {
          return Promise.reject(err as Error);
        }
        if (match) {
          buffer.splice(i, 1);
          return Promise.resolve(el);
        }
      }
      if (stopped) return Promise.reject(new Error(`${jid}: client stopped`));
      return new Promise<Element>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (el: Element) => {
            clearTimeout(timer);
            resolve(el);
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`${jid}: no matching stanza within ${waitTimeoutMs} ms; ${describeBuffer()}`));
        }, waitTimeoutMs);
        waiters.push(waiter);
      });
    },
    buffered(): Element[] {
      return [...buffer];
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`${jid}: client stopped while waiting`));
      for (const [id, p] of pendingIqs) {
        pendingIqs.delete(id);
        p.reject(new Error(`${jid}: client stopped while waiting for iq ${id}`));
      }
      await quietStop(xmpp);
    },
  };
}
