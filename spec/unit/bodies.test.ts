import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CPIM_HEADERS_NS, IMDN_NS, ISCOMPOSING_NS, IMDN_XML_NS, XHTML_IM_NS, XHTML_NS,
  buildCpim, buildImdn, buildIsComposing, decodeText, escapeCpimValue, formatContentType, formatRfc3339, htmlToIm,
  parseContentType, parseCpim, parseImdn, parseIsComposing, parseRfc3339, parseXml, unescapeCpimValue,
  type Result, type XmlElement,
} from '../../src/sip/bodies/index.js';
import { error, value } from '../support/result.js';

const crlf = (...lines: string[]): string => lines.join('\r\n');


function walk(el: XmlElement, visit: (e: XmlElement) => void): void {
  visit(el);
  for (const c of el.children) walk(c, visit);
}

// ---------------------------------------------------------------------------
// Fixtures transcribed from the RFCs (the "m:/h:/e:" tags of RFC 3862 removed;
// the message/cpim MIME header is the SIP Content-Type, so it is not in the body).

/** RFC 3862 §5.1 */
const RFC3862_5_1 = crlf(
  'From: MR SANDERS <im:piglet@100akerwood.com>',
  'To: Depressed Donkey <im:eeyore@100akerwood.com>',
  'DateTime: 2000-12-13T13:40:00-08:00',
  'Subject: the weather will be fine today',
  "Subject:;lang=fr beau temps prevu pour aujourd'hui",
  'NS: MyFeatures <mid:MessageFeatures@id.foo.com>',
  'Require: MyFeatures.VitalMessageOption',
  'MyFeatures.VitalMessageOption: Confirmation-requested',
  'MyFeatures.WackyMessageOption: Use-silly-font',
  '',
  'Content-type: text/xml; charset=utf-8',
  'Content-ID: <1234567890@foo.com>',
  '',
  '<body>',
  'Here is the text of my message.',
  '</body>',
);

/** RFC 5438 §7.1.1.3, verbatim (no empty line between the CPIM and the content headers). */
const RFC5438_IM = crlf(
  'From: Alice <im:alice@example.com>',
  'To: Bob <im:bob@example.com>',
  'NS: imdn <urn:ietf:params:imdn>',
  'imdn.Message-ID: 34jk324j',
  'DateTime: 2006-04-04T12:16:49-05:00',
  'imdn.Disposition-Notification: positive-delivery, negative-delivery',
  'Content-type: text/plain',
  'Content-length: 12',
  '',
  'Hello World',
);

function rfc5438Imdn(kind: 'delivery' | 'display' | 'processing', status: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<imdn xmlns="urn:ietf:params:xml:ns:imdn">',
    '      <message-id>34jk324j</message-id>',
    '      <datetime>2008-04-04T12:16:49-05:00</datetime>',
    '     <recipient-uri>im:bob@example.com</recipient-uri>',
    '      <original-recipient-uri',
    '        >im:bob@example.com</original-recipient-uri>',
    `      <${kind}-notification>`,
    '         <status>',
    `            <${status}/>`,
    '         </status>',
    `      </${kind}-notification>`,
    '    </imdn>',
  ].join('\n');
}

/** RFC 5438 §7.2.1.1 (delivery) and §7.2.1.2 (display): the CPIM wrapper, verbatim. */
function rfc5438ImdnCpim(messageId: string, xml: string): string {
  return crlf(
    'From: Bob <im:bob@example.com>',
    'To: Alice <im:alice@example.com>',
    'NS: imdn <urn:ietf:params:imdn>',
    `imdn.Message-ID: ${messageId}`,
    'Content-type: message/imdn+xml',
    'Content-Disposition: notification',
    'Content-length: ...',
    '',
    xml,
  );
}

/** RFC 5438 §8.1 (processing), after its SIP-level "Content-type: Message/CPIM" line. */
const RFC5438_PROCESSING = crlf(
  'From: Bob <im:bob@example.com>',
  'To: Alice <im:alice@example.com>',
  'Content-type: message/imdn+xml',
  'Content-Disposition: notification',
  'Content-length: ...',
  '',
  rfc5438Imdn('processing', 'processed'),
);

/** RFC 3994 §5, both examples. */
const RFC3994_ACTIVE = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"',
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
  'xsi:schemaLocation="urn:ietf:params:xml:ns:im-composing',
  'iscomposing.xsd">',
  '  <state>active</state>',
  '  <contenttype>text/plain</contenttype>',
  '  <refresh>90</refresh>',
  '</isComposing>',
].join('\n');
const RFC3994_IDLE = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"',
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
  'xsi:schemaLocation="urn:ietf:params:xml:ns:im-composing',
  'iscomposing.xsd">',
  '  <state>idle</state>',
  '  <lastactive>2003-01-27T10:43:00Z</lastactive>',
  '  <contenttype>audio</contenttype>',
  '</isComposing>',
].join('\n');

const BILLION_LAUGHS = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE lolz [',
  ' <!ENTITY lol "lol">',
  ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
  ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">',
  ']>',
  '<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>&lol3;</message-id></imdn>',
].join('\n');

const TEN_MB = 10 * 1024 * 1024;

// ---------------------------------------------------------------------------

describe('Content-Type', () => {
  test('parses type, subtype and quoted parameters', () => {
    assert.deepEqual(parseContentType('text/plain; charset="UTF-8"'), {
      type: 'text', subtype: 'plain', mime: 'text/plain', params: { charset: 'UTF-8' },
    });
    assert.equal(parseContentType('Message/CPIM')?.mime, 'message/cpim');
    assert.deepEqual(parseContentType(' multipart/mixed ;\tBoundary="imdn-boundary" ; x=1;')?.params, { boundary: 'imdn-boundary', x: '1' });
    assert.equal(parseContentType('text/plain;a="q\\"uo\\\\te"')?.params.a, 'q"uo\\te');
    const proto = parseContentType('text/plain;__proto__=x');
    assert.equal(Object.getPrototypeOf(proto?.params), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(proto?.params, '__proto__')?.value, 'x');
  });

  test('refuses malformed values', () => {
    for (const bad of [undefined, '', 'text', 'text/', '/plain', 'text /plain x', 'text/plain; charset', 'text/plain;charset=',
      'text/plain; charset="unterminated', 'text/plain; a=1; A=2', 'text/plain (comment)', 'text/plain; a=b c', 'tëxt/plain',
      'text/plain; a="x\ny"']) {
      assert.equal(parseContentType(bad), null, String(bad));
    }
  });

  test('formats and quotes, and refuses what it cannot write', () => {
    assert.equal(formatContentType('text/plain', { charset: 'utf-8' }), 'text/plain;charset=utf-8');
    const withSpace = formatContentType('multipart/mixed', { boundary: 'a b"c' });
    assert.equal(withSpace, 'multipart/mixed;boundary="a b\\"c"');
    assert.equal(parseContentType(withSpace)?.params.boundary, 'a b"c');
    assert.throws(() => formatContentType('text/plain', { charset: 'utf-8\r\nX-Evil: 1' }), TypeError);
    assert.throws(() => formatContentType('text/plain\r\nX: y'), TypeError);
    assert.throws(() => formatContentType('text', {}), TypeError);
  });
});

