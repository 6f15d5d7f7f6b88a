/**
 * message/cpim (RFC 3862) with the IMDN extension headers (RFC 5438 §6).
 *
 * Layout of a body: message headers, an empty line, the MIME headers of the
 * encapsulated content, an empty line, the content.
 *
 * Parsing (`parseCpim`) never throws and:
 *  - takes CRLF line ends and also bare LF;
 *  - refuses indented/folded metadata header lines (RFC 3862 §2.2: one line per
 *    header, no leading whitespace). The MIME content headers may be folded
 *    (RFC 2822 rules);
 *  - resolves namespace prefixes through the NS headers. The IMDN headers are
 *    recognised by the URN urn:ietf:params:imdn, whatever prefix was declared
 *    for it (RFC 5438 §6.1), and a default-namespace NS header is honoured;
 *  - keeps every metadata header in order in `headers`, with its raw value
 *    (escape sequences not decoded), and fills the typed fields with decoded values;
 *  - accepts the form used in the RFC 5438 examples, where the content headers
 *    follow the message headers with no empty line in between (see parseCpim).
 *
 * Building (`buildCpim`) escapes header text per RFC 3862 §2.3.1, so CR/LF
 * cannot inject headers. It always emits DateTime and imdn.Message-ID when
 * IMDNs are requested (RFC 5438 §7.1.1.1–7.1.1.2). It throws a TypeError on
 * input it cannot represent (bad names, URIs, Message-ID, content headers).
 * buildCpim writes a new message: it is not a byte-exact re-serializer. A
 * gateway forwarding someone else's CPIM must pass the original bytes along
 * (RFC 3862 §6: CPIM messages are immutable).
 */
import { formatRfc3339, parseRfc3339 } from './datetime.js';
import { parseContentType } from './content-type.js';
import { type Result, type SizeLimit, checkSize, describe, fail, ok } from './result.js';

export const CPIM_HEADERS_NS = 'urn:ietf:params:cpim-headers:';
export const IMDN_NS = 'urn:ietf:params:imdn';

export type DispositionRequest = 'positive-delivery' | 'negative-delivery' | 'display' | 'processing';
const DISPOSITIONS: readonly DispositionRequest[] = ['positive-delivery', 'negative-delivery', 'display', 'processing'];

export interface CpimAddress {
  /** Formal-name (decoded), if any. */
  display?: string;
  uri: string;
}

export interface CpimHeader {
  /** Namespace prefix as written ("imdn" in "imdn.Message-ID"); absent when the name has no prefix. */
  ns?: string;
  /** Header name without the prefix. */
  name: string;
  /** Value as on the wire (escape sequences not decoded). When building: control characters are escaped, nothing else is. */
  value: string;
  /** Parameters written after the colon, e.g. `Subject:;lang=fr …` gives { lang: 'fr' }. */
  params?: Record<string, string>;
  /** Namespace URI the name resolved to (set by the parser; absent when the prefix was never declared). */
  uri?: string;
}

export interface CpimImdn {
  /** imdn.Message-ID */
  messageId?: string;
  /** imdn.Disposition-Notification values this code understands (others are ignored, RFC 5438 §7.2.1). */
  dispositionNotification: DispositionRequest[];
  /** imdn.Original-To */
  originalTo?: CpimAddress;
}

export interface CpimContent {
  /** Content-Type of the encapsulated content (required). */
  contentType: string;
  /**
   * MIME headers of the content. From the parser: every header including Content-Type, names lower-cased.
   * For the builder: extra headers to write after Content-Type, names as given (a Content-Type key is ignored).
   */
  headers: Record<string, string>;
  body: string;
}

export interface Cpim {
  /** All metadata headers in order (parser). Builder: extra headers, written after the typed ones. */
  headers: CpimHeader[];
  from?: CpimAddress;
  to: CpimAddress[];
  dateTime?: Date;
  /** First Subject header, decoded. */
  subject?: string;
  /** Declared namespace prefixes → URI; the key '' is an explicitly declared default namespace. */
  namespaces: Record<string, string>;
  imdn?: CpimImdn;
  content: CpimContent;
}

