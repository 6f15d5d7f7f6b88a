/**
 * text/html → XMPP plain text body + XHTML-IM (XEP-0071), as RFC 7572 §7 asks
 * ("if processed, MUST convert to XHTML-IM").
 *
 * A tolerant HTML tokenizer feeds an allowlist sanitizer. Nothing from the input
 * reaches the output except:
 *  - the elements a, br, p, span, strong, em, cite, code, blockquote, ol, ul, li
 *    and q (b → strong and i → em);
 *  - the attribute href on <a>, and only with the schemes http, https, xmpp,
 *    sip, sips or mailto;
 *  - character data, with entities decoded and the result escaped again.
 * Other elements are unwrapped (their text is kept), and block-like ones become
 * line breaks. The content of script, style, head, svg, math, object, template,
 * iframe, … is dropped. So are all other attributes (event handlers, style,
 * class, …), comments, doctypes and processing instructions. Characters that
 * XML 1.0 forbids are removed. The XHTML output is always well-formed XML.
 * <img> is dropped; its alt text is kept as text.
 */
import { type Result, type SizeLimit, checkSize, describe, fail, ok } from './result.js';
import { escapeXmlAttr, escapeXmlText, stripInvalidXmlChars } from './xml.js';

export const XHTML_IM_NS = 'http://jabber.org/protocol/xhtml-im';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export interface HtmlToImOptions extends SizeLimit {
  /** Maximum nesting of output elements; deeper elements are unwrapped. Default 16. */
  maxDepth?: number;
}

export interface ImFormatted {
  /** Text for the XMPP <body/>: text content, blocks and <br> as newlines, whitespace collapsed. */
  plain: string;
  /** `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>…</body></html>` */
  xhtml: string;
}

const ALLOWED_SCHEMES = new Set(['http', 'https', 'xmpp', 'sip', 'sips', 'mailto']);
const RENAME: Record<string, string> = { b: 'strong', i: 'em' };
const INLINE_ALLOWED = new Set(['a', 'span', 'strong', 'em', 'cite', 'code', 'q']);
const BLOCK_ALLOWED = new Set(['p', 'blockquote', 'ol', 'ul', 'li']);
const BLOCK_UNWRAPPED = new Set([
  'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'address', 'center', 'section', 'article', 'header', 'footer', 'main',
  'nav', 'aside', 'figure', 'figcaption', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'caption',
  'fieldset', 'legend', 'details', 'summary', 'form', 'listing',
]);
const VOID = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen',
  'frame', 'basefont', 'bgsound', 'image',
]);
/** Elements whose content is raw text up to the matching end tag; dropped. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);
/** Elements whose whole subtree is dropped. */
const DROP_SUBTREE = new Set([
  'head', 'svg', 'math', 'object', 'applet', 'template', 'select', 'audio', 'video', 'canvas', 'map', 'frameset',
  'datalist', 'picture', 'option', 'optgroup',
]);

// HTML 4 Latin-1 entities, U+00A0 … U+00FF in order.
const LATIN1_ENTITIES = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro ' +
  'para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil ' +
  'Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave ' +
  'Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml ' +
  'igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute ' +
  'thorn yuml'
).split(' ');
const ENTITIES = new Map<string, string>([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"],
  ['euro', '\u20AC'], ['hellip', '\u2026'], ['mdash', '\u2014'], ['ndash', '\u2013'], ['lsquo', '\u2018'],
  ['rsquo', '\u2019'], ['sbquo', '\u201A'], ['ldquo', '\u201C'], ['rdquo', '\u201D'], ['bdquo', '\u201E'],
  ['bull', '\u2022'], ['trade', '\u2122'], ['dagger', '\u2020'], ['Dagger', '\u2021'], ['permil', '\u2030'],
  ['lsaquo', '\u2039'], ['rsaquo', '\u203A'], ['OElig', '\u0152'], ['oelig', '\u0153'], ['Scaron', '\u0160'],
  ['scaron', '\u0161'], ['Yuml', '\u0178'], ['fnof', '\u0192'], ['circ', '\u02C6'], ['tilde', '\u02DC'],
  ['ensp', '\u2002'], ['emsp', '\u2003'], ['thinsp', '\u2009'], ['zwnj', '\u200C'], ['zwj', '\u200D'],
  ['lrm', '\u200E'], ['rlm', '\u200F'],
  ...LATIN1_ENTITIES.map((name, i): [string, string] => [name, String.fromCharCode(0xa0 + i)]),
]);

