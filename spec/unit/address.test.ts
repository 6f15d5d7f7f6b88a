import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressError,
  AddressMapper,
  jidToSipUri,
  normaliseDomain,
  normaliseSipEscapes,
  parseJid,
  parseSipUri,
  sipUriToJid,
  uriFromNameAddr,
  xep0106Escape,
  xep0106Unescape,
  type AddressErrorKind,
  type AddressResult,
} from '../../src/core/address.js';
import { prng } from '../support/prng.js';

function value<T>(result: AddressResult<T>, label = ''): T {
  if (!result.ok) assert.fail(`${label} expected ok, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

function errorOf<T>(result: AddressResult<T>, kind: AddressErrorKind, label = ''): AddressError {
  if (result.ok) assert.fail(`${label} expected error ${kind}, got ${JSON.stringify(result.value)}`);
  assert.equal(result.error.kind, kind, `${label}: ${result.error.message}`);
  return result.error;
}

const mapper = new AddressMapper({
  componentDomain: 'sip.example.com',
  homeSipDomain: 'example.org',
  xmppToSip: [
    { xmpp: 'example.com', sip: 'example.com' },
    { xmpp: 'chat.example.net', sip: 'voice.example.net' },
  ],
});

// ---------------------------------------------------------------- §10 A vectors (mode A)

test('A1: sip:f%C3%BC@sip.example ⇒ fü@sip.example', () => {
  const jid = value(sipUriToJid('sip:f%C3%BC@sip.example'));
  assert.equal(jid.full, 'fü@sip.example');
  assert.equal(jid.local, 'f\u00fc');
  assert.equal(jid.resource, undefined);
});

test("A2: sip:o'malley@sip.example ⇒ o\\27malley@sip.example", () => {
  assert.equal(value(sipUriToJid("sip:o'malley@sip.example")).bare, 'o\\27malley@sip.example');
  // Encoded apostrophe (an unreserved mark, RFC 3261 §19.1.4) is the same user.
  assert.equal(value(sipUriToJid('sip:o%27malley@sip.example')).bare, 'o\\27malley@sip.example');
});

test('A3: sip:foo@sip.example;gr=bar ⇒ foo@sip.example/bar', () => {
  const jid = value(sipUriToJid('sip:foo@sip.example;gr=bar'));
  assert.equal(jid.full, 'foo@sip.example/bar');
  assert.equal(jid.bare, 'foo@sip.example');
  assert.equal(jid.resource, 'bar');
});

test('A4: m\\26m@xmpp.example ⇒ sip:m&m@xmpp.example', () => {
  assert.equal(value(jidToSipUri('m\\26m@xmpp.example')), 'sip:m&m@xmpp.example');
});

test('A5: tschüss@xmpp.example ⇒ sip:tsch%C3%BCss@xmpp.example', () => {
  assert.equal(value(jidToSipUri('tschüss@xmpp.example')), 'sip:tsch%C3%BCss@xmpp.example');
});

test('A6: baz@xmpp.example/qux ⇒ sip:baz@xmpp.example;gr=qux', () => {
  assert.equal(value(jidToSipUri('baz@xmpp.example/qux')), 'sip:baz@xmpp.example;gr=qux');
});

test('A7: sip:a%23b@sip.example ⇒ a#b@sip.example, and a#b@xmpp.example ⇒ sip:a%23b@xmpp.example', () => {
  assert.equal(value(sipUriToJid('sip:a%23b@sip.example')).full, 'a#b@sip.example');
  assert.equal(value(jidToSipUri('a#b@xmpp.example')), 'sip:a%23b@xmpp.example');
});

test('A8: sip:x/y&z@sip.example ⇒ x\\2fy\\26z@sip.example', () => {
  assert.equal(value(sipUriToJid('sip:x/y&z@sip.example')).full, 'x\\2fy\\26z@sip.example');
});

test('A9: sip:romeo@example.net via component sip.example.com ⇔ romeo\\40example.net@sip.example.com', () => {
  const m = new AddressMapper({ componentDomain: 'sip.example.com', homeSipDomain: 'example.org', xmppToSip: [] });
  const jid = value(m.sipUserToJid('sip:romeo@example.net'));
  assert.equal(jid.full, 'romeo\\40example.net@sip.example.com');
  assert.equal(jid.domain, 'sip.example.com');
  const sip = value(m.jidToSipUser('romeo\\40example.net@sip.example.com'));
  assert.deepEqual(sip, { aor: 'sip:romeo@example.net', uri: 'sip:romeo@example.net', user: 'romeo', domain: 'example.net' });
});

test('A10: XEP-0106 §5.1 #1, #2, #8 and the §4.2 step 3 \\5c rule', () => {
  assert.equal(xep0106Escape('space cadet'), 'space\\20cadet');
  assert.equal(xep0106Escape('call me "ishmael"'), 'call\\20me\\20\\22ishmael\\22');
  assert.equal(xep0106Escape('user@host'), 'user\\40host');
  assert.equal(xep0106Escape('\\27'), '\\5c27');
  // Through the URI translation too.
  assert.equal(value(sipUriToJid('sip:space%20cadet@sip.example')).local, 'space\\20cadet');
  assert.equal(value(sipUriToJid('sip:user%40host@sip.example')).local, 'user\\40host');
  assert.equal(value(sipUriToJid('sip:%5C27@sip.example')).local, '\\5c27');
});

test('A11: sips:juliet@example.com is not translated to XMPP (RFC 7247 §8)', () => {
  const error = errorOf(sipUriToJid('sips:juliet@example.com'), 'sips');
  assert.equal(error.sipStatus, 403);
  errorOf(mapper.sipUserToJid('sips:juliet@example.org'), 'sips');
  errorOf(mapper.sipToXmppUser('SIPS:juliet@example.com'), 'sips');
});

test('A12: a temporary GRUU (bare ;gr) is not mapped to a resource', () => {
  const jid = value(sipUriToJid('sip:asd887f9dfkk76690@example.com;gr'));
  assert.equal(jid.resource, undefined);
  assert.equal(jid.full, 'asd887f9dfkk76690@example.com');
  assert.equal(value(parseSipUri('sip:asd887f9dfkk76690@example.com;gr')).temporaryGruu, true);
  assert.equal(value(parseSipUri('sip:foo@example.com;gr=bar')).temporaryGruu, false);
  // The same from a Contact header value, and through the mapper.
  const contact = uriFromNameAddr('<sip:asd887f9dfkk76690@example.com;gr>;expires=3600');
  assert.equal(contact, 'sip:asd887f9dfkk76690@example.com;gr');
  assert.equal(value(mapper.sipToXmppUser(contact ?? '')).resource, undefined);
});

// ---------------------------------------------------------------- XEP-0106

test('XEP-0106 §5.1 table: escaping and unescaping of rows 1–8 and 12', () => {
  const rows: Array<[string, string]> = [
    ['space cadet', 'space\\20cadet'],
    ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
    ['at&t guy', 'at\\26t\\20guy'],
    ["d'artagnan", 'd\\27artagnan'],
    ['/.fanboy', '\\2f.fanboy'],
    ['::foo::', '\\3a\\3afoo\\3a\\3a'],
    ['<foo>', '\\3cfoo\\3e'],
    ['user@host', 'user\\40host'],
    ['c:\\5commas', 'c\\3a\\5c5commas'],
  ];
  for (const [raw, escaped] of rows) {
    assert.equal(xep0106Escape(raw), escaped, raw);
    assert.equal(xep0106Unescape(escaped), raw, escaped);
  }
});

test('XEP-0106 §5.1 rows 9–11: a lone backslash stays (§4.2 step 3, §4.3); the table\'s \\5c form is still read', () => {
  // The table escapes every backslash, which contradicts §4.3 ("foo\bar is not modified").
  assert.equal(xep0106Escape('c:\\net'), 'c\\3a\\net');
  assert.equal(xep0106Escape('c:\\\\net'), 'c\\3a\\\\net');
  assert.equal(xep0106Escape('c:\\cool stuff'), 'c\\3a\\cool\\20stuff');
  // Both spellings unescape to the same user and so reach the same SIP URI.
  for (const local of ['c\\3a\\net', 'c\\3a\\5cnet']) {
    assert.equal(xep0106Unescape(local), 'c:\\net');
    assert.equal(value(jidToSipUri(`${local}@x.example`)), 'sip:c%3A%5Cnet@x.example');
  }
  assert.equal(xep0106Unescape('c\\3a\\5c\\5cnet'), 'c:\\\\net');
  assert.equal(xep0106Unescape('c\\3a\\5ccool\\20stuff'), 'c:\\cool stuff');
});

test('XEP-0106 §4.3: partial and unknown sequences are not modified either way', () => {
  for (const s of ['\\2plus\\2is\\4', 'foo\\bar', 'foob\\41r', 'trailing\\', 'x\\2', '\\']) {
    assert.equal(xep0106Escape(s), s, s);
    assert.equal(xep0106Unescape(s), s, s);
  }
});

test('XEP-0106 §5.5 and §5.7: IMPS and IRC addresses with escape look-alikes', () => {
  assert.equal(xep0106Escape('\\3and\\2is\\5cool'), '\\5c3and\\2is\\5c5cool');
  assert.equal(xep0106Unescape('\\5c3and\\2is\\5c5cool'), '\\3and\\2is\\5cool');
  assert.equal(xep0106Escape('somenick!user"&\'/:<>\\3address'), 'somenick!user\\22\\26\\27\\2f\\3a\\3c\\3e\\5c3address');
  assert.equal(xep0106Escape('here\'s_a_wild_&_/cr%zy/_address'), 'here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address');
});

test('XEP-0106: unescaping is case-sensitive; escaping guards uppercase look-alikes against server case-folding', () => {
  assert.equal(xep0106Unescape('a\\2Fb'), 'a\\2Fb');
  assert.equal(xep0106Unescape('a\\2fb'), 'a/b');
  assert.equal(xep0106Escape('a\\2Fb'), 'a\\5c2Fb');
  assert.equal(xep0106Unescape(xep0106Escape('a\\2Fb')), 'a\\2Fb');
  assert.equal(xep0106Unescape(xep0106Escape('a\\2Fb').toLowerCase()), 'a\\2fb');
});

test('XEP-0106 §5.3 sip: example: %zy is refused, and & \' / come back raw (specs §1.4)', () => {
  errorOf(sipUriToJid('sip:here%27s_a_wild_%26_%2Fcr%zy%2F_address@example.com'), 'uri-malformed');
  const jid = 'here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address@example.com';
  assert.equal(value(jidToSipUri(jid)), "sip:here's_a_wild_&_/cr%25zy/_address@example.com");
  assert.equal(value(sipUriToJid("sip:here's_a_wild_&_/cr%25zy/_address@example.com")).full, jid);
});

// ---------------------------------------------------------------- SIP URI details

test('SIP → XMPP ignores ports, other parameters, headers and passwords; accepts im: and pres:', () => {
  assert.equal(value(sipUriToJid('SIP:Bob@EXAMPLE.com:5060;transport=tcp;lr?Subject=hi')).full, 'Bob@example.com');
  assert.equal(value(sipUriToJid('sip:bob:secret@example.com')).full, 'bob@example.com');
  assert.equal(value(sipUriToJid('sip:alice;day=tue@example.com')).full, 'alice;day=tue@example.com');
  assert.equal(value(sipUriToJid('sip:bob@example.com;GR=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6')).resource,
    'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  assert.equal(value(sipUriToJid("im:o'hara@example.com")).full, 'o\\27hara@example.com');
  assert.equal(value(sipUriToJid('pres:juliet@example.com?subject=x')).full, 'juliet@example.com');
  assert.equal(value(sipUriToJid('sip:bob@example.com;gr=my%20phone')).resource, 'my phone');
  assert.equal(value(sipUriToJid('sip:bob@example.com.')).domain, 'example.com');
});

test('XMPP → SIP percent-encodes the user part and the gr value', () => {
  assert.equal(value(jidToSipUri('a\\20b\\22c\\3ad\\3ce\\3ef\\40g@x.example')), 'sip:a%20b%22c%3Ad%3Ce%3Ef%40g@x.example');
  assert.equal(value(jidToSipUri('[]^`{|}%\\5c@x.example')), 'sip:%5B%5D%5E%60%7B%7C%7D%25%5C@x.example');
  assert.equal(value(jidToSipUri("!$()*+,;=?_~-.@x.example")), "sip:!$()*+,;=?_~-.@x.example");
  assert.equal(value(jidToSipUri('d\\27artagnan\\2fx\\26y@x.example')), "sip:d'artagnan/x&y@x.example");
  assert.equal(value(jidToSipUri('bob@x.example/a b;c=d?e@f,g"h#i%j<k>l')),
    'sip:bob@x.example;gr=a%20b%3Bc%3Dd%3Fe%40f%2Cg%22h%23i%25j%3Ck%3El');
  assert.equal(value(jidToSipUri('bob@x.example/[]/:&+$-_.!~*\'()')), "sip:bob@x.example;gr=[]/:&+$-_.!~*'()");
  assert.equal(value(jidToSipUri('😀@x.example/ü')), 'sip:%F0%9F%98%80@x.example;gr=%C3%BC');
});

