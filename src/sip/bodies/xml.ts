/**
 * Hardened XML parsing for SIP bodies (isComposing, IMDN), built on xml2js.
 *
 * Untrusted input goes through a lexical pre-scan before xml2js sees it. The
 * pre-scan refuses:
 *  - inputs over the size limit (default 64 KiB);
 *  - any `<!DOCTYPE`, `<!ENTITY` or other markup declaration, so no entity
 *    (internal or external) can ever be defined or expanded;
 *  - entity references other than the five predefined ones and numeric
 *    character references;
 *  - processing instructions other than a leading XML declaration, and an XML
 *    declaration whose encoding is not UTF-8;
 *  - characters that XML 1.0 forbids (C0 controls, U+FFFE/U+FFFF, lone surrogates);
 *  - documents deeper than `maxDepth` or with more than `maxElements` elements;
 *  - text or a second element after the root element. xml2js silently ignores
 *    these, so the pre-scan checks for them itself.
 * xml2js (sax in strict mode, with namespace processing) then checks
 * well-formedness and resolves namespaces. Callers must check the root
 * element's namespace.
 */
import xml2js from 'xml2js';
import { type Result, type SizeLimit, checkSize, describe, fail, ok } from './result.js';

export const DEFAULT_MAX_DEPTH = 32;
export const DEFAULT_MAX_ELEMENTS = 512;

export interface XmlLimits extends SizeLimit {
  /** Maximum element nesting depth (the root is depth 1). Default 32. */
  maxDepth?: number;
  /** Maximum number of elements. Default 512. */
  maxElements?: number;
}

export interface XmlElement {
  /** Local name. */
  name: string;
  /** Namespace URI, '' when the element is in no namespace. */
  ns: string;
  /**
   * Attributes keyed by local name (unqualified attributes) or by `{uri}local`
   * (qualified ones). Namespace declarations are left out.
   */
  attrs: Readonly<Record<string, string>>;
  children: XmlElement[];
  /** Character data directly inside the element (not its children's); '' when only whitespace. */
  text: string;
}

// Characters outside the XML 1.0 Char production, and lone surrogates. This is
// matched on UTF-16 code units on purpose, which is why there is no `u` flag.
const INVALID_XML_CHAR =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INVALID_XML_CHARS = new RegExp(INVALID_XML_CHAR.source, 'g');

/** True when `s` contains a character XML 1.0 does not allow (even escaped). */
export function hasInvalidXmlChars(s: string): boolean {
  return INVALID_XML_CHAR.test(s);
}

/** Removes the characters XML 1.0 does not allow. */
export function stripInvalidXmlChars(s: string): string {
  return s.replace(INVALID_XML_CHARS, '');
}

/** Escapes character data. */
export function escapeXmlText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Escapes an attribute value; works inside single or double quotes. */
export function escapeXmlAttr(s: string): string {
  return s.replace(/[&<>"'\t\n\r]/g, (c) => ATTR_ESCAPES[c] ?? c);
}

const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};

/** Escaped text for a builder. Throws on characters XML cannot carry. */
export function xmlTextFor(field: string, value: string): string {
  if (hasInvalidXmlChars(value)) throw new TypeError(`${field} contains characters not allowed in XML`);
  return escapeXmlText(value);
}

/** The first child element with this namespace and local name. */
export function child(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.name === name);
}

/** All child elements with this namespace and local name. */
export function children(el: XmlElement, ns: string, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === ns && c.name === name);
}

