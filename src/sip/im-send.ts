// The IM service's SIP side: encodes a SipMessageOut as a MESSAGE request
// (RFC 3428, RFC 7572 §4), sends it through drachtio-srf and the outbound
// proxy, and reports the final response.
import { randomUUID } from 'node:crypto';
import type { ImSipPort, SipSendOutcome } from '../core/im/service.js';
import type { SipMessageOut } from '../core/im/model.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import { buildCpim, buildImdn, buildIsComposing, IMDN_CONTENT_TYPE, ISCOMPOSING_CONTENT_TYPE } from './bodies/index.js';
import type { SipLink } from './link.js';

/**
 * Bytes drachtio-server adds to a request it sends (Via with branch and
 * rport, From tag, Max-Forwards, CSeq, Call-ID when we give none,
 * Content-Length), on top of what the gateway writes. Measured from the
 * traces with room to spare: the RFC 3428 §8 limit is on the whole request.
 */
const SERVER_ADDED_BYTES = 220;

interface Encoded {
  contentType: string;
  body: string;
}

export function encodePayload(out: SipMessageOut): Encoded {
  const p = out.payload;
  switch (p.kind) {
    case 'text':
      if (!p.imdn) return { contentType: 'text/plain;charset=UTF-8', body: p.text };
      // RFC 5438 §7.1.1: an IMDN request rides in CPIM with Message-ID and DateTime.
      return {
        contentType: 'message/cpim',
        body: buildCpim({
          from: { uri: stripParams(out.fromUri) },
          to: [{ uri: out.toUri }],
          dateTime: p.imdn.dateTime,
          imdn: { messageId: p.imdn.messageId, dispositionNotification: p.imdn.notify },
          content: { contentType: 'text/plain;charset=UTF-8', headers: {}, body: p.text },
        }),
      };
    case 'iscomposing':
      return { contentType: ISCOMPOSING_CONTENT_TYPE, body: buildIsComposing({ state: p.state, ...(p.refresh ? { refresh: p.refresh } : {}) }) };
    case 'imdn':
      // RFC 5438 §7.2.1: the notification is itself a CPIM message with a
      // Message-ID of its own and Content-Disposition: notification.
      return {
        contentType: 'message/cpim',
        body: buildCpim({
          from: { uri: stripParams(out.fromUri) },
          to: [{ uri: out.toUri }],
          dateTime: new Date(),
          imdn: { messageId: randomUUID(), dispositionNotification: [] },
          content: {
            contentType: IMDN_CONTENT_TYPE,
            headers: { 'Content-Disposition': 'notification' },
            body: buildImdn({ messageId: p.messageId, dateTime: p.dateTime, recipientUri: p.recipientUri, kind: p.notification, status: p.status }),
          },
        }),
      };
  }
}

function stripParams(uri: string): string {
  return uri.split(';')[0]!;
}

/** Header values must not break the request: no CR/LF or other controls (RFC 3261 §7.3). */
export function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}

interface SrfUacRequest {
  on(event: 'response', cb: (res: { status: number; reason: string; get(h: string): string | undefined }) => void): void;
}
type RequestFn = (uri: string, opts: Record<string, unknown>, cb: (err: Error | null, req?: SrfUacRequest) => void) => void;

export class SipImPort implements ImSipPort {
  constructor(
    private readonly link: SipLink,
    private readonly outboundProxy: string,
    private readonly maxBytes: number,
    private readonly metrics: Metrics,
  ) {}

  async send(out: SipMessageOut, timeoutMs: number, log: Logger): Promise<SipSendOutcome> {
    const { contentType, body } = encodePayload(out);
    const headers: Record<string, string> = {
      From: `<${out.fromUri}>`,
      To: `<${out.toUri}>`,
      'Content-Type': contentType,
    };
    if (out.callId !== undefined) headers['Call-ID'] = out.callId;
    if (out.subject !== undefined) headers.Subject = headerSafe(out.subject);
    if (out.lang !== undefined) headers['Content-Language'] = headerSafe(out.lang);

    const size = Buffer.byteLength(`MESSAGE ${out.requestUri} SIP/2.0\r\n`)
      + Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}: ${v}\r\n`), 0)
      + 2 + Buffer.byteLength(body) + SERVER_ADDED_BYTES;
    if (size > this.maxBytes) return { kind: 'too-large', bytes: size };
    if (!this.link.isUp) return { kind: 'unavailable', why: 'drachtio link down' };

    this.metrics.sipRequests.inc({ direction: 'out', method: 'MESSAGE' });
    const request = (this.link.srf as unknown as { request: RequestFn }).request.bind(this.link.srf);
    return new Promise<SipSendOutcome>((resolve) => {
      let done = false;
      const finish = (outcome: SipSendOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      // drachtio-server gives up after Timer F (32 s) with a local 408; this
      // guard covers a response lost with the drachtio connection itself.
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const opts: Record<string, unknown> = { method: 'MESSAGE', headers, body };
      if (this.outboundProxy) opts.proxy = this.outboundProxy;
      try {
        request(out.requestUri, opts, (err, req) => {
          if (err || !req) {
            log.warn('drachtio refused the MESSAGE', { err: err?.message });
            finish({ kind: 'unavailable', why: err?.message ?? 'no request' });
            return;
          }
          req.on('response', (res) => {
            if (res.status < 200) return;
            this.metrics.sipResponses.inc({ direction: 'in', status: String(res.status) });
            const contact = res.get('Contact');
            finish({ kind: 'response', status: res.status, reason: res.reason, ...(contact ? { contact } : {}) });
          });
        });
      } catch (err) {
        // srf throws synchronously when it has no connection at all.
        finish({ kind: 'unavailable', why: String(err) });
      }
    });
  }
}