describe('decodeText', () => {
  test('decodes latin1, windows-1252, us-ascii and UTF-16 bytes', () => {
    const cafe = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    assert.equal(value(decodeText(cafe, 'ISO-8859-1')), 'café');
    assert.equal(value(decodeText(cafe, 'latin1')), 'café');
    assert.equal(value(decodeText(Buffer.from([0x80, 0x92, 0x9f, 0x81, 0xe9]), 'windows-1252')), '€\u2019\u0178\u0081é');
    assert.equal(value(decodeText(Buffer.from([0x93, 0x94]), 'cp1252')), '\u201c\u201d');
    assert.equal(value(decodeText(Buffer.from([0x80]), 'iso-8859-1')), '\u0080');
    assert.equal(value(decodeText(Buffer.from('hi'), 'US-ASCII')), 'hi');
    error(decodeText(cafe, 'us-ascii'), /not US-ASCII/);
    assert.equal(value(decodeText(Buffer.from([0xff, 0xfe, 0x68, 0x00, 0xe9, 0x00]), 'utf-16')), 'hé');
    assert.equal(value(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x68]), 'utf-16')), 'h');
    assert.equal(value(decodeText(Buffer.from([0x00, 0x68, 0x00, 0xe9]), 'utf-16')), 'hé', 'no BOM: big-endian');
    assert.equal(value(decodeText(Buffer.from([0x68, 0x00]), 'UTF-16LE')), 'h');
    error(decodeText(Buffer.from([0x00, 0x68, 0x00]), 'utf-16be'), /not valid/);
  });

  test('UTF-8 is the default and is decoded strictly', () => {
    assert.equal(value(decodeText(Buffer.from('tschüß €', 'utf8'))), 'tschüß €');
    assert.equal(value(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))), 'a', 'BOM dropped');
    error(decodeText(Buffer.from([0x61, 0xc3, 0x28])), /not valid utf-8/);
    error(decodeText(Buffer.from([0xc0, 0xaf]), 'utf-8'), /not valid/); // overlong "/"
    error(decodeText(Buffer.from([0xed, 0xa0, 0x80]), 'utf8'), /not valid/); // encoded surrogate
  });

  test('unknown charsets are errors', () => {
    error(decodeText(Buffer.from('x'), 'koi8-r'), /unsupported charset/);
    error(decodeText('x', 'utf-7'), /unsupported charset/);
    error(decodeText('x', ''), /unsupported charset/);
  });

  test('string input: UTF-8-decoded strings are re-encoded; lost bytes are reported', () => {
    assert.equal(value(decodeText('grüße', 'utf-8')), 'grüße');
    assert.equal(value(decodeText('grüße')), 'grüße');
    // The sender sent C3 A9 ("é" in UTF-8) but labelled it ISO-8859-1: decoded by the label.
    assert.equal(value(decodeText('é', 'iso-8859-1')), 'Ã©');
    assert.equal(value(decodeText('plain ascii', 'windows-1252')), 'plain ascii');
    // drachtio turned an invalid byte (a latin1 é) into U+FFFD: the byte is gone.
    error(decodeText('caf\uFFFD', 'iso-8859-1'), /original bytes are lost/);
    error(decodeText('a\uD800b', 'utf-8'), /surrogate/);
  });

  test("string input with stringOrigin 'latin1' is read as bytes", () => {
    assert.equal(value(decodeText('caf\u00e9', 'iso-8859-1', { stringOrigin: 'latin1' })), 'café');
    assert.equal(value(decodeText('\u00c3\u00a9', 'utf-8', { stringOrigin: 'latin1' })), 'é');
    error(decodeText('\u20ac', 'windows-1252', { stringOrigin: 'latin1' }), /above 0xFF/);
    error(decodeText('\u00c3\u0028', 'utf-8', { stringOrigin: 'latin1' }), /not valid utf-8/);
  });

  test('enforces the size limit', () => {
    error(decodeText(Buffer.alloc(TEN_MB, 0x61)), /too large/);
    error(decodeText('a'.repeat(TEN_MB), 'utf-8'), /too large/);
    error(decodeText('abcdef', 'utf-8', { maxBytes: 5 }), /too large/);
    assert.equal(value(decodeText('abcde', 'utf-8', { maxBytes: 5 })), 'abcde');
  });
});

