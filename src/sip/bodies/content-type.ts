/**
 * Content-Type header values (RFC 2045 §5.1, which RFC 3261 §20.15 follows):
 *
 *   content   := type "/" subtype *(";" parameter)
 *   parameter := attribute "=" value
 *   value     := token / quoted-string
 *   token     := 1*<any US-ASCII CHAR except SPACE, CTLs, or tspecials>
 *   tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" / <"> / "/" / "[" / "]" / "?" / "="
 *
 * Linear whitespace is allowed around the separators, as in SIP. RFC 822
 * comments are not supported (SIP does not allow them), so a value with a
 * comment is refused.
 */

export interface ContentType {
  /** Lower-cased type, e.g. "text". */
  type: string;
  /** Lower-cased subtype, e.g. "plain". */
  subtype: string;
  /** Lower-cased "type/subtype". */
  mime: string;
  /** Parameters: lower-cased names, unquoted values. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+/y;
const TOKEN_ONLY = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;
const WS = /[ \t]*/y;

function setOwn(obj: Record<string, string>, key: string, value: string): void {
  // defineProperty, so that a parameter called "__proto__" stays a plain own property.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses a Content-Type value; null when it is absent or malformed (duplicate parameters count as malformed). */
export function parseContentType(value: string | undefined): ContentType | null {
  if (typeof value !== 'string' || value.length > 4096) return null;
  let i = 0;
  const skipWs = (): void => {
    WS.lastIndex = i;
    WS.test(value);
    i = WS.lastIndex;
  };
  const token = (): string | null => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(value);
    if (!m) return null;
    i = TOKEN.lastIndex;
    return m[0];
  };
  skipWs();
  const type = token();
  skipWs();
  if (!type || value[i] !== '/') return null;
  i += 1;
  skipWs();
  const subtype = token();
  if (!subtype) return null;
  const params: Record<string, string> = {};
  for (;;) {
    skipWs();
    if (i >= value.length) break;
    if (value[i] !== ';') return null;
    i += 1;
    skipWs();
    if (i >= value.length) break; // tolerate a trailing ";"
    const name = token();
    if (!name) return null;
    skipWs();
    if (value[i] !== '=') return null;
    i += 1;
    skipWs();
    let v: string | null;
    if (value[i] === '"') {
      v = '';
      i += 1;
      for (;;) {
        const c = value[i];
        if (c === undefined) return null; // unterminated
        if (c === '"') {
          i += 1;
          break;
        }
        if (c === '\\') {
          const next = value[i + 1];
          if (next === undefined) return null;
          v += next;
          i += 2;
          continue;
        }
        v += c;
        i += 1;
      }
      if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(v)) return null;
    } else {
      v = token();
      if (v === null) return null;
    }
    const key = name.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(params, key)) return null;
    setOwn(params, key, v);
  }
  const t = type.toLowerCase();
  const st = subtype.toLowerCase();
  return { type: t, subtype: st, mime: `${t}/${st}`, params };
}

/**
 * Formats a Content-Type value, quoting parameter values that are not tokens.
 * Throws a TypeError when the media type, a parameter name, or a parameter value cannot be represented.
 */
export function formatContentType(mime: string, params?: Record<string, string>): string {
  const parts = mime.split('/');
  if (parts.length !== 2 || !parts.every((p) => TOKEN_ONLY.test(p))) throw new TypeError(`invalid media type: ${JSON.stringify(mime)}`);
  let out = mime;
  for (const [name, value] of Object.entries(params ?? {})) {
    if (!TOKEN_ONLY.test(name)) throw new TypeError(`invalid parameter name: ${JSON.stringify(name)}`);
    if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) throw new TypeError(`control character in parameter ${name}`);
    out += `;${name}=${TOKEN_ONLY.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`}`;
  }
  return out;
}