/** Input of buildCpim: a Cpim whose headers, namespaces and to may be left out. */
export type CpimInput = Omit<Cpim, 'headers' | 'namespaces' | 'to'> & Partial<Pick<Cpim, 'headers' | 'namespaces' | 'to'>>;

export interface CpimLimits extends SizeLimit {
  /** Maximum number of metadata plus content headers. Default 128. */
  maxHeaders?: number;
}

export interface BuildCpimOptions {
  /** Clock used for DateTime when IMDNs are requested and msg.dateTime is absent. Default: new Date(). */
  now?: Date;
}

// RFC 3862 §3.6: NAMECHAR = %x21 / %x23-27 / %x2a-2b / %x2d / %x5e-60 / %x7c / %x7e / ALPHA / DIGIT
const NAMECHARS = "!#$%&'*+\\-^_`|~A-Za-z0-9";
const HEADER_NAME = new RegExp(`^(?:([${NAMECHARS}]+)\\.)?([${NAMECHARS}]+)$`);
const NAME = new RegExp(`^[${NAMECHARS}]+$`);
// TOKENCHAR = NAMECHAR / "." / UCS-high
const TOKEN = new RegExp(`^[${NAMECHARS}.\\u0080-\\uFFFF]+$`);
const PARAM = new RegExp(`;([${NAMECHARS}]+)=("(?:[^"\\\\]|\\\\.)*"|[^;\\s"]+)`, 'y');
const NS_VALUE = new RegExp(`^(?:([${NAMECHARS}]+)[ \\t]*)?<([^<>\\s]+)>$`);
const MIME_NAME = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;
const CTL = /[\u0000-\u0008\u000A-\u001F\u007F]/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\u0000-\u001F\u007F]*$/;

/** Decodes RFC 3862 §2.3 escape sequences. Unknown escapes give the escaped character; a trailing lone backslash is dropped. */
export function unescapeCpimValue(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s.charAt(i + 1);
    if (n === '') break;
    i += 1;
    switch (n) {
      case 'b': out += '\b'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (/^[0-9A-Fa-f]{4}$/.test(hex)) {
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
        } else {
          out += 'u';
        }
        break;
      }
      default: out += n; // \\, \", \' and unrecognised escapes
    }
  }
  return out;
}

/**
 * Escapes text for a header per RFC 3862 §2.3.1: backslash, backspace, tab, LF and CR use the short forms,
 * other control characters \uXXXX, and in a double-quoted string the double quote is escaped too.
 */
export function escapeCpimValue(s: string, inDoubleQuotes = false): string {
  return s.replace(inDoubleQuotes ? /[\\"\u0000-\u001F\u007F]/g : /[\\\u0000-\u001F\u007F]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case '"': return '\\"';
      case '\b': return '\\b';
      case '\t': return '\\t';
      case '\n': return '\\n';
      case '\r': return '\\r';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/** Escapes only control characters: used for raw header values, whose backslashes are already escapes. */
function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u001F\u007F]/g, (c) => escapeCpimValue(c));
}