const ENTITY_REF = /&(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/y;
const ENCODING = /\sencoding\s*=\s*(["'])([^"']*)\1/;

/** Lexical checks done before xml2js sees the input; returns an error or null. */
function prescan(s: string, maxDepth: number, maxElements: number): string | null {
  if (hasInvalidXmlChars(s)) return 'invalid XML character';
  let i = 0;
  if (s.startsWith('<?xml') && /[\s?]/.test(s.charAt(5))) {
    const end = s.indexOf('?>');
    if (end < 0) return 'unterminated XML declaration';
    const enc = ENCODING.exec(s.slice(0, end));
    if (enc && !/^utf-?8$/i.test(enc[2] ?? '')) return `unsupported XML encoding "${enc[2]}" (UTF-8 required)`;
    i = end + 2;
  }
  let depth = 0;
  let elements = 0;
  let rootClosed = false;
  const markup = /[<&]/g;
  for (;;) {
    markup.lastIndex = i;
    const m = markup.exec(s);
    const j = m ? m.index : s.length;
    if (depth === 0 && /\S/.test(s.slice(i, j))) return rootClosed ? 'text after the root element' : 'text before the root element';
    if (!m) break;
    if (s[j] === '&') {
      if (depth === 0) return 'entity reference outside the root element';
      ENTITY_REF.lastIndex = j;
      if (!ENTITY_REF.test(s)) return 'entity reference not allowed (only the predefined entities and character references)';
      i = ENTITY_REF.lastIndex;
      continue;
    }
    if (s.startsWith('<!--', j)) {
      const end = s.indexOf('-->', j + 4);
      if (end < 0) return 'unterminated comment';
      i = end + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', j)) {
      if (depth === 0) return 'CDATA outside the root element';
      const end = s.indexOf(']]>', j + 9);
      if (end < 0) return 'unterminated CDATA section';
      i = end + 3;
      continue;
    }
    if (s[j + 1] === '!') {
      return /^<!(?:DOCTYPE|ENTITY)/i.test(s.slice(j, j + 9))
        ? 'DOCTYPE and ENTITY declarations are not allowed'
        : 'markup declarations are not allowed';
    }
    if (s[j + 1] === '?') return 'processing instructions are not allowed';
    const end = tagEnd(s, j + 1);
    if (end < 0) return 'unterminated tag';
    const tag = s.slice(j, end + 1);
    for (let k = tag.indexOf('&'); k >= 0; k = tag.indexOf('&', k + 1)) {
      ENTITY_REF.lastIndex = k;
      if (!ENTITY_REF.test(tag)) return 'entity reference not allowed (only the predefined entities and character references)';
    }
    if (s[j + 1] === '/') {
      depth -= 1;
      if (depth < 0) return 'unbalanced end tag';
      if (depth === 0) rootClosed = true;
    } else {
      if (rootClosed) return 'more than one root element';
      elements += 1;
      if (elements > maxElements) return `too many XML elements (> ${maxElements})`;
      if (s[end - 1] !== '/') {
        depth += 1;
        if (depth > maxDepth) return `XML nesting too deep (> ${maxDepth})`;
      } else if (depth === 0) {
        rootClosed = true;
      }
    }
    i = end + 1;
  }
  if (elements === 0) return 'no root element';
  return null;
}

/** Index of the `>` closing the tag that starts before `from`, skipping quoted values; -1 if none. */
function tagEnd(s: string, from: number): number {
  for (let k = from; k < s.length; k++) {
    const c = s[k];
    if (c === '>') return k;
    if (c === '<') return -1;
    if (c === '"' || c === "'") {
      k = s.indexOf(c, k + 1);
      if (k < 0) return -1;
    }
  }
  return -1;
}

interface RawAttr { value: string; prefix: string; local: string; uri: string; name: string }
interface RawNode {
  '@'?: Record<string, RawAttr>;
  '@ns'?: { uri?: string; local?: string };
  '#text'?: unknown;
  '#children'?: unknown;
}

const PARSER_OPTIONS: xml2js.ParserOptions = {
  strict: true,
  async: false,
  xmlns: true,
  explicitArray: true,
  explicitRoot: true,
  explicitChildren: true,
  preserveChildrenOrder: true,
  charsAsChildren: false,
  explicitCharkey: true,
  trim: false,
  normalize: false,
  normalizeTags: false,
  // Keys that can never be XML names, so element names cannot collide with them.
  attrkey: '@',
  charkey: '#text',
  childkey: '#children',
};

function convert(node: RawNode): XmlElement {
  const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
  const rawAttrs = node['@'];
  if (rawAttrs) {
    for (const a of Object.values(rawAttrs)) {
      if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
      attrs[a.uri ? `{${a.uri}}${a.local}` : a.local] = String(a.value);
    }
  }
  const rawChildren = node['#children'];
  const kids = Array.isArray(rawChildren) ? (rawChildren as RawNode[]).map(convert) : [];
  const text = node['#text'];
  return {
    name: node['@ns']?.local ?? '',
    ns: node['@ns']?.uri ?? '',
    attrs,
    children: kids,
    text: typeof text === 'string' ? text : '',
  };
}

/**
 * Parses an untrusted XML document into a small namespace-aware tree.
 * A byte input must be UTF-8 (the XML bodies used here must be UTF-8 by their RFCs).
 */
export function parseXml(input: string | Uint8Array, limits?: XmlLimits): Result<XmlElement> {
  try {
    const tooBig = checkSize(input, limits);
    if (tooBig) return fail(tooBig);
    let s: string;
    if (typeof input === 'string') {
      s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
    } else {
      try {
        s = new TextDecoder('utf-8', { fatal: true }).decode(input);
      } catch {
        return fail('XML body is not valid UTF-8');
      }
    }
    // Leniency: leading whitespace (say a stray CRLF) before the XML declaration.
    s = s.replace(/^[ \t\r\n]+/, '');
    const bad = prescan(s, limits?.maxDepth ?? DEFAULT_MAX_DEPTH, limits?.maxElements ?? DEFAULT_MAX_ELEMENTS);
    if (bad) return fail(bad);

    let error: string | undefined;
    let result: unknown;
    let calls = 0;
    const parser = new xml2js.Parser(PARSER_OPTIONS);
    try {
      // With async: false, xml2js calls back synchronously.
      parser.parseString(s, (err: Error | null, value: unknown) => {
        calls += 1;
        if (err) error ??= describe(err);
        else if (calls === 1) result = value;
      });
    } catch (e) {
      error ??= describe(e);
    }
    if (error !== undefined) return fail(`malformed XML: ${error}`);
    if (calls !== 1 || result === null || typeof result !== 'object') return fail('malformed XML: no document');
    const roots = Object.values(result as Record<string, RawNode>);
    const root = roots[0];
    if (roots.length !== 1 || !root || typeof root !== 'object') return fail('malformed XML: no root element');
    return ok(convert(root));
  } catch (e) {
    return fail(`malformed XML: ${describe(e)}`);
  }
}