test('uriFromNameAddr: gr inside <> is a URI parameter, parameters after > or in addr-spec form are header parameters', () => {
  assert.equal(uriFromNameAddr('"Bob" <sip:bob@x.example;gr=y>;tag=z'), 'sip:bob@x.example;gr=y');
  assert.equal(uriFromNameAddr('"A <b> \\"c\\"" <sip:a@x.example>'), 'sip:a@x.example');
  assert.equal(uriFromNameAddr('Bob Smith <sip:bob@x.example>'), 'sip:bob@x.example');
  assert.equal(uriFromNameAddr('<sip:bob@x.example>;gr=y'), 'sip:bob@x.example'); // RFC 8048 examples' defect (App. A)
  assert.equal(uriFromNameAddr('  sip:bob@x.example;tag=z'), 'sip:bob@x.example');
  for (const bad of ['', '"unterminated <sip:a@b>', '<sip:a@b', '"Bob" sip:a@b', '<bob@x.example>', '*']) {
    assert.equal(uriFromNameAddr(bad), undefined, bad);
  }
});

// ---------------------------------------------------------------- errors

test('error kinds carry the documented SIP status and XMPP condition', () => {
  const cases: Array<[AddressResult<unknown>, AddressErrorKind, number, string]> = [
    [sipUriToJid('sips:a@example.com'), 'sips', 403, 'forbidden'],
    [sipUriToJid('tel:+15551234567'), 'unsupported-scheme', 416, 'not-acceptable'],
    [sipUriToJid('mailto:a@example.com'), 'unsupported-scheme', 416, 'not-acceptable'],
    [sipUriToJid('sip:%4@example.com'), 'uri-malformed', 400, 'bad-request'],
    [jidToSipUri('a@b@example.com'), 'jid-malformed', 400, 'jid-malformed'],
    [mapper.xmppUserToSip('eve@elsewhere.example'), 'domain-not-allowed', 404, 'forbidden'],
    [jidToSipUri('example.com'), 'not-a-user', 404, 'item-not-found'],
  ];
  for (const [result, kind, status, condition] of cases) {
    const error = errorOf(result, kind);
    assert.equal(error.sipStatus, status, kind);
    assert.equal(error.xmppCondition, condition, kind);
    assert.match(String(error), new RegExp(`^${kind}: .+`));
  }
});

