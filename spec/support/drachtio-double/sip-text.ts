// Small SIP text toolkit for the drachtio double: parse, inspect and build raw
// SIP messages. Bodies are counted in UTF-8 bytes (drachtio-protocol.md A.1).
import { randomBytes, randomInt } from 'node:crypto';

export const CRLF = '\r\n';

export type Transport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** A SIP endpoint on the simulated network. */
export interface Peer {
  transport: Transport;
  address: string;
  port: number;
}

// RFC 3261 7.3.3 compact forms (+ RFC 3265/3515/4028 ones sofia knows).
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events',
  r: 'refer-to', b: 'referred-by', x: 'session-expires', a: 'accept-contact', j: 'reject-contact',
  d: 'request-disposition', y: 'identity',
};

/** Lower-case long form of a header name, used for every comparison. */
export function headerKey(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

export type HeaderInit = Record<string, string | number> | ReadonlyArray<readonly [string, string]>;

/** Ordered header list with case-insensitive (and compact-form aware) lookup. */
export class SipHeaders implements Iterable<[string, string]> {
  private list: Array<[string, string]> = [];

  constructor(init?: HeaderInit) {
    if (!init) return;
    const entries = Array.isArray(init) ? init : Object.entries(init);
    for (const [n, v] of entries as Array<[string, string | number]>) this.append(n, String(v));
  }

  get(name: string): string | undefined {
    const k = headerKey(name);
    return this.list.find(([n]) => headerKey(n) === k)?.[1];
  }
  getAll(name: string): string[] {
    const k = headerKey(name);
    return this.list.filter(([n]) => headerKey(n) === k).map(([, v]) => v);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  append(name: string, value: string): this {
    this.list.push([name, value]);
    return this;
  }
  /** Replaces every occurrence, keeping the position of the first one. */
  set(name: string, value: string): this {
    const k = headerKey(name);
    const idx = this.list.findIndex(([n]) => headerKey(n) === k);
    if (idx === -1) return this.append(name, value);
    this.list[idx] = [name, value];
    this.list = this.list.filter(([n], i) => i === idx || headerKey(n) !== k);
    return this;
  }
  delete(name: string): this {
    const k = headerKey(name);
    this.list = this.list.filter(([n]) => headerKey(n) !== k);
    return this;
  }
  names(): string[] {
    return this.list.map(([n]) => n);
  }
  entries(): Array<[string, string]> {
    return this.list.map(([n, v]) => [n, v]);
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.entries()[Symbol.iterator]();
  }
}

export class SipParseError extends Error {}

/** A parsed or built SIP message. `raw` is exactly the text (as on the wire). */
export class SipMessage {
  constructor(
    readonly kind: 'request' | 'response',
    readonly startLine: string,
    readonly headers: SipHeaders,
    readonly body: string,
    readonly raw: string,
  ) {}

  get method(): string {
    if (this.kind === 'request') return this.startLine.split(' ')[0] ?? '';
    return cseqOf(this).method;
  }
  get uri(): string {
    return this.kind === 'request' ? (this.startLine.split(' ')[1] ?? '') : '';
  }
  get status(): number {
    return this.kind === 'response' ? Number(this.startLine.split(' ')[1]) : 0;
  }
  get reason(): string {
    return this.kind === 'response' ? this.startLine.split(' ').slice(2).join(' ') : '';
  }
  get(name: string): string | undefined {
    return this.headers.get(name);
  }
  has(name: string): boolean {
    return this.headers.has(name);
  }
  /** Size as it would go on the wire, in bytes. */
  get bytes(): number {
    return Buffer.byteLength(this.raw, 'utf8');
  }
  toString(): string {
    return this.raw;
  }
}

/**
 * Parses SIP text (CRLF line ends). Throws SipParseError. With
 * `wholeBody`, everything after the blank line is the body whatever
 * Content-Length says: drachtio ignores the app's Content-Length (A.6), and
 * srf writes the body's length in characters, not bytes.
 */
export function parseSip(text: string, opts: { wholeBody?: boolean } = {}): SipMessage {
  const sep = text.indexOf(CRLF + CRLF);
  const head = sep === -1 ? text.replace(/\r\n$/, '') : text.slice(0, sep);
  const rest = sep === -1 ? '' : text.slice(sep + 4);
  const lines = head.split(CRLF);
  const startLine = (lines.shift() ?? '').trim();
  let kind: 'request' | 'response';
  if (/^SIP\/2\.0 \d{3}( |$)/.test(startLine)) kind = 'response';
  else if (/^[A-Za-z]+ \S+ SIP\/2\.0$/.test(startLine)) kind = 'request';
  else throw new SipParseError(`bad start line: ${JSON.stringify(startLine)}`);
  // RFC 3261 7.3.1: a line starting with whitespace continues the previous one
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  const headers = new SipHeaders();
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError(`bad header line: ${JSON.stringify(line)}`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = rest;
  const cl = headers.get('content-length');
  if (!opts.wholeBody && cl !== undefined && /^\d+$/.test(cl.trim())) {
    body = Buffer.from(rest, 'utf8').subarray(0, Number(cl.trim())).toString('utf8');
  }
  return new SipMessage(kind, startLine, headers, body, text);
}

/**
 * Serialises a message. Content-Length is always recomputed in bytes and
 * placed where the list has it (appended if missing).
 */
export function buildSip(startLine: string, headers: SipHeaders, body = ''): SipMessage {
  const h = new SipHeaders(headers.entries());
  const len = String(Buffer.byteLength(body, 'utf8'));
  if (h.has('content-length')) h.set('Content-Length', len);
  else h.append('Content-Length', len);
  const raw = startLine + CRLF + h.entries().map(([n, v]) => `${n}: ${v}${CRLF}`).join('') + CRLF + body;
  const kind = startLine.startsWith('SIP/2.0 ') ? 'response' : 'request';
  return new SipMessage(kind, startLine, h, body, raw);
}

// ---------------------------------------------------------------- header values

/** URI inside a name-addr (`"A" <sip:a@b>;tag=x`) or addr-spec (`sip:a@b;tag=x`). */
export function uriOf(value: string): string {
  const lt = value.indexOf('<');
  if (lt !== -1) return value.slice(lt + 1, value.indexOf('>', lt)).trim();
  return value.trim().split(';')[0]!.trim();
}

/** Header parameters after the URI (e.g. `tag`). */
export function headerParams(value: string): Record<string, string | null> {
  const gt = value.indexOf('>');
  const tail = gt !== -1 ? value.slice(gt + 1) : value.slice(value.indexOf(';') === -1 ? value.length : value.indexOf(';'));
  const out: Record<string, string | null> = {};
  for (const part of tail.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq === -1) out[part.trim().toLowerCase()] = null;
    else out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function tagOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return headerParams(value)['tag'] ?? undefined;
}

export function withTag(value: string, tag: string): string {
  return `${value.trim()};tag=${tag}`;
}

export function stripTag(value: string): string {
  const gt = value.indexOf('>');
  const head = gt !== -1 ? value.slice(0, gt + 1) : value;
  const tail = gt !== -1 ? value.slice(gt + 1) : '';
  if (gt === -1) return value.replace(/;\s*tag=[^;]*/i, '').trim();
  return (head + tail.replace(/;\s*tag=[^;]*/i, '')).trim();
}

export interface SipUri {
  scheme: string;
  user: string | undefined;
  host: string;
  port: number | undefined;
  params: Record<string, string | null>;
}

export function parseSipUri(uri: string): SipUri | undefined {
  const m = /^(sips?):(?:([^@;?]+)@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d+))?((?:;[^?]*)?)(?:\?.*)?$/.exec(uri.trim());
  if (!m) return undefined;
  const params: Record<string, string | null> = {};
  for (const part of (m[5] ?? '').split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq === -1) params[part.toLowerCase()] = null;
    else params[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return { scheme: m[1]!, user: m[2], host: m[3]!, port: m[4] ? Number(m[4]) : undefined, params };
}

/** Where a request for `uri` goes, RFC 3263 without DNS (loopback tests). */
export function peerFromUri(uri: string): Peer | undefined {
  const u = parseSipUri(uri);
  if (!u) return undefined;
  const t = (u.params['transport'] ?? '').toLowerCase();
  const transport: Transport = u.scheme === 'sips' ? 'tls' : (['tcp', 'tls', 'ws', 'wss'].includes(t) ? t as Transport : 'udp');
  return { transport, address: u.host, port: u.port ?? (transport === 'tls' ? 5061 : 5060) };
}

export interface Via {
  transport: Transport;
  host: string;
  port: number | undefined;
  params: Record<string, string | null>;
  branch: string | undefined;
}

export function parseVia(value: string): Via | undefined {
  const first = value.split(',')[0]!.trim();
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*(\S+)\s+([^;:\s]+|\[[^\]]+\])(?::(\d+))?(.*)$/i.exec(first);
  if (!m) return undefined;
  const params: Record<string, string | null> = {};
  for (const part of (m[4] ?? '').split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq === -1) params[part.trim().toLowerCase()] = null;
    else params[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return {
    transport: m[1]!.toLowerCase() as Transport,
    host: m[2]!,
    port: m[3] ? Number(m[3]) : undefined,
    params,
    branch: params['branch'] ?? undefined,
  };
}

export function cseqOf(msg: SipMessage): { seq: number; method: string } {
  const m = /^(\d+)\s+(\S+)/.exec(msg.get('cseq') ?? '');
  return m ? { seq: Number(m[1]), method: m[2]!.toUpperCase() } : { seq: 0, method: '' };
}

// ---------------------------------------------------------------- identifiers

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** sofia-style tag: 13 alphanumerics (observed `tag=Ujv9QpFeHF71a`). */
export const newTag = (): string => randomAlnum(13);
/** sofia-style branch (observed `branch=z9hG4bKXmKeDNgHvgc3j`). */
export const newBranch = (): string => `z9hG4bK${randomAlnum(13)}`;
/** sofia-style Call-ID (observed `92b655ba-63a2-1240-7694-b29cae0e3019`). */
export function newCallId(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 204: 'No Notification', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone', 415: 'Unsupported Media Type',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Server Time-out',
  600: 'Busy Everywhere', 603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

// ---------------------------------------------------------------- test builder

export interface SipRequestSpec {
  method: string;
  uri: string;
  /** name-addr; a `;tag=` is added when missing (every real UA sends one). */
  from: string;
  to: string;
  callId?: string;
  cseq?: number;
  /** Where the request comes from; used for the Via (default udp 127.0.0.1:5070). */
  peer?: Partial<Peer>;
  branch?: string;
  /** Default for INVITE/SUBSCRIBE/REFER: `<sip:user@peer>`; `false` omits it. */
  contact?: string | false;
  maxForwards?: number | false;
  headers?: HeaderInit;
  body?: string;
  /** Default when a body is given: application/sdp for `v=0`, else text/plain;charset=UTF-8. */
  contentType?: string | false;
}

/** Builds a raw request as a SIP peer would send it, Content-Length in bytes. */
export function buildSipRequest(spec: SipRequestSpec): string {
  const method = spec.method.toUpperCase();
  const peer: Peer = { transport: 'udp', address: '127.0.0.1', port: 5070, ...spec.peer };
  const h = new SipHeaders();
  h.append('Via', `SIP/2.0/${peer.transport.toUpperCase()} ${peer.address}:${peer.port};branch=${spec.branch ?? newBranch()}`);
  if (spec.maxForwards !== false) h.append('Max-Forwards', String(spec.maxForwards ?? 70));
  h.append('From', tagOf(spec.from) ? spec.from : withTag(spec.from, randomAlnum(10)));
  h.append('To', spec.to);
  h.append('Call-ID', spec.callId ?? `${randomAlnum(12)}@${peer.address}`);
  h.append('CSeq', `${spec.cseq ?? 1} ${method}`);
  if (spec.contact !== false) {
    const user = parseSipUri(uriOf(spec.from))?.user;
    const dflt = ['INVITE', 'SUBSCRIBE', 'REFER'].includes(method)
      ? `<sip:${user ? `${user}@` : ''}${peer.address}:${peer.port}${peer.transport === 'udp' ? '' : `;transport=${peer.transport}`}>`
      : undefined;
    const contact = spec.contact ?? dflt;
    if (contact) h.append('Contact', contact);
  }
  for (const [n, v] of new SipHeaders(spec.headers)) h.append(n, v);
  const body = spec.body ?? '';
  if (body && spec.contentType !== false && !h.has('content-type')) {
    h.append('Content-Type', spec.contentType ?? (body.startsWith('v=0') ? 'application/sdp' : 'text/plain;charset=UTF-8'));
  }
  return buildSip(`${method} ${spec.uri} SIP/2.0`, h, body).raw;
}