function setOwn(obj: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses `[ Formal-name ] "<" URI ">"` (RFC 3862 §4.1). */
export function parseCpimAddress(raw: string): CpimAddress | null {
  const v = raw.trim();
  let display: string | undefined;
  let rest: string;
  if (v.startsWith('"')) {
    let i = 1;
    let name = '';
    for (;;) {
      const c = v.charAt(i);
      if (c === '') return null;
      if (c === '"') break;
      if (c === '\\') {
        name += v.slice(i, i + 2);
        i += 2;
        continue;
      }
      name += c;
      i += 1;
    }
    display = unescapeCpimValue(name);
    rest = v.slice(i + 1).trimStart();
  } else {
    const lt = v.lastIndexOf('<');
    if (lt < 0) return null;
    display = unescapeCpimValue(v.slice(0, lt).trim());
    rest = v.slice(lt);
  }
  const m = /^<([^<>\s]+)>$/.exec(rest);
  const uri = m?.[1];
  if (!uri || !ABSOLUTE_URI.test(uri)) return null;
  return display ? { display, uri } : { uri };
}

function formatAddress(field: string, a: CpimAddress): string {
  if (!a || typeof a.uri !== 'string' || !ABSOLUTE_URI.test(a.uri)) throw new TypeError(`${field}: invalid URI ${JSON.stringify(a?.uri)}`);
  if (a.display === undefined || a.display === '') return `<${a.uri}>`;
  // Formal-name = 1*( Token SP ) / String
  const bare = a.display.split(' ').every((t) => TOKEN.test(t));
  return `${bare ? a.display : `"${escapeCpimValue(a.display, true)}"`} <${a.uri}>`;
}

interface Line { text: string; start: number }

/** Splits into lines (CRLF or LF). `rest` is the offset just after the first empty line, or -1. */
function readBlock(s: string, from: number): { lines: Line[]; rest: number } {
  const lines: Line[] = [];
  let i = from;
  while (i < s.length) {
    const nl = s.indexOf('\n', i);
    const end = nl < 0 ? s.length : nl;
    const text = s.slice(i, end > i && s.charAt(end - 1) === '\r' ? end - 1 : end);
    const next = nl < 0 ? s.length : nl + 1;
    if (text.length === 0 && nl >= 0) return { lines, rest: next };
    if (text.length > 0) lines.push({ text, start: i });
    i = next;
  }
  return { lines, rest: -1 };
}

/** SP/HTAB trimmed at both ends (linear, unlike an end-anchored regex). */
function trimSpTab(s: string): string {
  let a = 0;
  let b = s.length;
  const ws = (c: number): boolean => c === 0x20 || c === 0x09;
  while (a < b && ws(s.charCodeAt(a))) a += 1;
  while (b > a && ws(s.charCodeAt(b - 1))) b -= 1;
  return s.slice(a, b);
}

/** RFC 2822-style MIME headers with folding; names lower-cased. */
function parseMimeHeaders(lines: Line[]): Result<Record<string, string>> {
  const parts = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const { text } of lines) {
    if (/^[ \t]/.test(text)) {
      if (last === undefined) {
        if (parts.size === 0) return fail('content header continuation line without a header');
        continue; // continuation of an ignored duplicate
      }
      const more = trimSpTab(text);
      if (more) last.push(more);
      continue;
    }
    const colon = text.indexOf(':');
    const name = text.slice(0, colon).trim();
    if (colon < 1 || !MIME_NAME.test(name)) return fail('malformed content header line');
    const key = name.toLowerCase();
    const value = trimSpTab(text.slice(colon + 1));
    if (parts.has(key)) {
      if (key === 'content-type') return fail('duplicate Content-Type in CPIM content');
      last = undefined; // later duplicates (and their continuations) are ignored
      continue;
    }
    last = value ? [value] : [];
    parts.set(key, last);
  }
  const headers: Record<string, string> = {};
  for (const [key, values] of parts) {
    const value = values.join(' ');
    if (CTL.test(value.replace(/\t/g, ' '))) return fail(`control character in content header ${key}`);
    setOwn(headers, key, value);
  }
  return ok(headers);
}

/**
 * Parses a message/cpim body. Never throws.
 *
 * Leniency, beyond RFC 3862: bare LF line ends; whitespace around the value
 * instead of exactly one SP; a tab inside values. Also the form of the RFC 5438
 * examples (§7.1.1.3, §7.2.1.1, §8.1, §8.3), where the content headers
 * (Content-type, …) directly follow the message headers with no empty line in
 * between: when the message-header block holds a Content-Type line, that line,
 * the Content-* lines just before it and every line after it are taken as the
 * content headers.
 */