test('uri-malformed: bad percent-encoding, invalid UTF-8, bad hosts and ports, raw characters', () => {
  const bad = [
    'sip:%zz@example.com',
    'sip:a%2@example.com',
    'sip:a%@example.com',
    'sip:%C3@example.com', // truncated sequence
    'sip:%C3%28@example.com', // invalid continuation
    'sip:%C0%AF@example.com', // overlong "/"
    'sip:%ED%A0%80@example.com', // encoded surrogate
    'sip:%FF@example.com',
    'sip:bob@example.com;gr=%E2%82', // gr not UTF-8
    'sip:bob@example.com;gr=a;gr=b',
    'sip:@example.com',
    'sip:a b@example.com',
    'sip:<a>@example.com',
    'sip:bob@exa_mple.com',
    'sip:bob@-example.com',
    'sip:bob@example..com',
    'sip:bob@xn--zz.example',
    'sip:bob@ex%41mple.com',
    'sip:bob@',
    'sip:bob@example.com:99999',
    'sip:bob@example.com:http',
    'sip:bob@[::1',
    'bob@example.com',
    'sip:' + 'a'.repeat(9000) + '@example.com',
  ];
  for (const uri of bad) errorOf(sipUriToJid(uri), 'uri-malformed', uri.slice(0, 40));
});

