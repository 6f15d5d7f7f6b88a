// A whole test bed: a private XMPP server, the drachtio double and the
// gateway process configured against both.
import { buildSipRequest, DrachtioDouble, type Peer } from './drachtio-double/index.js';
import { GatewayProcess } from './gateway-process.js';
import type { StartXmppServer, XmppServer } from './xmpp-servers/index.js';

export const DRACHTIO_SECRET = 'cymru';

/** The SIP proxy as the gateway sees it: inside the trusted range of gatewayConfig(). */
export const PROXY_PEER: Peer = { transport: 'udp', address: '127.0.0.1', port: 5060 };

export interface SipRequestOptions {
  peer?: Peer;
  uri?: string;
  from?: string;
  to?: string;
  callId?: string;
  headers?: Record<string, string>;
  body?: string;
  contentType?: string;
}

/** A request from a SIP user at the proxy to an XMPP user, as the proxy would forward it (defaults: bob@example.org to alice@example.test). */
export function sipRequest(method: string, opts: SipRequestOptions = {}): string {
  const uri = opts.uri ?? 'sip:alice@example.test';
  return buildSipRequest({
    method,
    uri,
    from: opts.from ?? '<sip:bob@example.org>',
    to: opts.to ?? `<${uri}>`,
    peer: opts.peer ?? PROXY_PEER,
    ...(opts.callId ? { callId: opts.callId } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.contentType ? { contentType: opts.contentType } : {}),
  });
}

export interface Bed {
  xmpp: XmppServer;
  sip: DrachtioDouble;
  gw: GatewayProcess;
  stop(): Promise<void>;
}

/** A gateway config pointing at the given server and double (inbound mode), with quick timers for tests. */
export function gatewayConfig(xmpp: Pick<XmppServer, 'componentDomain' | 'componentPort' | 'componentSecret' | 'domain'>, sip: { port: number }, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    xmpp: {
      componentDomain: xmpp.componentDomain,
      host: '127.0.0.1',
      port: xmpp.componentPort,
      secret: xmpp.componentSecret,
      startTimeoutMs: 5000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      keepalive: { intervalMs: 30000, timeoutMs: 5000 },
    },
    sip: {
      drachtio: { mode: 'inbound', host: '127.0.0.1', port: sip.port, secret: DRACHTIO_SECRET, reconnectMaxDelayMs: 500, startTimeoutMs: 5000 },
      outboundProxy: 'sip:127.0.0.1:5060;lr',
      trustedSources: ['127.0.0.0/30'],
    },
    domains: { homeSipDomain: 'example.org', xmppToSip: [{ xmpp: xmpp.domain, sip: xmpp.domain }] },
    http: { host: '127.0.0.1', port: 0 },
    msrp: { listenHost: '127.0.0.1', port: 0 },
    shutdown: { graceMs: 2000 },
  };
  return merge(base, overrides);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && av !== null && typeof av === 'object' && !Array.isArray(av)
      ? merge(av as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** Starts server, double and gateway, and waits until /healthz says 200. */
export async function startBed(start: StartXmppServer, opts: { users?: string[]; config?: Record<string, unknown> } = {}): Promise<Bed> {
  const xmpp = await start({ users: (opts.users ?? ['alice', 'bob']).map((name) => ({ name, password: 'pass' })) });
  let sip: DrachtioDouble | undefined;
  let gw: GatewayProcess | undefined;
  try {
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    gw = GatewayProcess.spawn(gatewayConfig(xmpp, sip, opts.config));
    await gw.waitForHealth(200);
    await sip.waitForRoute('options');
  } catch (err) {
    await gw?.stop('SIGKILL');
    await sip?.stop();
    await xmpp.stop();
    throw err;
  }
  const bed: Bed = {
    xmpp, sip, gw,
    async stop() {
      await bed.gw.stop();
      await sip.stop();
      await xmpp.stop();
    },
  };
  return bed;
}