export function parseCpim(body: string, limits?: CpimLimits): Result<Cpim> {
  try {
    if (typeof body !== 'string') return fail('CPIM body is not a string');
    const tooBig = checkSize(body, limits);
    if (tooBig) return fail(tooBig);
    const maxHeaders = limits?.maxHeaders ?? 128;
    const s = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;

    const meta = readBlock(s, 0);
    if (meta.rest < 0) return fail('CPIM: no empty line after the message headers');
    let metaLines = meta.lines;
    let contentLines: Line[];
    let bodyStart: number;
    const ctIndex = metaLines.findIndex((l) => /^content-type[ \t]*:/i.test(l.text));
    if (ctIndex >= 0) {
      let first = ctIndex;
      while (first > 0 && /^(?:content-[^:]*:|[ \t])/i.test(metaLines[first - 1]?.text ?? '')) first -= 1;
      contentLines = metaLines.slice(first);
      metaLines = metaLines.slice(0, first);
      bodyStart = meta.rest;
    } else {
      const content = readBlock(s, meta.rest);
      contentLines = content.lines;
      bodyStart = content.rest < 0 ? s.length : content.rest;
    }
    if (metaLines.length + contentLines.length > maxHeaders) return fail(`CPIM: too many headers (> ${maxHeaders})`);

    const headers: CpimHeader[] = [];
    const namespaces: Record<string, string> = {};
    const prefixes = new Map<string, string>();
    let defaultNs = CPIM_HEADERS_NS;
    let from: CpimAddress | undefined;
    const to: CpimAddress[] = [];
    let dateTime: Date | undefined;
    let subject: string | undefined;
    let imdn: CpimImdn | undefined;
    const imdnOf = (): CpimImdn => (imdn ??= { dispositionNotification: [] });

    for (const { text } of metaLines) {
      if (/^[ \t]/.test(text)) return fail('CPIM: indented or folded message header (not allowed)');
      const colon = text.indexOf(':');
      const m = colon > 0 ? HEADER_NAME.exec(text.slice(0, colon)) : null;
      if (!m) return fail('CPIM: malformed message header line');
      const prefix = m[1];
      const name = m[2] ?? '';
      const params: Record<string, string> = {};
      let hasParams = false;
      PARAM.lastIndex = colon + 1;
      let at = colon + 1;
      for (let pm = PARAM.exec(text); pm; pm = PARAM.exec(text)) {
        const raw = pm[2] ?? '';
        setOwn(params, pm[1] ?? '', raw.startsWith('"') ? unescapeCpimValue(raw.slice(1, -1)) : raw);
        hasParams = true;
        at = PARAM.lastIndex;
      }
      const rest = text.slice(at);
      // Leniency: a missing SP after the colon is accepted, but not after parameters.
      if (rest.startsWith(';') || (hasParams && rest.length > 0 && !/^[ \t]/.test(rest))) {
        return fail(`CPIM: malformed parameters in ${m[0]} header`);
      }
      const value = trimSpTab(rest);
      if (CTL.test(value.replace(/\t/g, ' '))) return fail(`CPIM: control character in ${m[0]} header`);

      const header: CpimHeader = prefix === undefined ? { name, value } : { ns: prefix, name, value };
      if (hasParams) header.params = params;

      if (prefix === undefined && name === 'NS') {
        const nm = NS_VALUE.exec(value);
        if (!nm || !ABSOLUTE_URI.test(nm[2] ?? '')) return fail('CPIM: malformed NS header');
        const p = nm[1];
        const uri = nm[2] ?? '';
        if (p === undefined) defaultNs = uri;
        else prefixes.set(p, uri);
        setOwn(namespaces, p ?? '', uri);
        header.uri = CPIM_HEADERS_NS;
        headers.push(header);
        continue;
      }
      const uri = prefix === undefined ? defaultNs : prefixes.get(prefix);
      if (uri !== undefined) header.uri = uri;
      headers.push(header);

      if (uri === CPIM_HEADERS_NS) {
        switch (name) {
          case 'From': {
            if (from) return fail('CPIM: more than one From header');
            const a = parseCpimAddress(value);
            if (!a) return fail('CPIM: malformed From header');
            from = a;
            break;
          }
          case 'To': {
            const a = parseCpimAddress(value);
            if (!a) return fail('CPIM: malformed To header');
            to.push(a);
            break;
          }
          case 'DateTime': {
            if (dateTime) return fail('CPIM: more than one DateTime header');
            const d = parseRfc3339(value);
            if (!d) return fail('CPIM: DateTime is not an RFC 3339 date-time');
            dateTime = d;
            break;
          }
          case 'Subject':
            subject ??= unescapeCpimValue(value);
            break;
          default:
            break;
        }
      } else if (uri === IMDN_NS) {
        const im = imdnOf();
        switch (name) {
          case 'Message-ID':
            if (im.messageId !== undefined) return fail('CPIM: more than one imdn Message-ID header');
            if (!TOKEN.test(value)) return fail('CPIM: imdn Message-ID is not a token');
            im.messageId = value;
            break;
          case 'Disposition-Notification':
            for (const item of value.split(',')) {
              const req = item.split(';')[0]?.trim() ?? '';
              const known = DISPOSITIONS.find((d) => d === req);
              if (known && !im.dispositionNotification.includes(known)) im.dispositionNotification.push(known);
            }
            break;
          case 'Original-To': {
            if (im.originalTo) return fail('CPIM: more than one imdn Original-To header');
            const a = parseCpimAddress(value);
            if (!a) return fail('CPIM: malformed imdn Original-To header');
            im.originalTo = a;
            break;
          }
          default:
            break;
        }
      }
    }

    const mime = parseMimeHeaders(contentLines);
    if (!mime.ok) return fail(`CPIM: ${mime.error}`);
    const contentType = mime.value['content-type'];
    if (contentType === undefined || contentType === '') return fail('CPIM: the content has no Content-Type');
    if (!parseContentType(contentType)) return fail('CPIM: malformed content Content-Type');

    let payload = s.slice(bodyStart);
    // A Content-Length equal to the body without trailing CR/LF: drop those line ends (some senders append CRLF).
    const cl = mime.value['content-length'];
    if (cl !== undefined && /^\d{1,9}$/.test(cl)) {
      const want = Number(cl);
      let end = payload.length;
      while (end > 0 && (payload.charCodeAt(end - 1) === 0x0a || payload.charCodeAt(end - 1) === 0x0d)) end -= 1;
      const trimmed = payload.slice(0, end);
      if (end < payload.length && Buffer.byteLength(trimmed, 'utf8') === want) payload = trimmed;
    }

    const result: Cpim = {
      headers,
      to,
      namespaces,
      content: { contentType, headers: mime.value, body: payload },
    };
    if (from) result.from = from;
    if (dateTime) result.dateTime = dateTime;
    if (subject !== undefined) result.subject = subject;
    if (imdn) result.imdn = imdn;
    return ok(result);
  } catch (e) {
    return fail(`CPIM: ${describe(e)}`);
  }
}