test('jid-malformed: what a JID cannot hold, from either side', () => {
  const badJids = [
    '@example.com', 'a@', 'a@example.com/', "o'hara@example.com", 'a b@example.com', 'a"b@example.com',
    'a:b@example.com', '\\20a@example.com', 'a\\20@example.com', 'a\u00a0b@example.com', 'a\u0001@example.com',
    'a@example.com/x\u0000', 'a@192.0.2.1', 'a@[2001:db8::1]', 'a@exa mple.com', '\ud800@example.com',
  ];
  for (const jid of badJids) errorOf(jidToSipUri(jid), 'jid-malformed', JSON.stringify(jid));
  // From SIP: what cannot become a JID localpart or resource.
  for (const uri of ['sip:%20bob@example.com', 'sip:bob%20@example.com', 'sip:a%00b@example.com', 'sip:a%C2%A0b@example.com',
    'sip:bob@example.com;gr=a%0Ab', 'sip:bob@192.0.2.1', 'sip:bob@[2001:db8::1]:5060']) {
    errorOf(sipUriToJid(uri), 'jid-malformed', uri);
  }
});

test('overlong parts: RFC 7622 §3.1 limits each JID part to 1023 octets, counted after escaping', () => {
  assert.ok(sipUriToJid(`sip:${'a'.repeat(1023)}@example.com`).ok);
  errorOf(sipUriToJid(`sip:${'a'.repeat(1024)}@example.com`), 'jid-malformed');
  assert.ok(sipUriToJid(`sip:${"'".repeat(341)}@example.com`).ok); // 341 × "\27" = 1023 octets
  errorOf(sipUriToJid(`sip:${"'".repeat(342)}@example.com`), 'jid-malformed');
  errorOf(sipUriToJid(`sip:${'%C3%BC'.repeat(512)}@example.com`), 'jid-malformed'); // 1024 octets of ü
  errorOf(sipUriToJid(`sip:bob@example.com;gr=${'x'.repeat(1024)}`), 'jid-malformed');
  assert.ok(jidToSipUri(`${'a'.repeat(1023)}@example.com/${'é'.repeat(511)}a`).ok);
  errorOf(jidToSipUri(`${'a'.repeat(1024)}@example.com`), 'jid-malformed');
  errorOf(jidToSipUri(`a@example.com/${'é'.repeat(512)}`), 'jid-malformed');
  const labels = ['a', 'b', 'c', 'd'].map((c) => c.repeat(62)).join('.'); // 251 octets
  assert.ok(jidToSipUri(`a@${labels}.c`).ok); // 253 octets, the DNS maximum
  errorOf(jidToSipUri(`a@${labels}.co`), 'jid-malformed');
  errorOf(jidToSipUri(`a@${'a'.repeat(64)}.com`), 'jid-malformed');
});

