/**
 * Decoding of text bodies (text/plain, text/html, …) by the charset parameter.
 *
 * Supported charsets (with their common aliases): utf-8 (the default),
 * us-ascii, iso-8859-1, windows-1252, utf-16, utf-16le, utf-16be. Any other
 * charset gives an error, and the gateway answers 415. Decoding is strict:
 * invalid UTF-8 or UTF-16, and non-ASCII bytes in us-ascii, are errors; they
 * are never silently replaced.
 *
 * ISO-8859-1 is decoded as real ISO-8859-1 (0x80–0x9F become C1 controls).
 * The WHATWG Encoding Standard instead treats that label as windows-1252.
 *
 * String input, and the limit that comes with it: drachtio-srf decodes the whole
 * SIP message as UTF-8 and hands the body over as a JS string. When the wire
 * bytes were valid UTF-8, `Buffer.from(body, 'utf8')` gives those exact bytes
 * back, so a body labelled with another charset can still be decoded by that
 * label. When they were not, the decoder has already put U+FFFD in their place
 * and the bytes cannot be recovered; that is reported as an error, not guessed.
 * This happens with most real ISO-8859-1/windows-1252/UTF-16 bodies that
 * contain non-ASCII characters. Supporting those needs the raw bytes as a
 * Buffer.
 * A caller whose string holds one byte per code unit (a "binary"/latin1
 * string) passes `stringOrigin: 'latin1'`. Every code unit must then be ≤ 0xFF.
 */
import { type Result, type SizeLimit, checkSize, fail, ok } from './result.js';

export type Charset = 'utf-8' | 'us-ascii' | 'iso-8859-1' | 'windows-1252' | 'utf-16' | 'utf-16le' | 'utf-16be';

export interface DecodeOptions extends SizeLimit {
  /**
   * How a string body was made from the wire bytes: 'utf8' (the default; this is
   * what drachtio-srf does) or 'latin1' (one byte per code unit). Ignored for byte input.
   */
  stringOrigin?: 'utf8' | 'latin1';
}

const ALIASES: Record<string, Charset> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
  'us-ascii': 'us-ascii', ascii: 'us-ascii', 'ansi_x3.4-1968': 'us-ascii', 'iso646-us': 'us-ascii', 'iso-ir-6': 'us-ascii',
  us: 'us-ascii', ibm367: 'us-ascii', cp367: 'us-ascii', csascii: 'us-ascii',
  'iso-8859-1': 'iso-8859-1', 'iso8859-1': 'iso-8859-1', 'iso_8859-1': 'iso-8859-1', 'iso_8859-1:1987': 'iso-8859-1',
  latin1: 'iso-8859-1', l1: 'iso-8859-1', 'iso-ir-100': 'iso-8859-1', ibm819: 'iso-8859-1', cp819: 'iso-8859-1',
  csisolatin1: 'iso-8859-1',
  'windows-1252': 'windows-1252', cp1252: 'windows-1252', 'x-cp1252': 'windows-1252',
  'utf-16': 'utf-16', utf16: 'utf-16', 'utf-16le': 'utf-16le', 'utf-16be': 'utf-16be',
};

/** The canonical name of a supported charset (case-insensitive, aliases accepted); undefined means utf-8; null when unsupported. */
export function normalizeCharset(charset: string | undefined): Charset | null {
  if (charset === undefined) return 'utf-8';
  const key = charset.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  return Object.prototype.hasOwnProperty.call(ALIASES, key) ? (ALIASES[key] ?? null) : null;
}

function decodeBytes(bytes: Uint8Array, charset: Charset): Result<string> {
  switch (charset) {
    case 'utf-8':
      return strictDecode('utf-8', bytes);
    case 'us-ascii': {
      const bad = bytes.findIndex((b) => b > 0x7f);
      if (bad >= 0) return fail(`byte 0x${bytes[bad]?.toString(16)} at offset ${bad} is not US-ASCII`);
      return ok(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
    }
    case 'iso-8859-1':
      return ok(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
    case 'windows-1252':
      return ok(decodeWindows1252(bytes));
    case 'utf-16le':
    case 'utf-16be':
      return strictDecode(charset, bytes);
    case 'utf-16':
      // RFC 2781 §4.3: the BOM decides; without one, big-endian.
      return strictDecode(bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : 'utf-16be', bytes);
  }
}

// WHATWG index for windows-1252, bytes 0x80–0x9F (the other bytes map to the same code point).
// The five bytes that Windows leaves unassigned (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 controls, as in WHATWG.
// Decoded here rather than with TextDecoder: since 20.18.3/22.13.0, Node's TextDecoder('windows-1252') decodes
// ISO-8859-1 instead (nodejs/node#56542, #60888).
const CP1252_HIGH = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
  0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    const chunk = Array.from(bytes.subarray(i, i + 8192), (b) => (b >= 0x80 && b <= 0x9f ? (CP1252_HIGH[b - 0x80] ?? b) : b));
    out += String.fromCharCode(...chunk);
  }
  return out;
}

function strictDecode(label: string, bytes: Uint8Array): Result<string> {
  try {
    return ok(new TextDecoder(label, { fatal: true }).decode(bytes));
  } catch {
    return fail(`body is not valid ${label}`);
  }
}

/**
 * Decodes a text body by its charset (undefined = utf-8). Never throws.
 * See the file comment about string input.
 */
export function decodeText(body: Uint8Array | string, charset?: string, opts?: DecodeOptions): Result<string> {
  try {
    if (typeof body !== 'string' && !(body instanceof Uint8Array)) return fail('body is neither a string nor bytes');
    const tooBig = checkSize(body, opts);
    if (tooBig) return fail(tooBig);
    const cs = normalizeCharset(charset);
    if (!cs) return fail(`unsupported charset ${JSON.stringify(String(charset).slice(0, 64))}`);
    if (typeof body !== 'string') return decodeBytes(body, cs);

    if ((opts?.stringOrigin ?? 'utf8') === 'latin1') {
      if (/[^\u0000-\u00ff]/.test(body)) return fail('string body has code units above 0xFF, so it is not a byte string');
      return decodeBytes(Buffer.from(body, 'latin1'), cs);
    }
    // The string came from UTF-8 decoding.
    if (cs === 'utf-8') {
      // Already text. A U+FFFD may come from invalid bytes upstream or be real; it cannot be told apart.
      if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(body)) return fail('lone surrogate in body');
      return ok(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
    }
    if (body.includes('\uFFFD')) {
      return fail(`cannot decode as ${cs}: the body was decoded as UTF-8 upstream and its original bytes are lost (U+FFFD present)`);
    }
    return decodeBytes(Buffer.from(body, 'utf8'), cs);
  } catch (e) {
    return fail(`cannot decode body: ${e instanceof Error ? e.message : String(e)}`);
  }
}
