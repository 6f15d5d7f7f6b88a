// How drachtio-server (through sofia-sip) completes the partial SIP messages
// srf sends: drachtio-protocol.md A.6 (responses), A.7 (new requests),
// A.8 (in-dialog requests), A.9 (CANCEL).
import {
  SipHeaders, SipMessage, buildSip, cseqOf, headerKey, parseSipUri, tagOf, uriOf, withTag,
  type Transport,
} from './sip-text.js';

/** The double's own SIP transport address (the `127.0.0.1:5080` of the traces). */
export interface LocalSip {
  address: string;
  port: number;
}

/** A failure drachtio-server reports as `…|NOK|<text>`. */
export class NokError extends Error {}

// Canonical names and the order sofia encodes known headers in (the field
// order of sofia's sip_t). Observed in the traces: `cseq` -> `CSeq`, and e.g.
// `Contact, Expires, Accept, Event` or `Event, Subscription-State,
// Content-Type`, with unknown headers (X-…) after Content-Length.
const SOFIA_HEADERS = [
  'Via', 'Route', 'Record-Route', 'Max-Forwards', 'Proxy-Require', 'From', 'To', 'Call-ID', 'CSeq',
  'Contact', 'RSeq', 'RAck', 'Request-Disposition', 'Accept-Contact', 'Reject-Contact', 'Expires',
  'Date', 'Retry-After', 'Timestamp', 'Min-Expires', 'Subject', 'Priority', 'Call-Info',
  'Organization', 'Server', 'User-Agent', 'In-Reply-To', 'Accept', 'Accept-Encoding',
  'Accept-Language', 'Allow', 'Require', 'Supported', 'Unsupported', 'Event', 'Allow-Events',
  'Subscription-State', 'Proxy-Authenticate', 'Proxy-Authentication-Info', 'Proxy-Authorization',
  'Authorization', 'WWW-Authenticate', 'Authentication-Info', 'Error-Info', 'Warning', 'Refer-To',
  'Referred-By', 'Replaces', 'Session-Expires', 'Min-SE', 'Path', 'Service-Route', 'Reason',
  'Security-Client', 'Security-Server', 'Security-Verify', 'Privacy', 'SIP-ETag', 'SIP-If-Match',
  'MIME-Version', 'Content-Type', 'Content-Encoding', 'Content-Language', 'Content-Disposition',
  'Content-Length',
];
const ORDER = new Map(SOFIA_HEADERS.map((n, i) => [n.toLowerCase(), i] as const));
const CANONICAL = new Map(SOFIA_HEADERS.map((n) => [n.toLowerCase(), n] as const));
// Extension headers drachtio knows by name (A.6 "@localhost" list).
CANONICAL.set('p-asserted-identity', 'P-Asserted-Identity');
CANONICAL.set('p-preferred-identity', 'P-Preferred-Identity');

/**
 * A.6 "Header names": known headers are re-encoded canonically; custom ones
 * pass through Title-Cased after each dash, except `X-` headers (kept as is).
 */
export function canonicalName(name: string): string {
  const key = headerKey(name);
  const known = CANONICAL.get(key);
  if (known) return known;
  if (/^x-/i.test(name)) return name;
  return key.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('-');
}

/** Stable sort into sofia's encoding order; unknown headers last. */
export function sofiaOrder(headers: SipHeaders): SipHeaders {
  const rank = (n: string) => ORDER.get(headerKey(n)) ?? SOFIA_HEADERS.length;
  const sorted = headers.entries().map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i).map(({ e }) => e);
  return new SipHeaders(sorted);
}

const LOCALHOST_HEADERS = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

/** A.6/A.7 "`@localhost`": replaced by the server's SIP host:port. */
export function replaceLocalhost(name: string, value: string, local: LocalSip): string {
  if (!LOCALHOST_HEADERS.has(headerKey(name))) return value;
  return value.replace(/@localhost(?=[>;?,\s]|$)/gi, `@${local.address}:${local.port}`);
}

export function defaultContact(local: LocalSip, transport: Transport = 'udp'): string {
  return `<sip:${local.address}:${local.port}${transport === 'udp' ? '' : `;transport=${transport}`}>`;
}