test('not-a-user and unsupported-scheme', () => {
  errorOf(sipUriToJid('sip:example.com'), 'not-a-user');
  errorOf(sipUriToJid('sip:example.com;transport=tcp'), 'not-a-user');
  errorOf(jidToSipUri('example.com/resource'), 'not-a-user');
  errorOf(jidToSipUri('a/b@c'), 'not-a-user'); // RFC 7622 §3.1: domain a, resource b@c
  for (const uri of ['tel:+1-201-555-0123', 'xmpp:juliet@example.com', 'http://example.com/', 'urn:uuid:x']) {
    errorOf(sipUriToJid(uri), 'unsupported-scheme', uri);
  }
});

test('nothing throws, whatever the input', () => {
  const inputs: unknown[] = [undefined, null, 42, {}, '', ':', '@', '/', 'sip:', 'sip:@', 'sip:a@', '\\', '\ud800', 'a@b/c'];
  for (const input of inputs) {
    const s = input as string;
    for (const f of [sipUriToJid, jidToSipUri, parseJid, parseSipUri, mapper.sipUserToJid.bind(mapper),
      mapper.jidToSipUser.bind(mapper), mapper.xmppUserToSip.bind(mapper), mapper.sipToXmppUser.bind(mapper)]) {
      const result = f(s);
      assert.equal(typeof result.ok, 'boolean');
    }
    assert.doesNotThrow(() => uriFromNameAddr(s));
    assert.doesNotThrow(() => mapper.isXmppUserSipDomain(s));
  }
});

// ---------------------------------------------------------------- IDN

test('IDN: JIDs carry U-labels, SIP URIs carry A-labels, both ways', () => {
  assert.equal(value(sipUriToJid('sip:bob@xn--mnchen-3ya.de')).full, 'bob@münchen.de');
  assert.equal(value(sipUriToJid('sip:bob@XN--MNCHEN-3YA.DE')).full, 'bob@münchen.de');
  assert.equal(value(jidToSipUri('bob@münchen.de/büro')), 'sip:bob@xn--mnchen-3ya.de;gr=b%C3%BCro');
  assert.equal(value(jidToSipUri('bob@xn--mnchen-3ya.de')), 'sip:bob@xn--mnchen-3ya.de');
  // Mode B through the mapper.
  assert.equal(value(mapper.sipUserToJid('sip:bob@xn--mnchen-3ya.de')).full, 'bob\\40münchen.de@sip.example.com');
  assert.equal(value(mapper.jidToSipUser('bob\\40münchen.de@sip.example.com')).aor, 'sip:bob@xn--mnchen-3ya.de');
  assert.equal(value(mapper.jidToSipUser('bob\\40xn--mnchen-3ya.de@sip.example.com')).aor, 'sip:bob@xn--mnchen-3ya.de');
  assert.deepEqual(normaliseDomain('München.DE.'), { ascii: 'xn--mnchen-3ya.de', unicode: 'münchen.de' });
  assert.equal(normaliseDomain('192.0.2.1'), 'ip');
  assert.equal(normaliseDomain('1.2.3'), 'ip');
  assert.equal(normaliseDomain('0x7f.1'), 'ip');
  assert.equal(normaliseDomain('ex%41mple.com'), 'invalid');
});

// ---------------------------------------------------------------- mapper

test('mapper: SIP users of the home domain appear directly under the component', () => {
  const jid = value(mapper.sipUserToJid('sip:bob@EXAMPLE.ORG;gr=x'));
  assert.deepEqual(jid, { bare: 'bob@sip.example.com', full: 'bob@sip.example.com/x', local: 'bob', domain: 'sip.example.com', resource: 'x' });
  const sip = value(mapper.jidToSipUser('bob@SIP.example.com/x'));
  assert.deepEqual(sip, { aor: 'sip:bob@example.org', uri: 'sip:bob@example.org;gr=x', user: 'bob', domain: 'example.org', gr: 'x' });
  assert.equal(value(mapper.sipUserToJid("sip:o'hara@example.org")).bare, 'o\\27hara@sip.example.com');
  assert.equal(value(mapper.jidToSipUser('o\\27hara@sip.example.com')).aor, "sip:o'hara@example.org");
  // SIP user parts are case-sensitive (RFC 3261 §19.1.4): kept as they are.
  assert.equal(value(mapper.jidToSipUser('Bob@sip.example.com')).aor, 'sip:Bob@example.org');
});

test('mapper: home users whose name holds "@" keep the explicit form; the \\40home alias of a plain user is refused', () => {
  const jid = value(mapper.sipUserToJid('sip:a%40b.net@example.org'));
  assert.equal(jid.bare, 'a\\40b.net\\40example.org@sip.example.com');
  assert.equal(value(mapper.jidToSipUser(jid.bare)).aor, 'sip:a%40b.net@example.org');
  // Without the explicit form "a\40b.net" would be user a at b.net.
  assert.equal(value(mapper.jidToSipUser('a\\40b.net@sip.example.com')).aor, 'sip:a@b.net');
  const error = errorOf(mapper.jidToSipUser('bob\\40example.org@sip.example.com'), 'not-a-user');
  assert.match(error.message, /bob@sip\.example\.com/);
});