/** Decodes HTML character references. Unknown named references stay as they are. */
export function decodeHtmlEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{1,31}));/g, (all, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return ENTITIES.get(name) ?? all;
    const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    if (!Number.isFinite(cp) || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\uFFFD';
    return String.fromCodePoint(cp);
  });
}

/** The href if it is absolute and uses an allowed scheme, else null. */
function safeHref(raw: string): string | null {
  // Browsers drop tab/CR/LF anywhere and C0/space at both ends ("java\nscript:" is javascript:).
  const d = decodeHtmlEntities(raw).replace(/[\t\n\r]/g, '');
  let a = 0;
  let b = d.length;
  while (a < b && d.charCodeAt(a) <= 0x20) a += 1;
  while (b > a && d.charCodeAt(b - 1) <= 0x20) b -= 1;
  const v = d.slice(a, b);
  if (v.length === 0 || v.length > 2048 || /[\u0000-\u001F\u007F]/.test(v)) return null;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v);
  return m && ALLOWED_SCHEMES.has((m[1] ?? '').toLowerCase()) ? v : null;
}

interface StartTag { name: string; attrs: Map<string, string>; selfClosing: boolean }

const HTML_WS = /[ \t\n\r\f]+/g;
const MAX_LISTS = 32;

class Converter {
  private x = '';
  /** Plain text chunks. It is only appended to (never read back) until finish(), which keeps the work linear. */
  private readonly p: string[] = [];
  /** Last character written to the plain text ('' before any). */
  private pLast = '';
  /** A collapsed space is owed before the next plain text on this line. */
  private pSpace = false;
  /** Open output elements: output name and source tag name (used to match end tags). */
  private readonly stack: Array<{ out: string; src: string }> = [];
  /** Open ul/ol source lists for plain-text numbering; counts items. At most MAX_LISTS are tracked. */
  private readonly lists: Array<{ ordered: boolean; n: number }> = [];
  /** Open lists beyond MAX_LISTS, which are not tracked. */
  private listOverflow = 0;
  private xAtEdge = true;
  private xPendingBreak = false;
  private pre = 0;

  constructor(private readonly maxDepth: number) {}

  text(raw: string): void {
    const decoded = stripInvalidXmlChars(decodeHtmlEntities(raw).replace(/\r\n?/g, '\n'));
    if (this.pre > 0) {
      if (decoded.length === 0) return;
      this.flushBreak(decoded);
      this.x += decoded.split('\n').map(escapeXmlText).join('<br/>');
      this.xAtEdge = decoded.endsWith('\n');
      this.emit(decoded.replace(/\u00A0/g, ' '));
      return;
    }
    let t = decoded.replace(HTML_WS, ' ');
    if (t.length === 0) return;
    if (/^ *$/.test(t) && this.xAtEdge) {
      this.plainText(' ');
      return;
    }
    this.flushBreak(t);
    if (this.xAtEdge) t = t.replace(/^ /, '');
    this.x += escapeXmlText(t);
    this.xAtEdge = false;
    this.plainText(t);
  }

  private emit(s: string): void {
    if (s.length === 0) return;
    this.p.push(s);
    this.pLast = s.charAt(s.length - 1);
  }

  /** Appends whitespace-collapsed text; spaces at line starts and ends are left out. */
  private plainText(t: string): void {
    const s = t.replace(/\u00A0/g, ' ');
    const lead = s.startsWith(' ');
    let end = s.length;
    if (end > (lead ? 1 : 0) && s.charCodeAt(end - 1) === 0x20) end -= 1;
    const core = s.slice(lead ? 1 : 0, end);
    if (lead) this.pSpace = true;
    if (core.length > 0) {
      if (this.pSpace && this.pLast !== '' && this.pLast !== '\n' && this.pLast !== ' ') this.emit(' ');
      this.pSpace = false;
      this.emit(core);
    }
    if (s.endsWith(' ')) this.pSpace = true;
  }

  /** Emits the <br/> owed to an unwrapped block boundary before inline content. */
  private flushBreak(content: string): void {
    if (!this.xPendingBreak || /^ *$/.test(content)) return;
    this.xPendingBreak = false;
    if (!this.xAtEdge) {
      this.x += '<br/>';
      this.xAtEdge = true;
    }
  }

  private plainBreak(): void {
    this.pSpace = false;
    if (this.pLast !== '' && this.pLast !== '\n') this.emit('\n');
  }

