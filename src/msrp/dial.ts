/**
 * Opening a transport connection to the authority of an MSRP URI (RFC 4975
 * §5.4, §6.2): TCP for "msrp", TLS for "msrps" ("Connections using the msrps
 * scheme MUST use TLS"), with SNI and the certificate checked against the host
 * name (§5.4: "The SubjectAltName in the received certificate MUST match the
 * hostname part of the URI", §14.2). Host names resolve through the system
 * resolver (A/AAAA, §6.2). Never throws; the result says why it failed.
 */
import { type Socket, createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Result, describe as describeError, fail, ok } from '../sip/bodies/result.js';
import type { MsrpUri } from './uri.js';

export interface MsrpTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** CAs trusted for outbound msrps connections (default: Node's). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify peer certificates on outbound msrps connections (§5.4 "MUST be valid"); default true. */
  rejectUnauthorized?: boolean;
}

export interface DialOptions {
  tls?: MsrpTlsOptions;
  connectTimeoutMs: number;
}

/** Starts connecting; `socket` is there at once (to destroy on shutdown), `ready` settles once. */
export function dialMsrp(uri: MsrpUri, opts: DialOptions): { socket: Socket; ready: Promise<Result<void>> } {
  // §8.2: URIs from SDP carry explicit ports; 2855 (§15.4) only for a URI that somehow lacks one.
  const port = uri.port ?? 2855;
  const tls = opts.tls;
  const secure = uri.scheme === 'msrps';
  const socket: Socket = secure
    ? tlsConnect({
      host: uri.host, port, ...(uri.hostType === 'name' ? { servername: uri.host } : {}),
      rejectUnauthorized: tls?.rejectUnauthorized ?? true, ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
    })
    : createConnection({ host: uri.host, port });
  const ready = new Promise<Result<void>>((resolve) => {
    let done = false;
    const finish = (r: Result<void>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish(fail(`connect timeout after ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs).unref();
    // These listeners stay: an 'error' listener on every socket, always (no uncaught exceptions).
    socket.on('error', (e) => finish(fail(describeError(e))));
    socket.on('close', () => finish(fail('connection closed while connecting')));
    socket.once(secure ? 'secureConnect' : 'connect', () => finish(ok(undefined)));
  });
  return { socket, ready };
}
