/**
 * SDP for MSRP offers and answers (RFC 4975 §8; RFC 4566 lines; RFC 6135 a=setup).
 *
 *   v=0
 *   o=- <sess-id> <sess-version> IN IP4 <host>
 *   s=-
 *   c=IN IP4 <host>                      §8.1: the host of our MSRP URI
 *   t=0 0
 *   m=message <port> TCP/MSRP *          §8.1: port of our URI; TCP/TLS/MSRP for msrps; format "*"
 *   a=accept-types:<type> …              §8.6: mandatory
 *   a=accept-wrapped-types:<type> …      §8.6: optional
 *   a=max-size:<octets>                  §8.6: optional, the whole message
 *   a=path:<uri> …                       §8.2: mandatory, explicit ports
 *   a=setup:active|passive|actpass       RFC 6135 §4.2: optional here
 *
 * Reading never throws: an SDP without a usable MSRP m=message line is an
 * error value. Building takes trusted input and throws a TypeError on values
 * that would break the SDP (line breaks, bad media types).
 */
import { randomInt } from 'node:crypto';
import { type Result, fail, ok } from '../sip/bodies/result.js';
import { type MsrpUri, formatMsrpPath, parseMsrpPath } from './uri.js';

export type MsrpTransport = 'TCP/MSRP' | 'TCP/TLS/MSRP';
export type Setup = 'active' | 'passive' | 'actpass';
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MsrpSdpInput {
  /** Our path (normally one URI, the session's). Its last URI gives c=, the m= port and the transport. */
  path: readonly MsrpUri[];
  acceptTypes: readonly string[];
  acceptWrappedTypes?: readonly string[];
  maxSize?: number;
  setup?: Setup;
  direction?: SdpDirection;
  /** o= fields; defaults: "-", a random id, version = id. */
  username?: string;
  sessionId?: string;
  sessionVersion?: string;
}

export interface MsrpMedia {
  /** m= port; 0 means the answerer rejected the stream (RFC 3264). */
  port: number;
  transport: MsrpTransport;
  /** a=path; the first URI is where to connect (§8.3), the last identifies the peer. Empty only when port is 0. */
  path: MsrpUri[];
  acceptTypes: string[];
  acceptWrappedTypes: string[];
  maxSize?: number;
  /** Absent when the peer did not send a=setup (or sent holdconn, RFC 6135 §4.2.1). */
  setup?: Setup;
  direction?: SdpDirection;
  /** Media-level c= address, else the session-level one. */
  connectionAddress?: string;
}

const MAX_SDP_LENGTH = 64 * 1024;
const TOKEN = "[!#$%&'*+\\-.^_`{|}~0-9A-Za-z]+";
const FORMAT_ENTRY = new RegExp(`^(?:\\*|${TOKEN}/(?:\\*|${TOKEN})(?:;${TOKEN}=(?:${TOKEN}|"[^"\\\\\\r\\n]*"))*)$`);
const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function checkFormats(what: string, list: readonly string[]): string {
  for (const f of list) if (!FORMAT_ENTRY.test(f)) throw new TypeError(`${what}: invalid entry "${f}"`);
  return list.join(' ');
}

function checkField(what: string, v: string): string {
  if (!/^[\x21-\x7e]+$/.test(v)) throw new TypeError(`${what}: invalid value "${v}"`);
  return v;
}

/** Builds an offer or answer for one MSRP stream. Lines end with CRLF. */
export function buildMsrpSdp(input: MsrpSdpInput): string {
  const self = input.path[input.path.length - 1];
  if (!self || self.port === undefined) throw new TypeError('the path needs a URI with a port (RFC 4975 §8.2)');
  if (input.acceptTypes.length === 0) throw new TypeError('accept-types must not be empty (RFC 4975 §8.6)');
  const addrType = self.hostType === 'ipv6' ? 'IP6' : 'IP4';
  const id = input.sessionId ?? String(randomInt(1, 2 ** 47));
  const lines = [
    'v=0',
    `o=${checkField('username', input.username ?? '-')} ${checkField('sessionId', id)} ${checkField('sessionVersion', input.sessionVersion ?? id)} IN ${addrType} ${self.host}`,
    's=-',
    // §8.1: "The connection address field MUST be set to the IP address or fully qualified domain name
    // from the MSRP URI identifying the endpoint in its path attribute."
    `c=IN ${addrType} ${self.host}`,
    't=0 0',
    // §8.1: the port matches our URI; "TCP/TLS/MSRP" for TLS; the format list is "*".
    `m=message ${self.port} ${self.scheme === 'msrps' ? 'TCP/TLS/MSRP' : 'TCP/MSRP'} *`,
    `a=accept-types:${checkFormats('accept-types', input.acceptTypes)}`,
  ];
  if (input.acceptWrappedTypes && input.acceptWrappedTypes.length > 0) {
    lines.push(`a=accept-wrapped-types:${checkFormats('accept-wrapped-types', input.acceptWrappedTypes)}`);
  }
  if (input.maxSize !== undefined) {
    if (!Number.isSafeInteger(input.maxSize) || input.maxSize < 0) throw new TypeError('max-size must be a whole number of octets');
    lines.push(`a=max-size:${input.maxSize}`);
  }
  lines.push(`a=path:${formatMsrpPath(input.path)}`);
  if (input.setup !== undefined) lines.push(`a=setup:${input.setup}`);
  if (input.direction !== undefined) lines.push(`a=${input.direction}`);
  return `${lines.join('\r\n')}\r\n`;
}