  start(tag: StartTag): void {
    const src = tag.name;
    const name = RENAME[src] ?? src;
    if (src === 'br') {
      this.x += '<br/>';
      this.xAtEdge = true;
      this.xPendingBreak = false;
      this.pSpace = false;
      this.emit('\n');
      return;
    }
    if (src === 'hr') {
      this.unwrappedBlock();
      return;
    }
    if (src === 'img') {
      const alt = tag.attrs.get('alt');
      if (alt) this.text(` ${alt} `);
      return;
    }
    if (VOID.has(src)) return;
    if (src === 'ul' || src === 'ol') {
      if (this.lists.length < MAX_LISTS) this.lists.push({ ordered: src === 'ol', n: 0 });
      else this.listOverflow += 1;
    }
    if (src === 'pre' || src === 'listing') this.pre += 1;

    if (BLOCK_ALLOWED.has(name) || BLOCK_UNWRAPPED.has(name)) this.closeImplied(name);
    if (name === 'li') {
      this.plainBreak();
      const list = this.lists[this.lists.length - 1];
      const indent = '  '.repeat(Math.min(Math.max(0, this.lists.length - 1), 8));
      if (list) list.n += 1;
      this.emit(`${indent}${list?.ordered ? `${list.n}.` : '-'} `);
    }

    const canNest = this.stack.length < this.maxDepth;
    if (canNest && BLOCK_ALLOWED.has(name)) {
      if (name !== 'li') this.plainBreak();
      this.x += `<${name}>`;
      this.stack.push({ out: name, src });
      this.xAtEdge = true;
      this.xPendingBreak = false;
      return;
    }
    if (name === 'a') {
      // Links do not nest: a new <a> closes the open one, as in HTML.
      const open = this.stack.findIndex((e) => e.out === 'a');
      if (open >= 0) this.closeTo(open);
    }
    if (canNest && INLINE_ALLOWED.has(name)) {
      let open = `<${name}>`;
      if (name === 'a') {
        const href = safeHref(tag.attrs.get('href') ?? '');
        if (href === null) return; // unwrap: keep the link text only
        open = `<a href='${escapeXmlAttr(stripInvalidXmlChars(href))}'>`;
      }
      this.flushBreak('x');
      this.x += open;
      this.stack.push({ out: name, src });
      return;
    }
    if (BLOCK_ALLOWED.has(name) || BLOCK_UNWRAPPED.has(name)) this.unwrappedBlock();
  }

  private unwrappedBlock(): void {
    this.xPendingBreak = true;
    this.plainBreak();
  }

  /** HTML's implied end tags: a block closes an open <p>, an <li> closes the previous <li> of its list. */
  private closeImplied(name: string): void {
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const out = this.stack[k]?.out;
      if (out === 'li' || out === 'blockquote' || out === 'ol' || out === 'ul') {
        if (name === 'li' && out === 'li') this.closeTo(k);
        return;
      }
      if (out === 'p') {
        this.closeTo(k);
        return;
      }
    }
  }

  private closeTo(index: number): void {
    while (this.stack.length > index) {
      const top = this.stack.pop();
      if (!top) break;
      this.x += `</${top.out}>`;
      if (BLOCK_ALLOWED.has(top.out)) {
        this.xAtEdge = true;
        this.xPendingBreak = false;
        this.plainBreak();
      }
    }
  }

  end(src: string): void {
    if ((src === 'ul' || src === 'ol') && this.listOverflow > 0) {
      this.listOverflow -= 1;
    } else if (src === 'ul' || src === 'ol') {
      for (let k = this.lists.length - 1; k >= 0; k--) {
        if (this.lists[k]?.ordered === (src === 'ol')) {
          this.lists.splice(k);
          break;
        }
      }
    }
    if ((src === 'pre' || src === 'listing') && this.pre > 0) this.pre -= 1;
    for (let k = this.stack.length - 1; k >= 0; k--) {
      if (this.stack[k]?.src === src) {
        this.closeTo(k);
        return;
      }
    }
    const name = RENAME[src] ?? src;
    if (BLOCK_UNWRAPPED.has(name) || BLOCK_ALLOWED.has(name)) this.unwrappedBlock();
  }

  finish(): ImFormatted {
    this.closeTo(0);
    const plain = this.p
      .join('')
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    let body = this.x;
    for (;;) {
      if (body.endsWith('<br/>')) body = body.slice(0, -5);
      else if (body.endsWith(' ')) body = body.slice(0, -1);
      else break;
    }
    return { plain, xhtml: `<html xmlns='${XHTML_IM_NS}'><body xmlns='${XHTML_NS}'>${body}</body></html>` };
  }
}

