// An inbound MESSAGE request -> the neutral SipMessageIn of core/im, with its
// body decoded (RFC 7572 §7). Anything the gateway cannot carry is refused
// here with the SIP status that says why.
import { uriFromNameAddr } from '../core/address.js';
import type { CpimEnvelope, SipMessageIn } from '../core/im/model.js';
import {
  decodeText, htmlToIm, IMDN_CONTENT_TYPE, ISCOMPOSING_CONTENT_TYPE, parseContentType, parseCpim, parseImdn, parseIsComposing,
  type Cpim,
} from './bodies/index.js';
import type { SrfRequest } from './srf-types.js';

/** Body types the gateway takes in a MESSAGE; the Accept header of a 415 and of OPTIONS. */
export const ACCEPTED_TYPES = ['text/plain', 'text/html', 'message/cpim', ISCOMPOSING_CONTENT_TYPE, IMDN_CONTENT_TYPE];

export type ReadResult = { ok: true; msg: SipMessageIn } | { ok: false; status: number; reason: string; headers?: Record<string, string> };

function refuse(status: number, reason: string, headers?: Record<string, string>): ReadResult {
  return { ok: false, status, reason, ...(headers ? { headers } : {}) };
}

const unsupported = (mime: string) =>
  // RFC 3261 §21.4.13: 415 lists what is accepted.
  refuse(415, `Unsupported Media Type ${mime}`.slice(0, 100), { Accept: ACCEPTED_TYPES.join(', ') });

type Content = SipMessageIn['content'];

/** Decodes one body of a given Content-Type; CPIM is unwrapped one level (RFC 3862). */
function decodeBody(contentType: string | undefined, body: string, allowCpim: boolean): { ok: true; content: Content } | ReadResult {
  const ct = parseContentType(contentType ?? 'text/plain');
  if (ct === null) return refuse(400, 'Malformed Content-Type');
  switch (ct.mime) {
    case 'text/plain': {
      const text = decodeText(body, ct.params.charset);
      if (!text.ok) return ct.params.charset && !/^utf-?8$/i.test(ct.params.charset) ? unsupported(`charset ${ct.params.charset}`) : refuse(400, 'Body is not valid text');
      return { ok: true, content: { kind: 'text', text: text.value } };
    }
    case 'text/html': {
      // RFC 7572 §7: text/html SHOULD be processed, as XHTML-IM with a plain body.
      const text = decodeText(body, ct.params.charset);
      if (!text.ok) return refuse(400, 'Body is not valid text');
      const im = htmlToIm(text.value);
      if (!im.ok) return refuse(400, 'Malformed HTML body');
      return { ok: true, content: { kind: 'text', text: im.value.plain, xhtml: im.value.xhtml } };
    }
    case ISCOMPOSING_CONTENT_TYPE: {
      const doc = parseIsComposing(body);
      if (!doc.ok) return refuse(400, 'Malformed isComposing document');
      const refresh = doc.value.refresh;
      return { ok: true, content: { kind: 'iscomposing', state: doc.value.state, ...(refresh !== undefined ? { refresh } : {}) } };
    }
    case IMDN_CONTENT_TYPE: {
      const doc = parseImdn(body);
      if (!doc.ok) return refuse(400, 'Malformed IMDN document');
      return { ok: true, content: { kind: 'imdn', notification: doc.value.kind, status: doc.value.status, messageId: doc.value.messageId } };
    }
    case 'message/cpim': {
      if (!allowCpim) return unsupported('nested message/cpim');
      const cpim = parseCpim(body);
      if (!cpim.ok) return refuse(400, 'Malformed CPIM message');
      const inner = decodeBody(cpim.value.content.contentType, cpim.value.content.body, false);
      if (!('content' in inner)) return inner;
      return { ok: true, content: { ...inner.content, cpim: envelope(cpim.value) } };
    }
    default:
      return unsupported(ct.mime);
  }
}

function envelope(c: Cpim): CpimEnvelope {
  const env: CpimEnvelope = { toUris: c.to.map((a) => a.uri) };
  if (c.from) env.fromUri = c.from.uri;
  if (c.dateTime) env.dateTime = c.dateTime;
  if (c.subject !== undefined) env.subject = c.subject;
  if (c.imdn) env.imdn = { notify: [...c.imdn.dispositionNotification], ...(c.imdn.messageId ? { messageId: c.imdn.messageId } : {}) };
  return env;
}

export function readSipMessage(req: SrfRequest): ReadResult {
  const fromHeader = req.get('From') ?? '';
  const fromUri = uriFromNameAddr(fromHeader);
  const toUri = uriFromNameAddr(req.get('To') ?? '');
  const callId = req.get('Call-ID');
  if (!fromUri || !toUri || !callId) return refuse(400, 'Missing or malformed From, To or Call-ID');
  // A MESSAGE without a body carries nothing to deliver (RFC 3428 §4 expects one).
  const body = req.body ?? '';
  if (body.length === 0) return refuse(400, 'Empty MESSAGE body');
  const decoded = decodeBody(req.get('Content-Type'), body, true);
  if (!('content' in decoded)) return decoded;
  const msg: SipMessageIn = { requestUri: req.uri, fromUri, toUri, callId, content: decoded.content };
  const display = /^\s*"((?:[^"\\]|\\.)*)"\s*</.exec(fromHeader)?.[1];
  if (display) msg.fromDisplay = display;
  const subject = req.get('Subject');
  if (subject) msg.subject = subject;
  // RFC 7572 §8: Content-Language -> xml:lang. Only the first tag is kept.
  const lang = req.get('Content-Language')?.split(',')[0]?.trim();
  if (lang && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang)) msg.lang = lang;
  return { ok: true, msg };
}