test('mapper: SIP users of other domains use XEP-0106 mode B, unless policy forbids it', () => {
  assert.equal(value(mapper.sipUserToJid('sip:Romeo@Example.NET;gr=p1')).full, 'Romeo\\40example.net@sip.example.com/p1');
  assert.equal(value(mapper.jidToSipUser('Romeo\\40Example.NET@sip.example.com/p1')).uri, 'sip:Romeo@example.net;gr=p1');
  assert.equal(value(mapper.jidToSipUser('a\\40b\\40other.net@sip.example.com')).aor, 'sip:a%40b@other.net');
  errorOf(mapper.jidToSipUser('\\40other.net@sip.example.com'), 'jid-malformed');
  errorOf(mapper.jidToSipUser('bob\\40@sip.example.com'), 'jid-malformed');
  errorOf(mapper.jidToSipUser('bob\\40bad_domain@sip.example.com'), 'jid-malformed');
  errorOf(mapper.jidToSipUser('bob\\40192.0.2.1@sip.example.com'), 'domain-not-allowed');
  errorOf(mapper.sipUserToJid('sip:bob@192.0.2.1'), 'domain-not-allowed');

  const closed = new AddressMapper({ componentDomain: 'sip.example.com', homeSipDomain: 'example.org', xmppToSip: [], allowForeignSipDomains: false });
  assert.equal(value(closed.sipUserToJid('sip:bob@example.org')).bare, 'bob@sip.example.com');
  errorOf(closed.sipUserToJid('sip:romeo@example.net'), 'domain-not-allowed');
  errorOf(closed.jidToSipUser('romeo\\40example.net@sip.example.com'), 'domain-not-allowed');
  assert.equal(value(closed.jidToSipUser('a\\40b\\40example.org@sip.example.com')).aor, 'sip:a%40b@example.org');
});

test('mapper: XMPP users appear under their configured SIP domain, and only configured domains pass', () => {
  const sip = value(mapper.xmppUserToSip('alice@example.com/phone'));
  assert.deepEqual(sip, { aor: 'sip:alice@example.com', uri: 'sip:alice@example.com;gr=phone', user: 'alice', domain: 'example.com', gr: 'phone' });
  assert.equal(value(mapper.xmppUserToSip('carol@CHAT.example.net')).uri, 'sip:carol@voice.example.net');
  assert.equal(value(mapper.sipToXmppUser('sip:carol@Voice.Example.Net;gr=tab%201')).full, 'carol@chat.example.net/tab 1');
  assert.equal(value(mapper.sipToXmppUser('sip:alice@example.com;gr=phone')).full, 'alice@example.com/phone');
  errorOf(mapper.xmppUserToSip('eve@elsewhere.example'), 'domain-not-allowed');
  errorOf(mapper.xmppUserToSip('example.com'), 'not-a-user');
  errorOf(mapper.xmppUserToSip('bob@sip.example.com'), 'not-a-user');
  errorOf(mapper.sipToXmppUser('sip:x@unknown.example'), 'domain-not-allowed');
  errorOf(mapper.sipToXmppUser('sip:x@chat.example.net'), 'domain-not-allowed'); // the XMPP name, not the SIP one
  errorOf(mapper.sipToXmppUser('sip:x@192.0.2.1'), 'domain-not-allowed');
});

test('mapper: addresses of XMPP users are never treated as SIP users (no loops through the proxy)', () => {
  errorOf(mapper.sipUserToJid('sip:alice@example.com'), 'not-a-user');
  errorOf(mapper.sipUserToJid('sip:carol@voice.example.net'), 'not-a-user');
  errorOf(mapper.jidToSipUser('alice\\40example.com@sip.example.com'), 'not-a-user');
  errorOf(mapper.jidToSipUser('carol\\40voice.example.net@sip.example.com'), 'not-a-user');
  errorOf(mapper.jidToSipUser('sip.example.com'), 'not-a-user');
  errorOf(mapper.jidToSipUser('bob@example.com'), 'not-a-user');
  assert.equal(mapper.isXmppUserSipDomain('VOICE.example.net.'), true);
  assert.equal(mapper.isXmppUserSipDomain('example.com'), true);
  assert.equal(mapper.isXmppUserSipDomain('chat.example.net'), false);
  assert.equal(mapper.isXmppUserSipDomain('example.org'), false);
  assert.equal(mapper.isXmppUserSipDomain('not a domain'), false);
  assert.equal(mapper.componentDomain, 'sip.example.com');
});