const MANAGED_CPIM = new Set(['From', 'To', 'DateTime', 'Subject', 'NS']);
const MANAGED_IMDN = new Set(['Message-ID', 'Disposition-Notification', 'Original-To']);

/**
 * Builds a message/cpim body with CRLF line ends. The typed fields are written
 * first (From, To, DateTime, Subject, NS, the imdn headers), then msg.headers,
 * skipping any header that repeats a typed field, so build(parse(x)) does not
 * duplicate headers. Throws a TypeError on input that cannot be represented.
 */
export function buildCpim(msg: CpimInput, opts?: BuildCpimOptions): string {
  const lines: string[] = [];
  if (msg.from) lines.push(`From: ${formatAddress('From', msg.from)}`);
  for (const a of msg.to ?? []) lines.push(`To: ${formatAddress('To', a)}`);

  const requests = msg.imdn?.dispositionNotification ?? [];
  for (const r of requests) {
    if (!DISPOSITIONS.includes(r)) throw new TypeError(`unknown disposition notification ${JSON.stringify(r)}`);
  }
  const messageId = msg.imdn?.messageId;
  if (messageId !== undefined && !TOKEN.test(messageId)) throw new TypeError('imdn Message-ID must be a CPIM token');
  if (requests.length > 0 && messageId === undefined) throw new TypeError('an IMDN request needs imdn.messageId (RFC 5438 §7.1.1.1)');

  // RFC 5438 §7.1.1.2: DateTime is mandatory when IMDNs are requested.
  const dateTime = msg.dateTime ?? (requests.length > 0 ? (opts?.now ?? new Date()) : undefined);
  if (dateTime) lines.push(`DateTime: ${formatRfc3339(dateTime)}`);
  if (msg.subject !== undefined) lines.push(`Subject: ${escapeCpimValue(msg.subject)}`);

  const namespaces = new Map(Object.entries(msg.namespaces ?? {}));
  let imdnPrefix: string | undefined;
  if (msg.imdn) {
    imdnPrefix = [...namespaces].find(([p, u]) => p !== '' && u === IMDN_NS)?.[0];
    if (imdnPrefix === undefined) {
      imdnPrefix = 'imdn';
      for (let n = 1; namespaces.has(imdnPrefix); n++) imdnPrefix = `imdn${n}`;
      namespaces.set(imdnPrefix, IMDN_NS);
    }
  }
  // A default-namespace declaration goes last, so the headers above stay in the CPIM namespace.
  const nsOrder = [...namespaces].sort(([a], [b]) => Number(a === '') - Number(b === ''));
  for (const [prefix, uri] of nsOrder) {
    if ((prefix !== '' && !NAME.test(prefix)) || !ABSOLUTE_URI.test(uri)) throw new TypeError(`invalid NS declaration ${JSON.stringify(prefix)}`);
    lines.push(prefix === '' ? `NS: <${uri}>` : `NS: ${prefix} <${uri}>`);
  }
  if (msg.imdn && imdnPrefix) {
    if (messageId !== undefined) lines.push(`${imdnPrefix}.Message-ID: ${messageId}`);
    if (requests.length > 0) lines.push(`${imdnPrefix}.Disposition-Notification: ${[...new Set(requests)].join(', ')}`);
    if (msg.imdn.originalTo) lines.push(`${imdnPrefix}.Original-To: ${formatAddress('Original-To', msg.imdn.originalTo)}`);
  }

  for (const h of msg.headers ?? []) {
    if (!NAME.test(h.name) || (h.ns !== undefined && !NAME.test(h.ns))) throw new TypeError(`invalid CPIM header name ${JSON.stringify(h.name)}`);
    const uri = h.uri ?? (h.ns === undefined ? CPIM_HEADERS_NS : namespaces.get(h.ns));
    if (h.ns === undefined && h.name === 'NS') continue;
    if (uri === CPIM_HEADERS_NS && MANAGED_CPIM.has(h.name)) continue;
    if (uri === IMDN_NS && MANAGED_IMDN.has(h.name)) continue;
    let params = '';
    for (const [k, v] of Object.entries(h.params ?? {})) {
      if (!NAME.test(k)) throw new TypeError(`invalid CPIM header parameter name ${JSON.stringify(k)}`);
      params += `;${k}=${TOKEN.test(v) ? v : `"${escapeCpimValue(v, true)}"`}`;
    }
    lines.push(`${h.ns === undefined ? '' : `${h.ns}.`}${h.name}:${params} ${escapeControls(h.value)}`);
  }

  const content = msg.content;
  if (typeof content.contentType !== 'string' || !parseContentType(content.contentType)) {
    throw new TypeError(`invalid content Content-Type ${JSON.stringify(content.contentType)}`);
  }
  const contentLines = [`Content-Type: ${content.contentType}`];
  for (const [name, value] of Object.entries(content.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') continue;
    if (!MIME_NAME.test(name)) throw new TypeError(`invalid content header name ${JSON.stringify(name)}`);
    if (CTL.test(value.replace(/\t/g, ' '))) throw new TypeError(`control character in content header ${name}`);
    contentLines.push(`${name}: ${value}`);
  }
  return `${lines.map((l) => `${l}\r\n`).join('')}\r\n${contentLines.join('\r\n')}\r\n\r\n${content.body}`;
}