describe('htmlToIm', () => {
  const allowed = new Set(['html', 'body', 'a', 'br', 'p', 'span', 'strong', 'em', 'cite', 'code', 'blockquote', 'ol', 'ul', 'li', 'q']);

  /** Parses the XHTML back and checks the wrapper, element allowlist and attributes. */
  function checkXhtml(xhtml: string): XmlElement {
    const root = value(parseXml(xhtml, { maxDepth: 64, maxElements: 100_000, maxBytes: 1 << 24 }));
    assert.equal(root.name, 'html');
    assert.equal(root.ns, XHTML_IM_NS);
    assert.equal(root.children.length, 1);
    assert.equal(root.children[0]?.name, 'body');
    assert.equal(root.children[0]?.ns, XHTML_NS);
    walk(root.children[0] as XmlElement, (e) => {
      assert.ok(allowed.has(e.name), `element ${e.name} is not allowed`);
      assert.equal(e.ns, XHTML_NS);
      for (const k of Object.keys(e.attrs)) assert.ok(e.name === 'a' && k === 'href', `attribute ${k} on ${e.name}`);
    });
    return root;
  }

  test('keeps the profile elements and converts the text', () => {
    const r = value(htmlToIm('<p>Hello <b>bold</b> and <i>it</i>, <strong>s</strong> <em>e</em> <code>c</code></p><p>Second&nbsp;line</p>'));
    assert.equal(
      r.xhtml,
      `<html xmlns='${XHTML_IM_NS}'><body xmlns='${XHTML_NS}'><p>Hello <strong>bold</strong> and <em>it</em>, <strong>s</strong> <em>e</em> <code>c</code></p><p>Second\u00a0line</p></body></html>`,
    );
    assert.equal(r.plain, 'Hello bold and it, s e c\nSecond line');
    checkXhtml(r.xhtml);
  });

  test('drops scripts, styles, event handlers, style attributes and dangerous links', () => {
    const html = [
      '<html><head><title>t</title><style>body{color:red}</style><script>var a = "</p>";</script></head><body>',
      '<p onclick="steal()" style="background:url(javascript:x)">Hi<script type="text/javascript">alert(1)</script></p>',
      '<a href="javascript:alert(1)">j1</a> <a href=" JaVaScRiPt:alert(1)">j2</a> <a href="java&#x09;script:alert(1)">j3</a>',
      '<a href="&#106;avascript:alert(1)">j4</a> <a href="java\nscript:alert(1)">j5</a> <a href="data:text/html,<script>x</script>">d</a>',
      '<a href="vbscript:x">v</a> <a href="/relative">rel</a> <a>noh</a> <a href="https://example.com/?a=1&amp;b=\'2\'" target=_blank onmouseover=x>ok</a>',
      '<img src="x" onerror="alert(1)" alt="pic"><iframe src="https://evil">frame text</iframe><svg><script>alert(2)</script><text>svg</text></svg>',
      '<object data="x"><param name="a" value="b">fallback</object><form action="/x"><input value="v">label</form>',
      '<!-- comment <script>alert(3)</script> --><![CDATA[ cdata ]]><?php echo 1 ?>',
      '</body></html>',
    ].join('');
    const r = value(htmlToIm(html));
    assert.doesNotMatch(r.xhtml, /script|alert|onclick|onerror|onmouseover|style|iframe|svg|object|frame text|fallback|comment|cdata|php|target/i);
    assert.doesNotMatch(r.plain, /alert|frame text|svg|fallback|body\{/);
    assert.match(r.xhtml, /<a href='https:\/\/example\.com\/\?a=1&amp;b=&apos;2&apos;'>ok<\/a>/);
    assert.equal((r.xhtml.match(/<a /g) ?? []).length, 1, 'only the https link survives');
    for (const text of ['j1', 'j2', 'j3', 'j4', 'j5', 'd', 'v', 'rel', 'noh', 'ok', 'pic', 'label']) assert.ok(r.plain.includes(text), text);
    const root = checkXhtml(r.xhtml);
    let href = '';
    walk(root, (e) => { if (e.name === 'a') href = e.attrs.href ?? ''; });
    assert.equal(href, "https://example.com/?a=1&b='2'");
  });

  test('keeps links with the allowed schemes only', () => {
    for (const ok of ['http://a.example/', 'https://a.example/', 'xmpp:juliet@example.com', 'sip:romeo@example.net', 'mailto:a@example.com']) {
      assert.match(value(htmlToIm(`<a href="${ok}">x</a>`)).xhtml, /<a href=/, ok);
    }
    for (const bad of ['ftp://a/', 'file:///etc/passwd', 'tel:+1', 'about:blank', '//evil.example/']) {
      assert.doesNotMatch(value(htmlToIm(`<a href="${bad}">x</a>`)).xhtml, /<a/, bad);
    }
  });

  test('decodes entities and escapes the output', () => {
    const r = value(htmlToIm('&lt;b&gt;not bold&lt;/b&gt; &amp;amp; &quot;q&quot; &#x1F600; &#233; &copy; &bogus; 1 < 2 > 0 &#0; &#xD800;'));
    assert.equal(r.plain, '<b>not bold</b> &amp; "q" 😀 é © &bogus; 1 < 2 > 0 \uFFFD \uFFFD');
    assert.match(r.xhtml, /&lt;b&gt;not bold&lt;\/b&gt; &amp;amp; "q" 😀 é © &amp;bogus; 1 &lt; 2 &gt; 0/);
    const root = checkXhtml(r.xhtml);
    assert.equal(root.children[0]?.text, r.plain);
  });

  test('line breaks, paragraphs, lists and whitespace collapsing in the plain text', () => {
    const r = value(htmlToIm('  Line   one<br>line\n\n  two<p>para</p><div>block</div><ol><li>a<li>b</ol><ul><li>x</li></ul><blockquote>q</blockquote>end'));
    assert.equal(r.plain, 'Line one\nline two\npara\nblock\n1. a\n2. b\n- x\nq\nend');
    assert.match(r.xhtml, /Line one<br\/>line two<p>para<\/p>block<ol><li>a<\/li><li>b<\/li><\/ol><ul><li>x<\/li><\/ul><blockquote>q<\/blockquote>end/);
    checkXhtml(r.xhtml);
  });

  test('repairs malformed markup into well-formed XML', () => {
    const cases = [
      '<b>unclosed <i>nested', '</i>stray end', '<p>a<p>b', '<p>x</span>y</p>', '<b><p>cross</b></p>', '<a href="http://x">a<a href="http://y">b',
      '<scr<script>ipt>alert(1)</script>', '<p attr="unterminated>text', '<br/><br /><p/>', '<<>>', '<ul><li>1<ul><li>2</ul></ul>', 'a < b',
      '<span\u0000 a=1>nul</span>', 'ctrl\u0001\u0008chars\uFFFE', '<p>lone \uD800 surrogate</p>',
    ];
    for (const html of cases) {
      const r = value(htmlToIm(html));
      checkXhtml(r.xhtml);
      assert.doesNotMatch(r.plain + r.xhtml, /[\u0000-\u0008\uFFFE\uD800]/, html);
    }
    assert.equal(value(htmlToIm('<p>a<p>b')).xhtml.includes('<p>a</p><p>b</p>'), true);
    assert.doesNotMatch(value(htmlToIm('<scr<script>ipt>alert(1)</script>')).xhtml, /<script/);
    assert.match(value(htmlToIm('<a href="http://x">a<a href="http://y">b</a>c')).xhtml, /<a href='http:\/\/x'>a<\/a><a href='http:\/\/y'>b<\/a>c</);
    assert.match(value(htmlToIm('<p>&nbsp;</p>')).xhtml, /<p>\u00a0<\/p>/);
  });

  test('deep nesting is bounded', () => {
    const html = '<span>'.repeat(5000) + 'deep' + '</span>'.repeat(5000);
    const r = value(htmlToIm(html, { maxDepth: 16 }));
    const root = checkXhtml(r.xhtml);
    let depth = 0;
    const measure = (e: XmlElement, d: number): void => { depth = Math.max(depth, d); e.children.forEach((c) => measure(c, d + 1)); };
    measure(root, 0);
    assert.ok(depth <= 18, `depth ${depth}`);
    assert.equal(r.plain, 'deep');
  });

  test('random garbage always gives well-formed XHTML-IM', () => {
    const pieces = ['<', '>', '</', '/>', '<p>', '</p>', '<b>', '</i>', '<a href="http://x/?a&amp;b">', '</a>', '<li>', '<ul>', '</ol>', '&amp;',
      '&', '&#', ';', '"', "'", '=', ' ', '\n', 'text', 'é', '😀', '<script>', '</script>', '<!--', '-->', '<br>', '<img alt="a>b">', '\u0001', '<style',
      '<svg>', '</svg>', '<div>', '<blockquote>', 'onclick=', 'javascript:', '<![CDATA[', ']]>', '<?', '?>', '<p class="x" style=\'y\'>'];
    let seed = 42;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    for (let k = 0; k < 150; k++) {
      let html = '';
      for (let n = rnd(60); n > 0; n--) html += pieces[rnd(pieces.length)];
      const r = value(htmlToIm(html));
      checkXhtml(r.xhtml);
    }
  });

  test('enforces the size limit', () => {
    error(htmlToIm('<p>' + 'x'.repeat(TEN_MB)), /too large/);
  });
});

describe('XML hardening', () => {
  const hostile: Array<[string, string, RegExp]> = [
    ['internal entity', '<!DOCTYPE imdn [<!ENTITY x "y">]><imdn xmlns="urn:ietf:params:xml:ns:imdn">&x;</imdn>', /DOCTYPE/],
    ['billion laughs', BILLION_LAUGHS, /DOCTYPE/],
    ['external entity', '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>', /DOCTYPE/],
    ['bare DOCTYPE', '<!DOCTYPE html><imdn/>', /DOCTYPE/],
    ['ELEMENT declaration', '<!ELEMENT imdn ANY><imdn/>', /declaration/],
    ['undeclared entity', '<imdn>&lol;</imdn>', /entity reference/],
    ['prototype entity', '<imdn>&constructor;</imdn>', /entity reference/],
    ['entity in attribute', '<imdn a="&x;"/>', /entity reference/],
    ['processing instruction', '<imdn><?evil data?></imdn>', /processing instruction/],
    ['stylesheet PI', '<?xml-stylesheet href="x"?><imdn/>', /processing instruction/],
    ['non-UTF-8 declaration', '<?xml version="1.0" encoding="ISO-8859-1"?><imdn/>', /UTF-8/],
    ['control character', '<imdn>\u0001</imdn>', /invalid XML character/],
    ['text after root', '<imdn/>trailing', /after the root/],
    ['second root', '<imdn/><imdn/>', /more than one root/],
    ['text before root', 'x<imdn/>', /before the root/],
    ['unclosed', '<imdn><a>', /malformed XML/],
    ['mismatched', '<imdn></a>', /malformed XML/],
    ['unbound prefix', '<p:imdn/>', /malformed XML/],
    ['empty', '', /no root/],
    ['garbage', '\u00ff\u00fe garbage {"json": true}', /root element/],
    ['unterminated comment', '<imdn/><!-- x', /unterminated comment/],
  ];
  for (const [name, xml, pattern] of hostile) {
    test(`refuses ${name}`, () => {
      error(parseXml(xml), pattern);
    });
  }

  test('limits depth, element count and size', () => {
    error(parseXml('<a>'.repeat(100) + '</a>'.repeat(100)), /too deep/);
    error(parseXml(`<a>${'<b/>'.repeat(600)}</a>`), /too many XML elements/);
    assert.equal(value(parseXml(`<a>${'<b/>'.repeat(600)}</a>`, { maxElements: 1000 })).children.length, 600);
    error(parseXml(`<a>${'x'.repeat(TEN_MB)}</a>`), /too large/);
    error(parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e])), /not valid UTF-8/);
  });

  test('resolves namespaces and is safe with odd element names', () => {
    const root = value(parseXml('<r xmlns="urn:a" xmlns:p="urn:p" p:x="1" y="2"><p:c>t</p:c><_ /><constructor/><__proto__>v</__proto__><toString/></r>'));
    assert.equal(root.ns, 'urn:a');
    assert.deepEqual({ ...root.attrs }, { '{urn:p}x': '1', y: '2' });
    assert.deepEqual(root.children.map((c) => `${c.ns}|${c.name}`), ['urn:p|c', 'urn:a|_', 'urn:a|constructor', 'urn:a|__proto__', 'urn:a|toString']);
    assert.equal(root.children[0]?.text, 't');
    assert.equal(root.children[3]?.text, 'v');
    assert.equal(value(parseXml('<r><![CDATA[a & <b>]]>&amp;&#233;</r>')).text, 'a & <b>&é');
  });
});