test('mapper: inconsistent configuration is refused at construction', () => {
  const base = { componentDomain: 'sip.example.com', homeSipDomain: 'example.org' };
  assert.throws(() => new AddressMapper({ ...base, componentDomain: '192.0.2.1', xmppToSip: [] }), /componentDomain/);
  assert.throws(() => new AddressMapper({ ...base, xmppToSip: [{ xmpp: 'a.example', sip: 'x.example' }, { xmpp: 'A.example', sip: 'y.example' }] }), /listed twice/);
  assert.throws(() => new AddressMapper({ ...base, xmppToSip: [{ xmpp: 'a.example', sip: 'x.example' }, { xmpp: 'b.example', sip: 'X.example' }] }), /listed twice/);
  assert.throws(() => new AddressMapper({ ...base, xmppToSip: [{ xmpp: 'a.example', sip: 'example.org' }] }), /home SIP domain/);
  assert.throws(() => new AddressMapper({ ...base, xmppToSip: [{ xmpp: 'sip.example.com', sip: 'x.example' }] }), /component domain/);
  assert.throws(() => new AddressMapper({ ...base, xmppToSip: [{ xmpp: 'a.example', sip: 'bad domain' }] }), /not a domain name/);
});

// ---------------------------------------------------------------- round-trip properties


// Every character of the specs §1.2 table, space, escape look-alikes and non-ASCII up to the astral planes.
const LOCAL_POOL = [
  ...'aZ09', ...'!$&\'()*+,-./;=?_~', ...'"#%:<>@[\\]^`{|}', ' ',
  '\\27', '\\5c', '\\20', '\\2f', '\\40', '\\41', '\\2F', '\\3A', '\\5C', '%41', '%2',
  'ü', 'é', 'e\u0301', '\ufeff', 'ß', '中', 'ğ', '😀', '𝔘', '\u{10FFFD}',
];
const RESOURCE_POOL = [...LOCAL_POOL, '/', '@', ' '];

function randomString(rand: () => number, pool: readonly string[], maxTokens: number): string {
  let s = '';
  const n = 1 + Math.floor(rand() * maxTokens);
  for (let i = 0; i < n; i++) s += pool[Math.floor(rand() * pool.length)] ?? '';
  return s;
}

const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
const MARK = "-_.!~*'()";

/** Percent-encode the way various SIP agents might: unreserved characters either raw or encoded, hex of either case. */
function encodeLikeAPeer(rand: () => number, text: string, rawReserved: string): string {
  let out = '';
  for (const ch of text) {
    const unreserved = isAlnum(ch) || MARK.includes(ch);
    if (rawReserved.includes(ch) || (unreserved && rand() < 0.7)) {
      out += ch;
      continue;
    }
    for (const byte of new TextEncoder().encode(ch)) {
      const hex = byte.toString(16).padStart(2, '0');
      out += '%' + (rand() < 0.5 ? hex.toUpperCase() : hex.toLowerCase());
    }
  }
  return out;
}

/** RFC 3261 §19.1.4 comparison form, written independently of the module: %HH of unreserved decoded, other hex uppercased. */
function sipEquivalenceForm(encoded: string): string {
  return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return isAlnum(c) || MARK.includes(c) ? c : '%' + hex.toUpperCase();
  });
}

