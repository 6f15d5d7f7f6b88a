// The two escaping schemes of RFC 7247 §6.2 step 3: XEP-0106 `\hh` for JID
// localparts and RFC 3986 §2.1 `%HH` for SIP URI user parts and parameters.

// XEP-0106 §3.2, escaping table. The backslash itself is handled separately
// because it is escaped only in front of an escape-like sequence (§4.2 step 3).
const XEP0106_ESCAPES: ReadonlyMap<string, string> = new Map([
  [' ', '\\20'],
  ['"', '\\22'],
  ['&', '\\26'],
  ["'", '\\27'],
  ['/', '\\2f'],
  [':', '\\3a'],
  ['<', '\\3c'],
  ['>', '\\3e'],
  ['@', '\\40'],
]);

// The ten escape codes (XEP-0106 §3.3). "CASE IS SIGNIFICANT" (§3.1): only
// these lowercase forms are ever unescaped.
const XEP0106_CODES: ReadonlySet<string> = new Set(['20', '22', '26', '27', '2f', '3a', '3c', '3e', '40', '5c']);

/**
 * XEP-0106 escaping of a localpart: the nine disallowed characters become
 * `\hh`, and a backslash becomes `\5c` only when it starts a sequence that
 * looks like an escape (§4.2 step 3); any other backslash stays, because
 * §4.3 says partial and unknown sequences (`\2plus`, `foo\bar`, `foob\41r`)
 * are not modified.
 *
 * Deviation, defensive: the look-alike test is case-insensitive (`\2F` is
 * escaped to `\5c2F` too). XMPP servers case-fold localparts (nodeprep,
 * RFC 7622 UsernameCaseMapped), which would turn a bare `\2F` into the real
 * escape `\2f`. A peer that follows the XEP literally still unescapes
 * `\5c2F` to `\2F`, so nothing is lost.
 *
 * Does not check the "\20 never first or last" rule (§3.2 note); the
 * translation functions refuse such localparts.
 */
export function xep0106Escape(local: string): string {
  let out = '';
  for (let i = 0; i < local.length; i++) {
    const c = local.charAt(i);
    if (c === '\\') {
      out += XEP0106_CODES.has(local.slice(i + 1, i + 3).toLowerCase()) ? '\\5c' : '\\';
    } else {
      out += XEP0106_ESCAPES.get(c) ?? c;
    }
  }
  return out;
}

/** XEP-0106 §3.3: turn each of the ten `\hh` sequences back into its character; leave everything else (§4.1 rule 3, §4.3). */
export function xep0106Unescape(local: string): string {
  let out = '';
  for (let i = 0; i < local.length; i++) {
    const c = local.charAt(i);
    if (c === '\\') {
      const code = local.slice(i + 1, i + 3);
      if (XEP0106_CODES.has(code)) {
        out += String.fromCharCode(parseInt(code, 16));
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function asciiTable(chars: string): readonly boolean[] {
  const table = new Array<boolean>(128).fill(false);
  for (let c = 0x30; c <= 0x39; c++) table[c] = true;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = true;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = true;
  for (const c of chars) table[c.charCodeAt(0)] = true;
  return table;
}

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ),
// unreserved = alphanum / mark ("-" "_" "." "!" "~" "*" "'" "(" ")"),
// user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/".
// RFC 7247 §6.5 step 5 lists only `# % [ \ ] ^ ` { | }` and non-ASCII, but
// space, `"`, `<`, `>`, `@` and `:` cannot appear raw in a user part either.
const SIP_USER_RAW = asciiTable("-_.!~*'()&=+$,;?/");

// RFC 3261 §25.1: paramchar = param-unreserved / unreserved / escaped,
// param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$".
const SIP_PARAM_RAW = asciiTable("-_.!~*'()[]/:&+$");

// RFC 3261 §19.1.4: only characters outside the reserved set compare equal to
// their %HH form; this is that set (unreserved = alphanum / mark).
const SIP_UNRESERVED = asciiTable("-_.!~*'()");

const encoder = new TextEncoder();
const HEX = '0123456789ABCDEF';

function percentEncode(text: string, raw: readonly boolean[]): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (code < 128 && raw[code] === true) {
      out += ch;
      continue;
    }
    // RFC 3986 §2.1: uppercase hex digits; non-ASCII as its UTF-8 octets (RFC 7247 §6.5 step 5).
    for (const byte of encoder.encode(ch)) out += '%' + HEX.charAt(byte >> 4) + HEX.charAt(byte & 15);
  }
  return out;
}

/** Percent-encode a decoded user for the `user` part of a sip: URI. */
export function encodeSipUser(user: string): string {
  return percentEncode(user, SIP_USER_RAW);
}

/** Percent-encode a decoded value for a SIP URI parameter (here: `gr`). */
export function encodeSipParam(value: string): string {
  return percentEncode(value, SIP_PARAM_RAW);
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * Percent-decode and read the octets as UTF-8 (RFC 7247 §6.4 steps 3–4).
 * Raw non-ASCII characters, which RFC 3261 does not allow but some agents
 * send, count as their UTF-8 octets. Undefined for a `%` not followed by two
 * hex digits, for octets that are not UTF-8, and for lone surrogates.
 */
export function percentDecode(text: string): string | undefined {
  if (!text.includes('%')) return isWellFormed(text) ? text : undefined;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const pair = text.slice(i + 1, i + 3);
      if (!HEX_PAIR.test(pair)) return undefined;
      bytes.push(parseInt(pair, 16));
      i += 3;
    } else if (code < 0x80) {
      bytes.push(code);
      i += 1;
    } else {
      const cp = text.codePointAt(i) ?? 0;
      if (cp >= 0xd800 && cp <= 0xdfff) return undefined;
      for (const byte of encoder.encode(String.fromCodePoint(cp))) bytes.push(byte);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * RFC 3261 §19.1.4 comparison form of an encoded user part or parameter:
 * `%HH` of an unreserved character is decoded, every other `%HH` gets
 * uppercase hex. Two user parts are equivalent when their forms are equal.
 */
export function normaliseSipEscapes(encoded: string): string {
  return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const code = parseInt(hex, 16);
    return code < 128 && SIP_UNRESERVED[code] === true ? String.fromCharCode(code) : '%' + hex.toUpperCase();
  });
}

/** No lone surrogates (String.prototype.isWellFormed is ES2024). */
export function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Octets of the UTF-8 form (RFC 7622 §3.1 counts JID parts in octets). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) n += 1;
    else if (code < 0x800) n += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
