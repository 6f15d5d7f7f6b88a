// A SIP chat client's media side for integration tests: a separate instance
// of the MSRP endpoint (src/msrp, checked against the RFC 4975 vectors in
// spec/unit/msrp-*.test.ts) on loopback, with a recorder of what arrives.
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { buildMsrpSdp, parseMsrpSdp } from '../../src/msrp/sdp.js';
import { formatMsrpPath } from '../../src/msrp/uri.js';
import type { MsrpMessage, MsrpReport, MsrpSession } from '../../src/msrp/session.js';

export interface PeerSession {
  session: MsrpSession;
  sdp: string;
  messages: MsrpMessage[];
  reports: MsrpReport[];
  closed: string[];
}

const quiet = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

export class MsrpPeer {
  private constructor(readonly endpoint: MsrpEndpoint) {}

  static async start(): Promise<MsrpPeer> {
    const endpoint = new MsrpEndpoint({ logger: quiet, listenAddress: '127.0.0.1', port: 0, keepaliveIntervalMs: 0 });
    await endpoint.start();
    return new MsrpPeer(endpoint);
  }

  /** A session and its SDP (offer or answer); `setup` as RFC 6135 a=setup. */
  session(setup: 'active' | 'passive' = 'passive'): PeerSession {
    const r = this.endpoint.createSession({ acceptTypes: ['text/plain', 'application/im-iscomposing+xml'] });
    if (!r.ok) throw new Error(r.error);
    const s: PeerSession = { session: r.value, messages: [], reports: [], closed: [], sdp: '' };
    s.sdp = buildMsrpSdp({ path: [r.value.localUri], acceptTypes: ['text/plain', 'application/im-iscomposing+xml'], setup });
    r.value.on('message', (m) => s.messages.push(m));
    r.value.on('report', (m) => s.reports.push(m));
    r.value.on('closed', (why) => s.closed.push(why));
    return s;
  }

  /** The a=path of an SDP. */
  static pathOf(sdp: string): string {
    const m = parseMsrpSdp(sdp);
    if (!m.ok) throw new Error(`not an MSRP SDP: ${m.error}\n${sdp}`);
    return formatMsrpPath(m.value.path);
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** Polls `probe` every 10 ms until it gives a value. */
export async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