const SIP_USER_OUTPUT = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-F]{2})+$/; // RFC 3261 §25.1 user
const SIP_PARAM_OUTPUT = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-F]{2})+$/; // RFC 3261 §25.1 pvalue
const JID_LOCAL_FORBIDDEN = /["&'/:<>@ ]/; // specs §1.2 XMPP column, plus space
const USER_RESERVED_RAW = '&=+$,;?/';
const PARAM_RESERVED_RAW = '[]/:&+$';

function splitSip(uri: string): { user: string; domain: string; gr?: string } {
  const m = /^sip:([^@]+)@([^;]+)(?:;gr=(.*))?$/.exec(uri);
  assert.ok(m, `not a plain sip URI: ${uri}`);
  return { user: m[1] ?? '', domain: m[2] ?? '', ...(m[3] === undefined ? {} : { gr: m[3] }) };
}

const CASES = 2000;

test(`property: jid → sip → jid is the identity and every output uses allowed characters (${CASES} cases)`, () => {
  const rand = prng(0x5eed01);
  let edgeSpace = 0;
  for (let i = 0; i < CASES; i++) {
    const user = randomString(rand, LOCAL_POOL, 12);
    const local = xep0106Escape(user);
    assert.equal(xep0106Unescape(local), user, JSON.stringify(user));
    assert.ok(!JID_LOCAL_FORBIDDEN.test(local), local);
    const resource = rand() < 0.5 ? randomString(rand, RESOURCE_POOL, 6) : undefined;
    const jid = `${local}@xmpp.example${resource === undefined ? '' : '/' + resource}`;
    const sip = jidToSipUri(jid);
    if (user.startsWith(' ') || user.endsWith(' ')) {
      errorOf(sip, 'jid-malformed', jid); // XEP-0106 §3.2: \20 never first or last
      edgeSpace++;
      continue;
    }
    const uri = value(sip, jid);
    const parts = splitSip(uri);
    assert.match(parts.user, SIP_USER_OUTPUT, uri);
    assert.equal(parts.domain, 'xmpp.example');
    if (resource !== undefined) assert.match(parts.gr ?? '', SIP_PARAM_OUTPUT, uri);
    else assert.equal(parts.gr, undefined);
    assert.equal(value(sipUriToJid(uri), uri).full, jid);
  }
  assert.ok(edgeSpace > 0 && edgeSpace < CASES / 2, `space-edged cases: ${edgeSpace}`);
});

test(`property: sip → jid → sip is the identity up to RFC 3261 §19.1.4 equivalence (${CASES} cases)`, () => {
  const rand = prng(0x5eed02);
  for (let i = 0; i < CASES; i++) {
    let user = randomString(rand, LOCAL_POOL, 12);
    if (user.startsWith(' ')) user = 'x' + user;
    if (user.endsWith(' ')) user += 'x';
    const encUser = encodeLikeAPeer(rand, user, USER_RESERVED_RAW);
    const resource = rand() < 0.5 ? randomString(rand, RESOURCE_POOL, 6) : undefined;
    const encGr = resource === undefined ? undefined : encodeLikeAPeer(rand, resource, PARAM_RESERVED_RAW);
    const uri = `sip:${encUser}@Sip.Example${encGr === undefined ? '' : ';gr=' + encGr}${rand() < 0.3 ? ';transport=tcp' : ''}`;
    const jid = value(sipUriToJid(uri), uri);
    assert.ok(!JID_LOCAL_FORBIDDEN.test(jid.local), jid.local);
    assert.equal(xep0106Unescape(jid.local), user);
    assert.equal(jid.resource, resource);
    const back = splitSip(value(jidToSipUri(jid.full), jid.full));
    assert.equal(sipEquivalenceForm(back.user), sipEquivalenceForm(encUser), uri);
    assert.equal(back.domain, 'sip.example');
    assert.equal(back.gr === undefined ? undefined : sipEquivalenceForm(back.gr), encGr === undefined ? undefined : sipEquivalenceForm(encGr), uri);
    assert.equal(normaliseSipEscapes(back.user), sipEquivalenceForm(encUser));
  }
});

test(`property: the mapper round-trips SIP users (home and foreign) and XMPP users (${CASES} cases)`, () => {
  const rand = prng(0x5eed03);
  const sipDomains = ['example.org', 'other.net', 'xn--mnchen-3ya.de'];
  for (let i = 0; i < CASES; i++) {
    let user = randomString(rand, LOCAL_POOL, 10);
    if (user.startsWith(' ')) user = 'x' + user;
    if (user.endsWith(' ')) user += 'x';
    const encUser = encodeLikeAPeer(rand, user, USER_RESERVED_RAW);
    const domain = sipDomains[i % sipDomains.length] ?? '';
    const resource = rand() < 0.3 ? randomString(rand, RESOURCE_POOL, 4) : undefined;
    const gr = resource === undefined ? '' : `;gr=${encodeLikeAPeer(rand, resource, PARAM_RESERVED_RAW)}`;
    const uri = `sip:${encUser}@${domain}${gr}`;

    const jid = value(mapper.sipUserToJid(uri), uri);
    assert.equal(jid.domain, 'sip.example.com');
    assert.ok(!JID_LOCAL_FORBIDDEN.test(jid.local), jid.local);
    const sip = value(mapper.jidToSipUser(jid.full), jid.full);
    assert.equal(sip.domain, domain);
    assert.equal(sipEquivalenceForm(sip.user), sipEquivalenceForm(encUser), uri);
    assert.match(sip.user, SIP_USER_OUTPUT);
    assert.equal(value(mapper.sipUserToJid(sip.uri), sip.uri).full, jid.full);

    const xmppJid = `${xep0106Escape(user)}@chat.example.net${resource === undefined ? '' : '/' + resource}`;
    const xmppSip = value(mapper.xmppUserToSip(xmppJid), xmppJid);
    assert.equal(xmppSip.domain, 'voice.example.net');
    assert.equal(value(mapper.sipToXmppUser(xmppSip.uri), xmppSip.uri).full, xmppJid);
  }
});

test('property: random junk never throws and never yields a JID with forbidden characters', () => {
  const rand = prng(0x5eed04);
  const pool = [...LOCAL_POOL, '%', '%C3', '%ZZ', ';', ';gr', ';gr=', '?', ':', '[', ']', 'sip:', 'sips:', 'tel:', '<', '>', '\u0000', '\ud800', '.', 'xn--'];
  for (let i = 0; i < CASES; i++) {
    const junk = randomString(rand, pool, 16);
    for (const input of [junk, `sip:${junk}`, `sip:${junk}@example.org`, `sip:a@${junk}`, `${junk}@sip.example.com`]) {
      for (const result of [sipUriToJid(input), mapper.sipUserToJid(input), mapper.sipToXmppUser(input)]) {
        if (result.ok) assert.ok(!JID_LOCAL_FORBIDDEN.test(result.value.local), input);
      }
      for (const result of [jidToSipUri(input)]) {
        if (result.ok) assert.match(splitSip(result.value).user, SIP_USER_OUTPUT, input);
      }
      const sip = mapper.jidToSipUser(input);
      if (sip.ok) assert.match(sip.value.user, SIP_USER_OUTPUT, input);
    }
  }
});