describe('CPIM', () => {
  test('RFC 3862 §5.1 example', () => {
    const m = value(parseCpim(RFC3862_5_1));
    assert.deepEqual(m.from, { display: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' });
    assert.deepEqual(m.to, [{ display: 'Depressed Donkey', uri: 'im:eeyore@100akerwood.com' }]);
    assert.equal(m.dateTime?.toISOString(), '2000-12-13T21:40:00.000Z');
    assert.equal(m.subject, 'the weather will be fine today');
    assert.equal(m.headers.length, 9);
    assert.deepEqual(m.headers[4], { name: 'Subject', value: "beau temps prevu pour aujourd'hui", params: { lang: 'fr' }, uri: CPIM_HEADERS_NS });
    assert.deepEqual(m.namespaces, { MyFeatures: 'mid:MessageFeatures@id.foo.com' });
    assert.deepEqual(m.headers[7], {
      ns: 'MyFeatures', name: 'VitalMessageOption', value: 'Confirmation-requested', uri: 'mid:MessageFeatures@id.foo.com',
    });
    assert.equal(m.headers[6]?.value, 'MyFeatures.VitalMessageOption');
    assert.equal(m.imdn, undefined);
    assert.equal(m.content.contentType, 'text/xml; charset=utf-8');
    assert.equal(m.content.headers['content-id'], '<1234567890@foo.com>');
    assert.equal(m.content.body, '<body>\r\nHere is the text of my message.\r\n</body>');
  });

  test('RFC 3862 §2.2 / §4.1 header examples, bare LF line ends', () => {
    const m = value(parseCpim([
      'To: Pooh Bear <im:pooh@100akerwood.com>',
      'From: <im:piglet@100akerwood.com>',
      'DateTime: 2001-02-02T10:48:54-05:00',
      'To: Winnie the Pooh <im:pooh@100akerwood.com>',
      '',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'This is my encapsulated text message content',
    ].join('\n')));
    assert.deepEqual(m.from, { uri: 'im:piglet@100akerwood.com' });
    assert.deepEqual(m.to.map((t) => t.display), ['Pooh Bear', 'Winnie the Pooh']);
    assert.equal(m.dateTime?.toISOString(), '2001-02-02T15:48:54.000Z');
    assert.equal(m.content.body, 'This is my encapsulated text message content');
  });

  test('RFC 5438 §7.1.1.3 IM requesting IMDNs, verbatim and with the empty line', () => {
    const verbatim = value(parseCpim(RFC5438_IM));
    const normalized = value(parseCpim(RFC5438_IM.replace('negative-delivery\r\n', 'negative-delivery\r\n\r\n')));
    for (const m of [verbatim, normalized]) {
      assert.deepEqual(m.imdn, { messageId: '34jk324j', dispositionNotification: ['positive-delivery', 'negative-delivery'] });
      assert.equal(m.dateTime?.toISOString(), '2006-04-04T17:16:49.000Z');
      assert.deepEqual(m.from, { display: 'Alice', uri: 'im:alice@example.com' });
      assert.equal(m.content.contentType, 'text/plain');
      assert.equal(m.content.body, 'Hello World');
      assert.equal(m.headers.length, 6);
      assert.deepEqual(m.namespaces, { imdn: IMDN_NS });
    }
  });

  test('RFC 5438 §7.2.1.1, §7.2.1.2 and §8.1 IMDNs (CPIM wrapper + XML)', () => {
    const cases: Array<[string, string, 'delivery' | 'display' | 'processing', string]> = [
      [rfc5438ImdnCpim('d834jied93rf', rfc5438Imdn('delivery', 'delivered')), 'd834jied93rf', 'delivery', 'delivered'],
      [rfc5438ImdnCpim('dfjkleriou432333', rfc5438Imdn('display', 'displayed')), 'dfjkleriou432333', 'display', 'displayed'],
      [RFC5438_PROCESSING, '', 'processing', 'processed'],
    ];
    for (const [body, cpimId, kind, status] of cases) {
      const m = value(parseCpim(body));
      assert.equal(m.content.contentType, 'message/imdn+xml');
      assert.equal(m.content.headers['content-disposition'], 'notification');
      assert.equal(m.imdn?.messageId, cpimId || undefined);
      assert.deepEqual(m.imdn?.dispositionNotification ?? [], []);
      const n = value(parseImdn(m.content.body));
      assert.deepEqual(n, {
        messageId: '34jk324j', kind, status, dateTime: new Date('2008-04-04T17:16:49Z'), dateTimeText: '2008-04-04T12:16:49-05:00',
        recipientUri: 'im:bob@example.com', originalRecipientUri: 'im:bob@example.com',
      });
    }
  });

  test('the IMDN namespace is matched by URN, not by prefix', () => {
    const withOtherPrefix = crlf('NS: zz <urn:ietf:params:imdn>', 'zz.Message-ID: abc', 'zz.Disposition-Notification: display, future-thing;x=1, processing',
      '', 'Content-Type: text/plain', '', 'x');
    assert.deepEqual(value(parseCpim(withOtherPrefix)).imdn, { messageId: 'abc', dispositionNotification: ['display', 'processing'] });
    const undeclared = crlf('imdn.Message-ID: abc', 'imdn.Disposition-Notification: display', '', 'Content-Type: text/plain', '', 'x');
    const m = value(parseCpim(undeclared));
    assert.equal(m.imdn, undefined);
    assert.equal(m.headers[0]?.uri, undefined);
    const otherUrn = crlf('NS: imdn <urn:example:not-imdn>', 'imdn.Message-ID: abc', '', 'Content-Type: text/plain', '', 'x');
    assert.equal(value(parseCpim(otherUrn)).imdn, undefined);
    const defaultNs = crlf('From: <sip:a@example.com>', 'NS: <urn:ietf:params:imdn>', 'Message-ID: def', 'From: <sip:b@example.com>', '',
      'Content-Type: text/plain', '', 'x');
    const d = value(parseCpim(defaultNs));
    assert.equal(d.imdn?.messageId, 'def');
    assert.equal(d.from?.uri, 'sip:a@example.com', 'the second From is in the IMDN namespace');
  });

  test('escape sequences (RFC 3862 §2.3)', () => {
    assert.equal(unescapeCpimValue('a\\\\b\\"c\\\'d\\te\\nf\\rg\\bh\\u00e9\\u0041\\qz\\'), 'a\\b"c\'d\te\nf\rg\bhéAqz');
    assert.equal(unescapeCpimValue('\\u12'), 'u12');
    assert.equal(escapeCpimValue('a\\b\r\n\t\b\u0000\u007f"'), 'a\\\\b\\r\\n\\t\\b\\u0000\\u007f"');
    assert.equal(escapeCpimValue('say "hi"', true), 'say \\"hi\\"');
    assert.equal(escapeCpimValue('é ☃ 😀'), 'é ☃ 😀', 'non-control characters are never escaped');
    const m = value(parseCpim(crlf('From: "A \\"B\\" \\\\ C" <sip:a@example.com>', 'Subject: line1\\r\\nline2 \\u2603', '', 'Content-Type: text/plain', '', '')));
    assert.equal(m.from?.display, 'A "B" \\ C');
    assert.equal(m.subject, 'line1\r\nline2 ☃');
  });

  const hostile: Array<[string, string, RegExp]> = [
    ['folded header', crlf('Subject: a', ' continued', '', 'Content-Type: text/plain', '', 'x'), /folded/],
    ['no empty line', 'From: <sip:a@example.com>', /no empty line/],
    ['missing Content-Type', crlf('From: <sip:a@example.com>', '', 'Content-ID: <x>', '', 'x'), /no Content-Type/],
    ['no content headers at all', crlf('From: <sip:a@example.com>', '', 'Hello'), /malformed content header/],
    ['malformed header line', crlf('From <sip:a@example.com>', '', 'Content-Type: text/plain', '', 'x'), /malformed message header/],
    ['bad header name', crlf('Fr(om: <sip:a@example.com>', '', 'Content-Type: text/plain', '', 'x'), /malformed message header/],
    ['duplicate From', crlf('From: <sip:a@example.com>', 'From: <sip:b@example.com>', '', 'Content-Type: text/plain', '', 'x'), /more than one From/],
    ['malformed From', crlf('From: sip:a@example.com', '', 'Content-Type: text/plain', '', 'x'), /malformed From/],
    ['relative From URI', crlf('From: <a@example.com>', '', 'Content-Type: text/plain', '', 'x'), /malformed From/],
    ['bad DateTime', crlf('DateTime: 2006-02-30T10:00:00Z', '', 'Content-Type: text/plain', '', 'x'), /RFC 3339/],
    ['DateTime without offset', crlf('DateTime: 2006-01-01T10:00:00', '', 'Content-Type: text/plain', '', 'x'), /RFC 3339/],
    ['duplicate Message-ID', crlf('NS: imdn <urn:ietf:params:imdn>', 'imdn.Message-ID: a', 'imdn.Message-ID: b', '', 'Content-Type: text/plain', '', 'x'), /more than one imdn Message-ID/],
    ['Message-ID not a token', crlf('NS: imdn <urn:ietf:params:imdn>', 'imdn.Message-ID: a b<c>', '', 'Content-Type: text/plain', '', 'x'), /not a token/],
    ['control character', crlf('Subject: a\u0000b', '', 'Content-Type: text/plain', '', 'x'), /control character/],
    ['lone CR in header', crlf('Subject: a\rInjected: b', '', 'Content-Type: text/plain', '', 'x'), /control character/],
    ['malformed NS', crlf('NS: imdn urn:ietf:params:imdn', '', 'Content-Type: text/plain', '', 'x'), /malformed NS/],
    ['duplicate content Content-Type', crlf('From: <sip:a@example.com>', '', 'Content-Type: text/plain', 'content-type: text/html', '', 'x'), /duplicate Content-Type/],
    ['bad content Content-Type', crlf('From: <sip:a@example.com>', '', 'Content-Type: text', '', 'x'), /malformed content Content-Type/],
    ['too many headers', crlf(...Array.from({ length: 200 }, (_, i) => `X-H${i}: v`), '', 'Content-Type: text/plain', '', 'x'), /too many headers/],
    ['10 MB body', crlf('From: <sip:a@example.com>', '', 'Content-Type: text/plain', '', 'x'.repeat(TEN_MB)), /too large/],
    ['garbage', '\u0000\u00ff\uFFFD{}<>\n\n\n', /malformed/],
    ['empty', '', /no empty line/],
  ];
  for (const [name, body, pattern] of hostile) {
    test(`refuses ${name}`, () => {
      error(parseCpim(body), pattern);
    });
  }

  test('build: IMDN request carries NS, Message-ID and DateTime', () => {
    const body = buildCpim({
      from: { display: 'Alice', uri: 'im:alice@example.com' },
      to: [{ display: 'Bob', uri: 'im:bob@example.com' }],
      imdn: { messageId: '34jk324j', dispositionNotification: ['positive-delivery', 'negative-delivery'] },
      content: { contentType: 'text/plain', headers: {}, body: 'Hello World' },
    }, { now: new Date('2006-04-04T17:16:49Z') });
    assert.equal(body, crlf(
      'From: Alice <im:alice@example.com>',
      'To: Bob <im:bob@example.com>',
      'DateTime: 2006-04-04T17:16:49Z',
      'NS: imdn <urn:ietf:params:imdn>',
      'imdn.Message-ID: 34jk324j',
      'imdn.Disposition-Notification: positive-delivery, negative-delivery',
      '',
      'Content-Type: text/plain',
      '',
      'Hello World',
    ));
    const m = value(parseCpim(body));
    assert.equal(m.dateTime?.toISOString(), '2006-04-04T17:16:49.000Z');
    assert.deepEqual(m.imdn, { messageId: '34jk324j', dispositionNotification: ['positive-delivery', 'negative-delivery'] });
    // Without the clock option, DateTime is still there.
    assert.match(buildCpim({ imdn: { messageId: 'x', dispositionNotification: ['display'] }, content: { contentType: 'text/plain', headers: {}, body: '' } }), /^DateTime: \d{4}-\d{2}-\d{2}T/m);
    assert.doesNotMatch(buildCpim({ content: { contentType: 'text/plain', headers: {}, body: '' } }), /DateTime/);
  });

  test('build: reuses a declared IMDN prefix and avoids clashes', () => {
    const reuse = buildCpim({ namespaces: { z: IMDN_NS }, imdn: { messageId: 'm1', dispositionNotification: ['display'] }, dateTime: new Date(0),
      content: { contentType: 'text/plain', headers: {}, body: '' } });
    assert.match(reuse, /\r\nNS: z <urn:ietf:params:imdn>\r\nz\.Message-ID: m1\r\nz\.Disposition-Notification: display\r\n/);
    const clash = buildCpim({ namespaces: { imdn: 'urn:example:other' }, imdn: { messageId: 'm2', dispositionNotification: [] },
      content: { contentType: 'text/plain', headers: {}, body: '' } });
    assert.equal(value(parseCpim(clash)).imdn?.messageId, 'm2');
    assert.match(clash, /NS: imdn1 <urn:ietf:params:imdn>/);
  });

  test('build: CR/LF in header text is escaped, never injected', () => {
    const body = buildCpim({
      from: { display: 'Eve\r\nTo: <sip:victim@example.com>', uri: 'sip:eve@example.com' },
      to: [{ uri: 'sip:bob@example.com' }],
      subject: 'hi\r\nimdn.Disposition-Notification: display\r\n\r\nContent-Type: text/html',
      headers: [{ ns: 'x', name: 'Extra', value: 'v\r\nDateTime: 1999-01-01T00:00:00Z' }],
      namespaces: { x: 'urn:example:x' },
      content: { contentType: 'text/plain', headers: { 'Content-Disposition': 'inline' }, body: 'body\r\n\r\nwith blank lines' },
    });
    const m = value(parseCpim(body));
    assert.equal(m.headers.length, 5);
    assert.deepEqual(m.to, [{ uri: 'sip:bob@example.com' }]);
    assert.equal(m.from?.display, 'Eve\r\nTo: <sip:victim@example.com>');
    assert.equal(m.subject, 'hi\r\nimdn.Disposition-Notification: display\r\n\r\nContent-Type: text/html');
    assert.equal(m.dateTime, undefined);
    assert.equal(m.headers[4]?.value, 'v\\r\\nDateTime: 1999-01-01T00:00:00Z');
    assert.equal(m.content.contentType, 'text/plain');
    assert.equal(m.content.body, 'body\r\n\r\nwith blank lines');
  });

  test('build: refuses what cannot be represented', () => {
    const content = { contentType: 'text/plain', headers: {}, body: '' };
    assert.throws(() => buildCpim({ from: { uri: 'sip:a@example.com>\r\nX: y' }, content }), TypeError);
    assert.throws(() => buildCpim({ to: [{ uri: 'not a uri' }], content }), TypeError);
    assert.throws(() => buildCpim({ headers: [{ name: 'Bad Name', value: 'x' }], content }), TypeError);
    assert.throws(() => buildCpim({ headers: [{ ns: 'a.b', name: 'X', value: 'x' }], content }), TypeError);
    assert.throws(() => buildCpim({ content: { ...content, contentType: 'text/plain\r\nX-Injected: 1' } }), TypeError);
    assert.throws(() => buildCpim({ content: { ...content, headers: { 'Content-ID': 'a\r\nb' } } }), TypeError);
    assert.throws(() => buildCpim({ content: { ...content, headers: { 'Bad:Name': 'a' } } }), TypeError);
    assert.throws(() => buildCpim({ imdn: { dispositionNotification: ['display'] }, content }), /messageId/);
    assert.throws(() => buildCpim({ imdn: { messageId: 'has space', dispositionNotification: [] }, content }), TypeError);
    assert.throws(() => buildCpim({ imdn: { messageId: 'x', dispositionNotification: ['bogus' as 'display'] }, content }), TypeError);
    assert.throws(() => buildCpim({ dateTime: new Date(Number.NaN), content }), TypeError);
  });

  test('round trip: parse(build(x)) keeps the fields and build(parse(build(x))) is stable', () => {
    const input = {
      from: { display: 'Juliet Capulet', uri: 'sip:juliet@example.com' },
      to: [{ uri: 'sip:romeo@example.net' }, { display: 'Nurse "N"', uri: 'sip:nurse@example.com' }],
      dateTime: new Date('2024-05-06T07:08:09.123Z'),
      subject: 'Wherefore \\ art thou?',
      namespaces: { MyFeatures: 'mid:MessageFeatures@id.foo.com' },
      headers: [{ ns: 'MyFeatures', name: 'Opt', value: 'v', params: { lang: 'en' } }],
      imdn: { messageId: 'a1B2-c3', dispositionNotification: ['positive-delivery', 'display'] as const, originalTo: { uri: 'sip:list@example.com' } },
      content: { contentType: 'text/plain; charset=utf-8', headers: { 'Content-Language': 'en' }, body: 'Art thou not Romeo, and a Montague?\r\n' },
    };
    const first = buildCpim({ ...input, imdn: { ...input.imdn, dispositionNotification: [...input.imdn.dispositionNotification] } });
    const parsed = value(parseCpim(first));
    assert.deepEqual(parsed.from, input.from);
    assert.deepEqual(parsed.to, input.to);
    assert.equal(parsed.dateTime?.toISOString(), '2024-05-06T07:08:09.123Z');
    assert.equal(parsed.subject, input.subject);
    assert.deepEqual(parsed.imdn, { ...input.imdn, dispositionNotification: ['positive-delivery', 'display'] });
    assert.equal(parsed.content.body, input.content.body);
    assert.equal(parsed.content.headers['content-language'], 'en');
    const ext = parsed.headers.find((h) => h.name === 'Opt');
    assert.deepEqual(ext, { ns: 'MyFeatures', name: 'Opt', value: 'v', params: { lang: 'en' }, uri: 'mid:MessageFeatures@id.foo.com' });
    const second = buildCpim(parsed);
    assert.equal(buildCpim(value(parseCpim(second))), second);
    assert.equal(value(parseCpim(second)).headers.length, parsed.headers.length);
  });
});

describe('isComposing (RFC 3994)', () => {
  test('RFC 3994 §5 examples', () => {
    assert.deepEqual(value(parseIsComposing(RFC3994_ACTIVE)), { state: 'active', contentType: 'text/plain', refresh: 90 });
    assert.deepEqual(value(parseIsComposing(RFC3994_IDLE)), { state: 'idle', lastActive: new Date('2003-01-27T10:43:00Z'), contentType: 'audio' });
    assert.equal(value(parseIsComposing(Buffer.from(RFC3994_ACTIVE, 'utf8'))).state, 'active');
  });

  test('round trip', () => {
    const inputs = [
      { state: 'active' as const, refresh: 60, contentType: 'text/plain' },
      { state: 'idle' as const, lastActive: new Date('2020-02-29T23:59:59Z'), contentType: 'a<b&"c"' },
      { state: 'idle' as const },
    ];
    for (const input of inputs) assert.deepEqual(value(parseIsComposing(buildIsComposing(input))), input);
    assert.match(buildIsComposing({ state: 'active', refresh: 90 }), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active<\/state><refresh>90<\/refresh><\/isComposing>$/);
  });

  test('unknown state tokens are idle (RFC 3994 §3.5); bad hints are dropped', () => {
    const doc = (inner: string): string => `<isComposing xmlns="${ISCOMPOSING_NS}">${inner}</isComposing>`;
    assert.deepEqual(value(parseIsComposing(doc('<state>typing</state>'))), { state: 'idle', unknownState: 'typing' });
    assert.deepEqual(value(parseIsComposing(doc('<state> active </state><refresh>0</refresh><lastactive>yesterday</lastactive>'))), { state: 'active' });
    assert.deepEqual(value(parseIsComposing(doc('<state>active</state><refresh>-5</refresh>'))), { state: 'active' });
    assert.deepEqual(value(parseIsComposing(doc('<state>active</state><refresh>99999999999</refresh>'))), { state: 'active' });
    assert.deepEqual(value(parseIsComposing(doc('<state>active</state><x:ext xmlns:x="urn:example:ext"><x:state>idle</x:state></x:ext>'))), { state: 'active' });
  });

  test('refuses invalid documents', () => {
    error(parseIsComposing(`<isComposing xmlns="${ISCOMPOSING_NS}"><contenttype>text</contenttype></isComposing>`), /missing <state>/);
    error(parseIsComposing(`<isComposing xmlns="${ISCOMPOSING_NS}"><state>active</state><state>idle</state></isComposing>`), /more than one/);
    error(parseIsComposing('<isComposing xmlns="urn:ietf:params:xml:ns:im-composing"><state>active</state></isComposing>'), /unexpected root/);
    error(parseIsComposing('<isComposing><state>active</state></isComposing>'), /unexpected root/);
    error(parseIsComposing(`<imdn xmlns="${ISCOMPOSING_NS}"><state>active</state></imdn>`), /unexpected root/);
    error(parseIsComposing(`<isComposing xmlns="${ISCOMPOSING_NS}"><state xmlns="urn:other">active</state></isComposing>`), /missing <state>/);
    error(parseIsComposing(BILLION_LAUGHS), /DOCTYPE/);
    error(parseIsComposing(`<isComposing xmlns="${ISCOMPOSING_NS}">${'<x:a xmlns:x="urn:x">'.repeat(50)}${'</x:a>'.repeat(50)}<state>active</state></isComposing>`), /too deep/);
    error(parseIsComposing(`<isComposing xmlns="${ISCOMPOSING_NS}"><state>${'a'.repeat(TEN_MB)}</state></isComposing>`), /too large/);
    error(parseIsComposing(Buffer.from([0xde, 0xad, 0xbe, 0xef])), /not valid UTF-8/);
    error(parseIsComposing('not xml at all'), /malformed|root/);
  });

  test('build refuses invalid input', () => {
    assert.throws(() => buildIsComposing({ state: 'active', refresh: 0 }), TypeError);
    assert.throws(() => buildIsComposing({ state: 'active', refresh: 1.5 }), TypeError);
    assert.throws(() => buildIsComposing({ state: 'typing' as 'active' }), TypeError);
    assert.throws(() => buildIsComposing({ state: 'idle', contentType: 'a\u0000' }), TypeError);
  });
});

describe('IMDN (RFC 5438)', () => {
  test('round trips for every kind and status', () => {
    const statuses = {
      delivery: ['delivered', 'failed', 'forbidden', 'error'],
      display: ['displayed', 'forbidden', 'error'],
      processing: ['processed', 'stored', 'forbidden', 'error'],
    } as const;
    for (const kind of ['delivery', 'display', 'processing'] as const) {
      for (const status of statuses[kind]) {
        const xml = buildImdn({ messageId: 'm<&>1', dateTime: new Date('2008-04-04T17:16:49Z'), recipientUri: 'sip:bob@example.com?a=1&b=2', kind, status });
        assert.deepEqual(value(parseImdn(xml)), {
          messageId: 'm<&>1', dateTime: new Date('2008-04-04T17:16:49Z'), dateTimeText: '2008-04-04T17:16:49Z',
          recipientUri: 'sip:bob@example.com?a=1&b=2', originalRecipientUri: 'sip:bob@example.com?a=1&b=2', kind, status,
        });
      }
    }
  });

  test('build writes the RFC structure and echoes a raw DateTime', () => {
    const xml = buildImdn({ messageId: '34jk324j', dateTime: '2006-04-04T12:16:49-05:00', kind: 'delivery', status: 'delivered' });
    assert.equal(xml, `<?xml version="1.0" encoding="UTF-8"?>\n<imdn xmlns="${IMDN_XML_NS}"><message-id>34jk324j</message-id><datetime>2006-04-04T12:16:49-05:00</datetime><delivery-notification><status><delivered/></status></delivery-notification></imdn>`);
    const full = buildImdn({ messageId: 'x', dateTime: new Date(0), recipientUri: 'im:bob@example.com', originalRecipientUri: 'im:list@example.com', subject: 'S & T', kind: 'display', status: 'displayed' });
    assert.deepEqual(value(parseImdn(full)), {
      messageId: 'x', dateTime: new Date(0), dateTimeText: '1970-01-01T00:00:00Z', recipientUri: 'im:bob@example.com',
      originalRecipientUri: 'im:list@example.com', subject: 'S & T', kind: 'display', status: 'displayed',
    });
    assert.throws(() => buildImdn({ messageId: 'x', dateTime: new Date(0), kind: 'delivery', status: 'displayed' }), TypeError);
    assert.throws(() => buildImdn({ messageId: 'x', dateTime: new Date(0), kind: 'display', status: 'stored' }), TypeError);
    assert.throws(() => buildImdn({ messageId: '', dateTime: new Date(0), kind: 'display', status: 'displayed' }), TypeError);
    assert.throws(() => buildImdn({ messageId: 'x', dateTime: new Date(0), originalRecipientUri: 'im:a@b', kind: 'display', status: 'displayed' }), TypeError);
    assert.throws(() => buildImdn({ messageId: 'x', dateTime: 'a\u0001', kind: 'display', status: 'displayed' }), TypeError);
  });

  test('tolerates a missing or free-form <datetime> and ignores extensions', () => {
    const r = value(parseImdn(`<imdn xmlns="${IMDN_XML_NS}" xmlns:e="urn:example:e"><message-id> abc </message-id><datetime>last Tuesday</datetime><e:x/><display-notification><status><error/><e:detail>why</e:detail></status></display-notification></imdn>`));
    assert.deepEqual(r, { messageId: 'abc', dateTimeText: 'last Tuesday', kind: 'display', status: 'error' });
    assert.deepEqual(value(parseImdn(`<imdn xmlns="${IMDN_XML_NS}"><message-id>a</message-id><processing-notification><status><stored/></status></processing-notification></imdn>`)),
      { messageId: 'a', kind: 'processing', status: 'stored' });
  });

  const doc = (inner: string, ns = IMDN_XML_NS): string => `<?xml version="1.0" encoding="UTF-8"?><imdn xmlns="${ns}">${inner}</imdn>`;
  const hostile: Array<[string, string | Uint8Array, RegExp]> = [
    ['missing message-id', doc('<datetime>2008-04-04T12:16:49-05:00</datetime><delivery-notification><status><delivered/></status></delivery-notification>'), /missing <message-id>/],
    ['no notification', doc('<message-id>a</message-id>'), /no delivery/],
    ['two notifications', doc('<message-id>a</message-id><delivery-notification><status><delivered/></status></delivery-notification><display-notification><status><displayed/></status></display-notification>'), /more than one notification/],
    ['status of another kind', doc('<message-id>a</message-id><delivery-notification><status><displayed/></status></delivery-notification>'), /not valid in a delivery/],
    ['unknown status', doc('<message-id>a</message-id><display-notification><status><read/></status></display-notification>'), /not valid in a display/],
    ['two statuses', doc('<message-id>a</message-id><delivery-notification><status><delivered/><failed/></status></delivery-notification>'), /exactly one/],
    ['empty status', doc('<message-id>a</message-id><delivery-notification><status/></delivery-notification>'), /exactly one/],
    ['missing status', doc('<message-id>a</message-id><delivery-notification/>'), /missing <status>/],
    ['wrong namespace', doc('<message-id>a</message-id><delivery-notification><status><delivered/></status></delivery-notification>', 'urn:ietf:params:imdn'), /unexpected root/],
    ['no namespace', '<imdn><message-id>a</message-id><delivery-notification><status><delivered/></status></delivery-notification></imdn>', /unexpected root/],
    ['DOCTYPE with entity', `<!DOCTYPE imdn [<!ENTITY id "a">]>${doc('<message-id>&id;</message-id>')}`, /DOCTYPE/],
    ['billion laughs', BILLION_LAUGHS, /DOCTYPE/],
    ['deep nesting', doc(`<message-id>a</message-id>${'<e:x xmlns:e="urn:e">'.repeat(40)}${'</e:x>'.repeat(40)}`), /too deep/],
    ['element flood', doc(`<message-id>a</message-id>${'<e:x xmlns:e="urn:e"/>'.repeat(1000)}`), /too many XML elements/],
    ['10 MB body', doc(`<message-id>${'a'.repeat(TEN_MB)}</message-id>`), /too large/],
    ['garbage bytes', Uint8Array.from([0x3c, 0x69, 0x6d, 0x64, 0x6e, 0xc3, 0x3e]), /not valid UTF-8/],
    ['JSON', '{"imdn": true}', /before the root/],
  ];
  for (const [name, body, pattern] of hostile) {
    test(`refuses ${name}`, () => {
      error(parseImdn(body), pattern);
    });
  }
});

describe('pathological inputs stay linear', () => {
  // Each of these took seconds with end-anchored regexes or repeated string re-reads (quadratic work).
  const K = 60 * 1024;
  const cases: Array<[string, () => Result<unknown>]> = [
    ['CPIM value with a long run of spaces', () => parseCpim(`Subject: a${' '.repeat(K)}x\r\n\r\nContent-Type: text/plain\r\n\r\nx`)],
    ['CPIM header with many parameters', () => parseCpim(`X:${';a=b'.repeat(K / 4)} v\r\n\r\nContent-Type: text/plain\r\n\r\nx`)],
    ['CPIM body with many line ends', () => parseCpim(`From: <sip:a@example.com>\r\n\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx${'\n'.repeat(K)}y`)],
    ['HTML with many <br> then text', () => htmlToIm(`${'<br>'.repeat(K / 4)}x`)],
    ['HTML <pre> with a long run of spaces', () => htmlToIm(`<pre>a${' '.repeat(K)}x</pre>`)],
    ['HTML href with a long run of spaces', () => htmlToIm(`<a href="http://a${' '.repeat(K)}x">a</a>`)],
    ['HTML with deeply nested lists', () => htmlToIm(`${'<ul>'.repeat(K / 8)}${'<li>x'.repeat(K / 10)}`)],
  ];
  for (const [name, run] of cases) {
    test(name, () => {
      const t0 = performance.now();
      const r = run();
      const ms = performance.now() - t0;
      // Linear code takes a few ms here; the quadratic versions took 2-8 s.
      // The bound is loose on purpose so that a slow CI machine cannot trip it.
      assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
      assert.equal(r.ok, true);
    });
  }
  test('plain text stays proportional to the input', () => {
    const r = value(htmlToIm(`${'<ul>'.repeat(K / 8)}${'<li>x'.repeat(K / 10)}`));
    assert.ok(r.plain.length < 4 * K, `${r.plain.length}`);
  });
});

describe('RFC 3339', () => {
  test('parses offsets, fractions and lower-case separators; refuses invalid dates', () => {
    assert.equal(parseRfc3339('2000-12-13T13:40:00-08:00')?.toISOString(), '2000-12-13T21:40:00.000Z');
    assert.equal(parseRfc3339('1985-04-12t23:20:50.52z')?.toISOString(), '1985-04-12T23:20:50.520Z');
    assert.equal(parseRfc3339('2024-02-29T00:00:00+00:00')?.toISOString(), '2024-02-29T00:00:00.000Z');
    for (const bad of ['2023-02-29T00:00:00Z', '2000-13-01T00:00:00Z', '2000-01-01T24:00:00Z', '2000-01-01 00:00:00Z', '2000-01-01T00:00:00',
      '2000-01-01T00:00:00+25:00', 'yesterday', '']) {
      assert.equal(parseRfc3339(bad), null, bad);
    }
    assert.equal(formatRfc3339(new Date('2006-04-04T17:16:49Z')), '2006-04-04T17:16:49Z');
    assert.equal(formatRfc3339(new Date('2006-04-04T17:16:49.5Z')), '2006-04-04T17:16:49.500Z');
  });
});