/** Copies the app's headers (canonical names, `@localhost` replaced) except `drop`. */
function appHeaders(app: SipMessage, drop: ReadonlyArray<string>, local: LocalSip): SipHeaders {
  const out = new SipHeaders();
  for (const [n, v] of app.headers) {
    if (drop.includes(headerKey(n))) continue;
    if (/[\r\n]/.test(v)) throw new NokError(`invalid header value for ${n}`);
    out.append(canonicalName(n), replaceLocalhost(n, v, local));
  }
  return out;
}

/** A.6 "Content-Type": `v=0` bodies become application/sdp, other bodies need one. */
function applyContentType(h: SipHeaders, body: string): void {
  if (!body || h.has('content-type')) return;
  if (body.startsWith('v=0')) h.append('Content-Type', 'application/sdp');
  else throw new NokError('missing content-type');
}

// A.6 "Immutable headers" (plus the ones taken from the request).
const RESPONSE_DROP = ['via', 'route', 'record-route', 'rseq', 'content-length', 'from', 'to', 'call-id', 'cseq'];

export interface ResponseCompletion {
  /** The request as the double delivered it (Via with rport). */
  request: SipMessage;
  status: number;
  reason: string;
  /** Partial response from the app (or undefined for responses the server makes itself). */
  app?: SipMessage;
  /** To-tag of the transaction, generated once (A.6). */
  toTag: string;
  local: LocalSip;
  transport: Transport;
}

/** nta_incoming_treply as drachtio uses it (A.6). */
export function completeResponse(c: ResponseCompletion): SipMessage {
  const req = c.request;
  const method = req.method;
  const h = new SipHeaders();
  for (const via of req.headers.getAll('via')) h.append('Via', via);
  const dialogCreating = (method === 'INVITE' || method === 'SUBSCRIBE') && c.status > 100 && c.status < 300;
  if (dialogCreating) for (const rr of req.headers.getAll('record-route')) h.append('Record-Route', rr);
  h.append('From', req.get('from') ?? '');
  const to = req.get('to') ?? '';
  h.append('To', tagOf(to) || c.status === 100 ? to : withTag(to, c.toTag));
  h.append('Call-ID', req.get('call-id') ?? '');
  const cs = cseqOf(req);
  h.append('CSeq', `${cs.seq} ${cs.method}`);
  const body = c.app?.body ?? '';
  if (c.app) for (const [n, v] of appHeaders(c.app, RESPONSE_DROP, c.local)) h.append(n, v);
  if (dialogCreating && c.status >= 200 && !h.has('contact')) h.append('Contact', defaultContact(c.local, c.transport));
  applyContentType(h, body);
  h.append('Content-Length', '0');
  return buildSip(`SIP/2.0 ${c.status} ${c.reason}`, sofiaOrder(h), body);
}

export const viaFor = (local: LocalSip, transport: Transport, branch: string): string =>
  `SIP/2.0/${transport.toUpperCase()} ${local.address}:${local.port};rport;branch=${branch}`;

export interface NewRequestCompletion {
  app: SipMessage;
  local: LocalSip;
  transport: Transport;
  branch: string;
  fromTag: string;
  callId: string;
  cseq: number;
}