function parseFormats(value: string): string[] {
  return value.split(' ').filter((f) => f.length > 0);
}

/** Reads the first MSRP m=message line of an SDP and its attributes. Never throws. */
export function parseMsrpSdp(sdp: string): Result<MsrpMedia> {
  if (typeof sdp !== 'string') return fail('SDP is not a string');
  if (sdp.length > MAX_SDP_LENGTH) return fail('SDP too large');
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  // RFC 4566 starts with v=0. The RFC 7573/7702 examples omit the session lines, so a missing v= is
  // tolerated (the SIP stack checks SDP syntax); a different version is not.
  const version = lines.find((l) => l.startsWith('v='));
  if (version !== undefined && (version !== 'v=0' || lines[0] !== version)) return fail('SDP version line must be the first line and v=0');
  let sessionC: string | undefined;
  let media: { port: number; transport: MsrpTransport } | null = null;
  const attrs: Array<[string, string]> = [];
  let mediaC: string | undefined;
  let inOther = false;
  for (const line of lines) {
    if (line.length < 2 || line[1] !== '=') return fail(`malformed SDP line "${line.slice(0, 40)}"`);
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      if (media) break; // only the first MSRP stream is read
      const m = /^message ([0-9]{1,5}) (TCP\/MSRP|TCP\/TLS\/MSRP) (.+)$/i.exec(value);
      inOther = m === null;
      if (m) {
        const port = Number(m[1]);
        if (port > 65535) return fail('m= port out of range');
        // §8.1 and §15.6: the format list of TCP/MSRP is exactly "*".
        if (m[3] !== '*') return fail('MSRP m= line format list must be "*"');
        media = { port, transport: (m[2] ?? '').toUpperCase() === 'TCP/TLS/MSRP' ? 'TCP/TLS/MSRP' : 'TCP/MSRP' };
      }
      continue;
    }
    if (type === 'c') {
      const c = /^IN IP[46] (\S+)$/.exec(value);
      if (!c) return fail('malformed c= line');
      if (media) mediaC = c[1];
      else if (!inOther) sessionC = c[1];
      continue;
    }
    if (type === 'a' && media) {
      const colon = value.indexOf(':');
      attrs.push(colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)]);
    }
  }
  if (!media) return fail('no MSRP m=message line (TCP/MSRP or TCP/TLS/MSRP)');
  const out: MsrpMedia = { port: media.port, transport: media.transport, path: [], acceptTypes: [], acceptWrappedTypes: [] };
  const c = mediaC ?? sessionC;
  if (c !== undefined) out.connectionAddress = c;
  let sawPath = false;
  let sawAccept = false;
  for (const [name, value] of attrs) {
    switch (name.toLowerCase()) {
      case 'path': {
        const p = parseMsrpPath(value);
        if (!p.ok) return fail(`invalid a=path: ${p.error}`);
        // §8.2: "MSRP URIs included in an SDP offer or answer MUST include explicit port numbers."
        if (p.value.some((u) => u.port === undefined)) return fail('a=path URI without a port (RFC 4975 §8.2)');
        out.path = p.value;
        sawPath = true;
        break;
      }
      case 'accept-types':
        out.acceptTypes = parseFormats(value);
        sawAccept = true;
        break;
      case 'accept-wrapped-types':
        out.acceptWrappedTypes = parseFormats(value);
        break;
      case 'max-size':
        if (!/^[0-9]{1,15}$/.test(value)) return fail('invalid a=max-size');
        out.maxSize = Number(value);
        break;
      case 'setup': {
        const v = value.toLowerCase();
        // RFC 6135 §4.2.1: holdconn is ignored, as if there were no a=setup.
        if (v === 'active' || v === 'passive' || v === 'actpass') out.setup = v;
        else if (v !== 'holdconn') return fail(`invalid a=setup "${value.slice(0, 20)}"`);
        break;
      }
      default:
        if (DIRECTIONS.includes(name) && value === '') out.direction = name as SdpDirection;
        break;
    }
  }
  // A rejected stream (port 0) may come without attributes; a live one needs path (§8.2) and accept-types (§8.6).
  if (out.port !== 0) {
    if (!sawPath || out.path.length === 0) return fail('MSRP media without a=path (RFC 4975 §8.2)');
    if (!sawAccept) return fail('MSRP media without a=accept-types (RFC 4975 §8.6)');
  }
  return ok(out);
}

/**
 * Our role as answerer (RFC 6135 §4.2.2, RFC 4975 §5.4): with no a=setup in the
 * offer the offerer is active (RFC 4975), so we are passive; "active" → passive;
 * "passive" → active; "actpass" → our preference ("SHOULD include … passive if
 * it knows that it is not located behind a NAT").
 */
export function answererRole(offerSetup: Setup | undefined, preference: 'active' | 'passive' = 'passive'): 'active' | 'passive' {
  if (offerSetup === undefined || offerSetup === 'active') return 'passive';
  if (offerSetup === 'passive') return 'active';
  return preference;
}

/**
 * Our role as offerer once the answer arrived: no a=setup in the answer → we
 * are active (RFC 4975 §5.4 "the initiating endpoint MUST act as the active
 * endpoint"); "active" → passive; otherwise active.
 */
export function offererRole(answerSetup: Setup | undefined): 'active' | 'passive' {
  return answerSetup === 'active' ? 'passive' : 'active';
}