const TAG_NAME = /[A-Za-z][^\s/>]*/y;
const ATTR_NAME = /[^\s"'>/=]+/y;

/** Parses a start tag at `lt` (s[lt] === '<', s[lt+1] a letter). Returns the tag and the index after it, or null at EOF. */
function readStartTag(s: string, lt: number): { tag: StartTag; next: number } | null {
  TAG_NAME.lastIndex = lt + 1;
  const m = TAG_NAME.exec(s);
  if (!m) return null;
  const tag: StartTag = { name: m[0].toLowerCase(), attrs: new Map(), selfClosing: false };
  let i = TAG_NAME.lastIndex;
  for (;;) {
    while (i < s.length && /[\s/]/.test(s.charAt(i))) {
      tag.selfClosing = s[i] === '/';
      i += 1;
    }
    if (i >= s.length) return null;
    if (s[i] === '>') return { tag, next: i + 1 };
    tag.selfClosing = false;
    ATTR_NAME.lastIndex = i;
    const an = ATTR_NAME.exec(s);
    let name: string;
    if (an) {
      name = an[0].toLowerCase();
      i = ATTR_NAME.lastIndex;
    } else {
      name = s.charAt(i); // a stray quote or "=": HTML makes it part of a name
      i += 1;
    }
    while (i < s.length && /\s/.test(s.charAt(i))) i += 1;
    let value = '';
    if (s[i] === '=') {
      i += 1;
      while (i < s.length && /\s/.test(s.charAt(i))) i += 1;
      const q = s[i];
      if (q === '"' || q === "'") {
        const close = s.indexOf(q, i + 1);
        if (close < 0) return null;
        value = s.slice(i + 1, close);
        i = close + 1;
      } else {
        const start = i;
        while (i < s.length && !/[\s>]/.test(s.charAt(i))) i += 1;
        value = s.slice(start, i);
      }
    }
    if (!tag.attrs.has(name)) tag.attrs.set(name, value);
  }
}

/** Converts an untrusted text/html body. Never throws. */
export function htmlToIm(html: string, opts?: HtmlToImOptions): Result<ImFormatted> {
  try {
    if (typeof html !== 'string') return fail('HTML body is not a string');
    const tooBig = checkSize(html, opts);
    if (tooBig) return fail(tooBig);
    const conv = new Converter(opts?.maxDepth ?? 16);
    const s = html;
    let i = 0;
    let drop: { name: string; depth: number } | null = null;
    while (i < s.length) {
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        if (!drop) conv.text(s.slice(i));
        break;
      }
      if (lt > i && !drop) conv.text(s.slice(i, lt));
      const c = s.charAt(lt + 1);
      if (c === '!') {
        // comment, doctype, CDATA (a bogus comment in HTML): dropped
        if (s.startsWith('<!--', lt)) {
          const end = s.indexOf('-->', lt + 4);
          i = end < 0 ? s.length : end + 3;
        } else {
          const end = s.indexOf('>', lt);
          i = end < 0 ? s.length : end + 1;
        }
        continue;
      }
      if (c === '?') {
        const end = s.indexOf('>', lt);
        i = end < 0 ? s.length : end + 1;
        continue;
      }
      if (c === '/') {
        TAG_NAME.lastIndex = lt + 2;
        const m = TAG_NAME.exec(s);
        const end = s.indexOf('>', lt);
        i = end < 0 ? s.length : end + 1;
        if (!m || end < 0) continue; // "</>" or "</ junk>": dropped
        const name = m[0].toLowerCase();
        if (drop) {
          if (name === drop.name && --drop.depth === 0) drop = null;
        } else {
          conv.end(name);
        }
        continue;
      }
      if (!/[A-Za-z]/.test(c)) {
        if (!drop) conv.text('&lt;');
        i = lt + 1;
        continue;
      }
      const read = readStartTag(s, lt);
      if (!read) break; // EOF inside a tag: the incomplete tag is dropped
      const { tag } = read;
      i = read.next;
      if (tag.name === 'plaintext') break;
      if (RAW_TEXT.has(tag.name)) {
        const close = new RegExp(`</${tag.name}[\\s/>]`, 'ig');
        close.lastIndex = i;
        const m = close.exec(s);
        if (!m) break;
        const end = s.indexOf('>', m.index);
        i = end < 0 ? s.length : end + 1;
        continue;
      }
      if (drop) {
        if (tag.name === drop.name && !tag.selfClosing) drop.depth += 1;
        continue;
      }
      if (DROP_SUBTREE.has(tag.name)) {
        if (!tag.selfClosing) drop = { name: tag.name, depth: 1 };
        continue;
      }
      conv.start(tag);
      if (tag.selfClosing && !VOID.has(tag.name)) conv.end(tag.name);
    }
    return ok(conv.finish());
  } catch (e) {
    return fail(`cannot convert HTML: ${describe(e)}`);
  }
}