const NEW_REQUEST_DROP = ['via', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards'];

/** A.7: Via, Max-Forwards, From tag, To, Call-ID, CSeq, Contact, Content-Type. */
export function completeNewRequest(c: NewRequestCompletion): SipMessage {
  const { app, local } = c;
  const method = app.method;
  const h = new SipHeaders();
  h.append('Via', viaFor(local, c.transport, c.branch));
  h.append('Max-Forwards', app.get('max-forwards') ?? '70');
  const from = replaceLocalhost('from', app.get('from') ?? `<sip:${local.address}:${local.port}>`, local);
  h.append('From', tagOf(from) ? from : withTag(from, c.fromTag));
  h.append('To', replaceLocalhost('to', app.get('to') ?? `<${app.uri}>`, local));
  h.append('Call-ID', app.get('call-id') ?? c.callId);
  const appCseq = /^(\d+)/.exec(app.get('cseq') ?? '');
  h.append('CSeq', `${appCseq ? appCseq[1] : c.cseq} ${method}`);
  for (const [n, v] of appHeaders(app, NEW_REQUEST_DROP, local)) h.append(n, v);
  if ((method === 'INVITE' || method === 'SUBSCRIBE') && !h.has('contact')) {
    h.append('Contact', defaultContact(local, c.transport));
  }
  applyContentType(h, app.body);
  h.append('Content-Length', '0');
  return buildSip(`${method} ${app.uri} SIP/2.0`, sofiaOrder(h), app.body);
}

/** The dialog state the server keeps (A.8, A.12). */
export interface DialogParties {
  callId: string;
  /** Our From/To value, with our tag. */
  localParty: string;
  /** Their From/To value, with their tag. */
  remoteParty: string;
  /** Remote target: the URI of the peer's Contact. */
  remoteTarget: string;
  /** Route set (Record-Route in the right order for our requests). */
  routeSet: string[];
  /** The Contact value we put in dialog-creating messages. */
  localContact: string;
}

const DIALOG_REQUEST_DROP = ['via', 'route', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards'];

/** A.8: request inside a dialog, `sip:placeholder` replaced by the remote target. */
export function completeDialogRequest(
  app: SipMessage, d: DialogParties, local: LocalSip, transport: Transport, branch: string, cseq: number,
): SipMessage {
  const method = app.method;
  const h = new SipHeaders();
  h.append('Via', viaFor(local, transport, branch));
  for (const r of d.routeSet) h.append('Route', r);
  h.append('Max-Forwards', '70');
  h.append('From', d.localParty);
  h.append('To', d.remoteParty);
  h.append('Call-ID', d.callId);
  h.append('CSeq', `${cseq} ${method}`);
  for (const [n, v] of appHeaders(app, DIALOG_REQUEST_DROP, local)) h.append(n, v);
  if (['INVITE', 'SUBSCRIBE', 'REFER'].includes(method) && !h.has('contact')) h.append('Contact', d.localContact);
  applyContentType(h, app.body);
  h.append('Content-Length', '0');
  return buildSip(`${method} ${d.remoteTarget} SIP/2.0`, sofiaOrder(h), app.body);
}

/** A.9 outbound: CANCEL built from the INVITE (same branch, CSeq n CANCEL). */
export function completeCancel(app: SipMessage, invite: SipMessage, local: LocalSip): SipMessage {
  const h = new SipHeaders();
  h.append('Via', invite.headers.getAll('via')[0] ?? '');
  for (const r of invite.headers.getAll('route')) h.append('Route', r);
  h.append('Max-Forwards', '70');
  h.append('From', invite.get('from') ?? '');
  h.append('To', invite.get('to') ?? '');
  h.append('Call-ID', invite.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(invite).seq} CANCEL`);
  for (const [n, v] of appHeaders(app, DIALOG_REQUEST_DROP, local)) h.append(n, v);
  h.append('Content-Length', '0');
  return buildSip(`CANCEL ${invite.uri} SIP/2.0`, sofiaOrder(h), '');
}

/** RFC 3261 17.1.1.3: the ACK the server sends itself for a non-2xx final (A.7). */
export function hopByHopAck(invite: SipMessage, response: SipMessage): SipMessage {
  const h = new SipHeaders();
  h.append('Via', invite.headers.getAll('via')[0] ?? '');
  for (const r of invite.headers.getAll('route')) h.append('Route', r);
  h.append('Max-Forwards', '70');
  h.append('From', invite.get('from') ?? '');
  h.append('To', response.get('to') ?? '');
  h.append('Call-ID', invite.get('call-id') ?? '');
  h.append('CSeq', `${cseqOf(invite).seq} ACK`);
  h.append('Content-Length', '0');
  return buildSip(`ACK ${invite.uri} SIP/2.0`, h, '');
}

/**
 * Locally generated 408/503 (A.7 "Local failures"). Observed shape:
 * `To: sip:bob@127.0.0.1:5090;tag=18Ky2rm3Z4cjg` (sofia drops the brackets
 * when re-encoding a To without display name or URI parameters).
 */
export function localFailure(request: SipMessage, status: number, reason: string, toTag: string): SipMessage {
  const to = request.get('to') ?? '';
  const uri = uriOf(to);
  const hasName = to.trim().indexOf('<') > 0;
  const bare = !hasName && !/[;,?]/.test(uri) && parseSipUri(uri) !== undefined;
  const h = new SipHeaders();
  h.append('Via', request.headers.getAll('via')[0] ?? '');
  h.append('From', request.get('from') ?? '');
  h.append('To', tagOf(to) ? to : withTag(bare ? uri : to, toTag));
  h.append('Call-ID', request.get('call-id') ?? '');
  h.append('CSeq', request.get('cseq') ?? '');
  h.append('Content-Length', '0');
  return buildSip(`SIP/2.0 ${status} ${reason}`, h, '');
}
