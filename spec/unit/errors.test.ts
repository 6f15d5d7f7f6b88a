import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_REASON_LENGTH,
  XMPP_CONDITIONS,
  errorTypeFor,
  isXmppCondition,
  reasonPhrase,
  sanitizeText,
  sipStatusToXmppError,
  timeoutError,
  xmppErrorToSipStatus,
  type XmppCondition,
  type XmppErrorType,
} from '../../src/core/errors.js';

const FULL = { toFullJid: true } as const;
const BARE = { toFullJid: false } as const;

// ---------------------------------------------------------------------------
// Expected values, written out independently of the implementation.

// RFC 6120 §8.3.3 (first listed type where two are given; undefined-condition: cancel).
const EXPECTED_TYPES: Record<XmppCondition, XmppErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

// RFC 7247 §7.1 Table 2: [condition, status for a full JID, status for a bare JID].
const TABLE_2: ReadonlyArray<readonly [XmppCondition, number, number]> = [
  ['bad-request', 400, 400],
  ['conflict', 400, 400],
  ['feature-not-implemented', 405, 501], // note (1)
  ['forbidden', 403, 603], // note (2)
  ['gone', 410, 410], // note (3), no address
  ['internal-server-error', 500, 500],
  ['item-not-found', 404, 604], // note (2)
  ['jid-malformed', 400, 400],
  ['not-acceptable', 406, 606], // note (2)
  ['not-allowed', 403, 403],
  ['not-authorized', 401, 401],
  ['policy-violation', 403, 403],
  ['recipient-unavailable', 480, 600], // note (2)
  ['redirect', 302, 302],
  ['registration-required', 407, 407],
  ['remote-server-not-found', 404, 404], // note (4), resolvable
  ['remote-server-timeout', 408, 408],
  ['resource-constraint', 500, 500],
  ['service-unavailable', 405, 403], // note (5), documented choice
  ['subscription-required', 400, 400],
  ['undefined-condition', 400, 400],
  ['unexpected-request', 491, 491], // "491 or 400": 491 chosen
];

// RFC 7247 §7.2 Table 3.
const TABLE_3: ReadonlyArray<readonly [number, XmppCondition]> = [
  [300, 'redirect'],
  [301, 'gone'],
  [302, 'redirect'],
  [305, 'redirect'],
  [380, 'not-acceptable'],
  [400, 'bad-request'],
  [401, 'not-authorized'],
  [402, 'bad-request'],
  [403, 'forbidden'],
  [404, 'item-not-found'],
  [405, 'feature-not-implemented'],
  [406, 'not-acceptable'],
  [407, 'registration-required'],
  [408, 'remote-server-timeout'],
  [410, 'gone'],
  [413, 'policy-violation'],
  [414, 'policy-violation'],
  [415, 'not-acceptable'],
  [416, 'not-acceptable'],
  [420, 'feature-not-implemented'],
  [421, 'not-acceptable'],
  [423, 'resource-constraint'],
  [430, 'recipient-unavailable'],
  [439, 'feature-not-implemented'],
  [440, 'policy-violation'],
  [480, 'recipient-unavailable'],
  [481, 'item-not-found'],
  [482, 'not-acceptable'],
  [483, 'not-acceptable'],
  [484, 'item-not-found'],
  [485, 'item-not-found'],
  [486, 'recipient-unavailable'],
  [487, 'recipient-unavailable'],
  [488, 'not-acceptable'],
  [489, 'policy-violation'],
  [491, 'unexpected-request'],
  [493, 'bad-request'],
  [500, 'internal-server-error'],
  [501, 'feature-not-implemented'],
  [502, 'remote-server-not-found'],
  [503, 'internal-server-error'],
  [504, 'remote-server-timeout'],
  [505, 'not-acceptable'],
  [513, 'policy-violation'],
  [600, 'recipient-unavailable'],
  [603, 'recipient-unavailable'],
  [604, 'item-not-found'],
  [606, 'not-acceptable'],
];

// ---------------------------------------------------------------------------
// Conditions and types

test('XMPP_CONDITIONS lists the 22 RFC 6120 conditions once each; isXmppCondition agrees', () => {
  const expected = Object.keys(EXPECTED_TYPES).sort();
  assert.deepEqual([...XMPP_CONDITIONS].sort(), expected);
  assert.equal(new Set(XMPP_CONDITIONS).size, 22);
  for (const c of expected) assert.ok(isXmppCondition(c), c);
  for (const bad of ['payment-required', 'Bad-Request', 'bad-request ', '', 'text', 'gone/', 'constructor', 'toString']) {
    assert.equal(isXmppCondition(bad), false, bad);
  }
});

for (const [condition, type] of Object.entries(EXPECTED_TYPES) as Array<[XmppCondition, XmppErrorType]>) {
  test(`errorTypeFor(${condition}) is ${type} (RFC 6120 §8.3.3)`, () => {
    assert.equal(errorTypeFor(condition), type);
  });
}

// ---------------------------------------------------------------------------
// Table 2: XMPP → SIP

for (const [condition, full, bare] of TABLE_2) {
  test(`Table 2: <${condition}/> → ${full} (full JID), ${bare} (bare JID)`, () => {
    const f = xmppErrorToSipStatus({ condition }, FULL);
    const b = xmppErrorToSipStatus({ condition }, BARE);
    assert.deepEqual(f, { status: full, reason: reasonPhrase(full) });
    assert.deepEqual(b, { status: bare, reason: reasonPhrase(bare) });
    assert.notEqual(f.status, 503);
    assert.notEqual(b.status, 503);
  });
}

test('Table 2 note (1): feature-not-implemented → 405 for a full JID, 501 for a bare JID', () => {
  assert.equal(xmppErrorToSipStatus({ condition: 'feature-not-implemented' }, FULL).status, 405);
  assert.equal(xmppErrorToSipStatus({ condition: 'feature-not-implemented' }, BARE).status, 501);
});

test('Table 2 note (2): forbidden/item-not-found/not-acceptable/recipient-unavailable use 4xx for a full JID, 6xx for a bare JID', () => {
  for (const condition of ['forbidden', 'item-not-found', 'not-acceptable', 'recipient-unavailable']) {
    const f = xmppErrorToSipStatus({ condition }, FULL).status;
    const b = xmppErrorToSipStatus({ condition }, BARE).status;
    assert.equal(Math.floor(f / 100), 4, `${condition} full`);
    assert.equal(Math.floor(b / 100), 6, `${condition} bare`);
  }
});

test('Table 2 note (3): <gone/> with a new address MUST be 301 (address → Contact), without MUST be 410', () => {
  for (const opts of [FULL, BARE]) {
    assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone', target: 'sip:juliet@example.com' }, opts), {
      status: 301,
      reason: 'Moved Permanently',
      contact: 'sip:juliet@example.com',
    });
    assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone' }, opts), { status: 410, reason: 'Gone' });
    assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone', target: '' }, opts), { status: 410, reason: 'Gone' });
    assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone', target: '  \n ' }, opts), { status: 410, reason: 'Gone' });
  }
  // surrounding whitespace in the character data is not part of the address
  assert.equal(xmppErrorToSipStatus({ condition: 'gone', target: '\n  xmpp:a@b.example \n' }, FULL).contact, 'xmpp:a@b.example');
});

test('Table 2 note (3): a <gone/> address that could inject into a Contact header counts as no address (410)', () => {
  for (const target of ['sip:a@b\r\nVia: evil', 'sip:a@b>;x=<sip:c@d', 'sip:a b@c', '"x"', '*', 'sip:a@b\u0000']) {
    const r = xmppErrorToSipStatus({ condition: 'gone', target }, FULL);
    assert.equal(r.status, 410, JSON.stringify(target));
    assert.equal(r.contact, undefined);
  }
});

test('Table 2 note (4): remote-server-not-found → 404 when the server does not exist, 408 when unresolvable', () => {
  for (const toFullJid of [true, false]) {
    assert.equal(xmppErrorToSipStatus({ condition: 'remote-server-not-found' }, { toFullJid }).status, 404);
    assert.equal(xmppErrorToSipStatus({ condition: 'remote-server-not-found' }, { toFullJid, unresolvable: false }).status, 404);
    assert.equal(xmppErrorToSipStatus({ condition: 'remote-server-not-found' }, { toFullJid, unresolvable: true }).status, 408);
  }
});

test('Table 2 note (5): service-unavailable is never 503; 405 for a full JID, 403 for a bare JID', () => {
  assert.equal(xmppErrorToSipStatus({ condition: 'service-unavailable' }, FULL).status, 405);
  assert.equal(xmppErrorToSipStatus({ condition: 'service-unavailable' }, BARE).status, 403);
  // and no condition at all produces 503
  for (const condition of XMPP_CONDITIONS) {
    for (const opts of [FULL, BARE, { toFullJid: true, unresolvable: true }]) {
      assert.notEqual(xmppErrorToSipStatus({ condition, target: 'sip:x@y' }, opts).status, 503, condition);
    }
  }
});

test('Table 2: <redirect/> → 302, its address (when given) → Contact', () => {
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'redirect', target: 'xmpp:romeo@example.net' }, BARE), {
    status: 302,
    reason: 'Moved Temporarily',
    contact: 'xmpp:romeo@example.net',
  });
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'redirect' }, FULL), { status: 302, reason: 'Moved Temporarily' });
  assert.equal(xmppErrorToSipStatus({ condition: 'redirect', target: 'a\r\nb' }, FULL).contact, undefined);
});

test('Table 2: a target on a condition other than gone/redirect is ignored', () => {
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'item-not-found', target: 'sip:x@y' }, FULL), {
    status: 404,
    reason: 'Not Found',
  });
});

test('Table 2: unknown condition names are treated as undefined-condition (400)', () => {
  for (const condition of ['payment-required', 'Item-Not-Found', '', 'x', 'constructor', '__proto__']) {
    for (const opts of [FULL, BARE]) {
      assert.deepEqual(xmppErrorToSipStatus({ condition }, opts), { status: 400, reason: 'Bad Request' }, condition);
    }
  }
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'weird', text: 'because' }, FULL), { status: 400, reason: 'because' });
});

test('Table 2: <text/> becomes the reason phrase', () => {
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'item-not-found', text: 'No such user' }, BARE), {
    status: 604,
    reason: 'No such user',
  });
  assert.equal(xmppErrorToSipStatus({ condition: 'forbidden', text: 'Zákaz vstupu ☃' }, FULL).reason, 'Zákaz vstupu ☃');
  // an empty or whitespace-only text falls back to the standard phrase
  assert.equal(xmppErrorToSipStatus({ condition: 'forbidden', text: '' }, FULL).reason, 'Forbidden');
  assert.equal(xmppErrorToSipStatus({ condition: 'forbidden', text: ' \r\n\t ' }, FULL).reason, 'Forbidden');
});

// ---------------------------------------------------------------------------
// Reason-phrase sanitising

test('sanitising: CRLF injection in <text/> never reaches the SIP reason phrase', () => {
  const text = 'Nope\r\nVia: SIP/2.0/UDP evil.example\r\n\r\nINVITE sip:x@y SIP/2.0';
  const r = xmppErrorToSipStatus({ condition: 'forbidden', text }, FULL);
  assert.equal(r.status, 403);
  assert.doesNotMatch(r.reason, /[\r\n]/);
  assert.ok(r.reason.startsWith('Nope Via: SIP/2.0/UDP evil.example INVITE'), r.reason);
  // bare CR, bare LF, NEL, LS, PS as well
  for (const sep of ['\r', '\n', '\u0085', '\u2028', '\u2029', '\u000b', '\u000c']) {
    const reason = xmppErrorToSipStatus({ condition: 'forbidden', text: `a${sep}b` }, FULL).reason;
    assert.equal(reason, 'a b', JSON.stringify(sep));
  }
});

test('sanitising: control characters, DEL, C1 and lone surrogates are removed; whitespace collapses', () => {
  assert.equal(sanitizeText('  a\u0000b\u0007c\u007fd\u0080e\u009fg\th  '), 'a b c d e g h');
  assert.equal(sanitizeText('x\ud800y'), 'x y');
  assert.equal(sanitizeText('x\udfffy'), 'x y');
  assert.equal(sanitizeText('a    b'), 'a b');
  assert.equal(sanitizeText('😀 ok'), '😀 ok'); // a valid surrogate pair stays
  assert.equal(sanitizeText('\r\n'), '');
});

test(`sanitising: reason phrases are cut to ${MAX_REASON_LENGTH} code points without splitting characters`, () => {
  assert.equal(MAX_REASON_LENGTH, 100);
  const long = 'x'.repeat(500);
  assert.equal(xmppErrorToSipStatus({ condition: 'bad-request', text: long }, FULL).reason, 'x'.repeat(100));
  const emoji = '😀'.repeat(150);
  const cut = xmppErrorToSipStatus({ condition: 'bad-request', text: emoji }, FULL).reason;
  assert.equal(Array.from(cut).length, 100);
  assert.equal(cut, '😀'.repeat(100));
  // no trailing space after the cut
  assert.equal(sanitizeText(`${'a'.repeat(99)} bbbb`), 'a'.repeat(99));
  assert.equal(sanitizeText('abcdef', 3), 'abc');
  assert.equal(sanitizeText('a'.repeat(100)), 'a'.repeat(100));
});

test('sanitising: a SIP reason phrase with control characters is cleaned before becoming <text/>', () => {
  const e = sipStatusToXmppError(486, 'Busy\r\nX-Evil: 1\u0000');
  assert.equal(e.text, 'Busy X-Evil: 1');
  assert.equal(sipStatusToXmppError(486, ' \r\n ').text, undefined);
  assert.equal(sipStatusToXmppError(486, '').text, undefined);
  assert.equal(sipStatusToXmppError(486).text, undefined);
  assert.equal(sipStatusToXmppError(486, 'y'.repeat(300)).text, 'y'.repeat(100));
});

// ---------------------------------------------------------------------------
// Table 3: SIP → XMPP

for (const [status, condition] of TABLE_3) {
  test(`Table 3: ${status} → <${condition}/> (type ${EXPECTED_TYPES[condition]})`, () => {
    const e = sipStatusToXmppError(status, reasonPhrase(status));
    assert.equal(e.condition, condition);
    assert.equal(e.type, EXPECTED_TYPES[condition]);
    assert.equal(e.text, reasonPhrase(status));
    assert.equal(e.target, undefined);
    assert.deepEqual(sipStatusToXmppError(status), { condition, type: EXPECTED_TYPES[condition] });
  });
}

test('Table 3 note (1): 301 → <gone/> carrying the new address from the Contact; 410 → <gone/> without one', () => {
  assert.deepEqual(sipStatusToXmppError(301, 'Moved Permanently', '<sip:juliet@new.example>'), {
    condition: 'gone',
    type: 'cancel',
    text: 'Moved Permanently',
    target: 'sip:juliet@new.example',
  });
  assert.deepEqual(sipStatusToXmppError(410, 'Gone', '<sip:juliet@new.example>'), {
    condition: 'gone',
    type: 'cancel',
    text: 'Gone',
  });
  // a 301 with no usable Contact still says "gone", just without an address
  assert.deepEqual(sipStatusToXmppError(301), { condition: 'gone', type: 'cancel' });
  assert.deepEqual(sipStatusToXmppError(301, undefined, '<sip:a@b\r\nX: y>'), { condition: 'gone', type: 'cancel' });
});

test('Table 3 note (2): 402 → bad-request (payment-required no longer exists)', () => {
  assert.equal(sipStatusToXmppError(402).condition, 'bad-request');
  assert.equal(isXmppCondition('payment-required'), false);
});

test('Table 3 note (3): 403 → forbidden (type auth), the table default over not-allowed/policy-violation', () => {
  assert.deepEqual(sipStatusToXmppError(403), { condition: 'forbidden', type: 'auth' });
});

test('Table 3 note (4): 404 → item-not-found (not remote-server-not-found)', () => {
  assert.deepEqual(sipStatusToXmppError(404), { condition: 'item-not-found', type: 'cancel' });
});

test('Table 3 note (5): 408 → remote-server-timeout (not remote-server-not-found)', () => {
  assert.deepEqual(sipStatusToXmppError(408), { condition: 'remote-server-timeout', type: 'wait' });
});

test('Table 3 note (6): RFC 5626 codes 430 → recipient-unavailable, 439 → feature-not-implemented', () => {
  assert.equal(sipStatusToXmppError(430).condition, 'recipient-unavailable');
  assert.equal(sipStatusToXmppError(439).condition, 'feature-not-implemented');
});

test('Table 3 note (7): RFC 5393 code 440 → policy-violation', () => {
  assert.deepEqual(sipStatusToXmppError(440), { condition: 'policy-violation', type: 'modify' });
});

test('Table 3 note (8): RFC 6665 code 489 → policy-violation', () => {
  assert.deepEqual(sipStatusToXmppError(489), { condition: 'policy-violation', type: 'modify' });
});

test('Table 3 note (9): 503 → internal-server-error, never service-unavailable', () => {
  assert.deepEqual(sipStatusToXmppError(503), { condition: 'internal-server-error', type: 'cancel' });
  for (let s = 300; s <= 699; s++) {
    assert.notEqual(sipStatusToXmppError(s).condition, 'service-unavailable', String(s));
  }
});

test('Table 3: 300/302 → <redirect/> with the (first) Contact URI as the new address', () => {
  assert.deepEqual(sipStatusToXmppError(302, 'Moved Temporarily', '"Juliet" <sip:juliet@elsewhere.example;transport=tcp>;expires=60'), {
    condition: 'redirect',
    type: 'modify',
    text: 'Moved Temporarily',
    target: 'sip:juliet@elsewhere.example;transport=tcp',
  });
  assert.equal(sipStatusToXmppError(302, undefined, 'sip:j@e.example;expires=60').target, 'sip:j@e.example');
  assert.equal(sipStatusToXmppError(300, undefined, '<sip:a@x.example>, <sip:b@y.example>').target, 'sip:a@x.example');
  assert.equal(sipStatusToXmppError(300, undefined, 'sip:a@x.example, sip:b@y.example').target, 'sip:a@x.example');
  assert.equal(sipStatusToXmppError(302, undefined, '  <xmpp:juliet@example.com>  ').target, 'xmpp:juliet@example.com');
  // no or unusable Contact: a plain <redirect/>
  for (const contact of [undefined, '', '*', '<>', '<sip:a@b', 'sip:a b@c']) {
    assert.deepEqual(sipStatusToXmppError(302, undefined, contact), { condition: 'redirect', type: 'modify' }, String(contact));
  }
});

test('Table 3: 305 Use Proxy → <redirect/> without the proxy address; 380 and non-3xx ignore the Contact', () => {
  assert.deepEqual(sipStatusToXmppError(305, undefined, '<sip:proxy.example>'), { condition: 'redirect', type: 'modify' });
  assert.deepEqual(sipStatusToXmppError(380, undefined, '<sip:alt.example>'), { condition: 'not-acceptable', type: 'modify' });
  assert.deepEqual(sipStatusToXmppError(404, undefined, '<sip:x@y>'), { condition: 'item-not-found', type: 'cancel' });
});

// ---------------------------------------------------------------------------
// §7.2 fallbacks for unlisted codes

const FALLBACKS: ReadonlyArray<readonly [number, XmppCondition]> = [
  [303, 'redirect'],
  [350, 'redirect'],
  [399, 'redirect'],
  [409, 'bad-request'],
  [412, 'bad-request'],
  [422, 'bad-request'],
  [428, 'bad-request'],
  [429, 'bad-request'],
  [433, 'bad-request'],
  [470, 'bad-request'],
  [494, 'bad-request'],
  [499, 'bad-request'],
  [506, 'internal-server-error'],
  [555, 'internal-server-error'],
  [580, 'internal-server-error'],
  [599, 'internal-server-error'],
  [601, 'recipient-unavailable'],
  [607, 'recipient-unavailable'],
  [608, 'recipient-unavailable'],
  [699, 'recipient-unavailable'],
];

for (const [status, condition] of FALLBACKS) {
  test(`§7.2 fallback: unlisted ${status} → <${condition}/>`, () => {
    assert.deepEqual(sipStatusToXmppError(status), { condition, type: EXPECTED_TYPES[condition] });
  });
}

test('§7.2 fallback: an unlisted 3xx with a Contact → <redirect/> carrying it', () => {
  assert.deepEqual(sipStatusToXmppError(399, 'Elsewhere', '<sip:x@y.example>'), {
    condition: 'redirect',
    type: 'modify',
    text: 'Elsewhere',
    target: 'sip:x@y.example',
  });
});

test('every integer status 300..699 maps to a defined condition with its RFC 6120 type', () => {
  for (let s = 300; s <= 699; s++) {
    const e = sipStatusToXmppError(s);
    assert.ok(isXmppCondition(e.condition), String(s));
    assert.notEqual(e.condition, 'undefined-condition', String(s));
    assert.equal(e.type, EXPECTED_TYPES[e.condition], String(s));
  }
});

// ---------------------------------------------------------------------------
// Out-of-range input

test('out-of-range statuses (0, 1xx, 2xx, 700, NaN, fractions, ±Infinity) → undefined-condition, never throw', () => {
  for (const s of [0, -1, 100, 180, 200, 202, 299, 700, 999, Number.NaN, 404.5, Infinity, -Infinity, 1e21]) {
    assert.doesNotThrow(() => sipStatusToXmppError(s, 'whatever', '<sip:a@b>'));
    assert.deepEqual(sipStatusToXmppError(s), { condition: 'undefined-condition', type: 'cancel' }, String(s));
    assert.deepEqual(sipStatusToXmppError(s, 'OK\r\n', '<sip:a@b>'), {
      condition: 'undefined-condition',
      type: 'cancel',
      text: 'OK',
    });
  }
});

test('reasonPhrase never throws and names the class for unregistered codes', () => {
  assert.equal(reasonPhrase(399), 'Redirection');
  assert.equal(reasonPhrase(499), 'Request Failure');
  assert.equal(reasonPhrase(599), 'Server Failure');
  assert.equal(reasonPhrase(699), 'Global Failure');
  assert.equal(reasonPhrase(299), 'Successful');
  assert.equal(reasonPhrase(199), 'Early Dialog Terminated');
  assert.equal(reasonPhrase(101), 'Provisional');
  for (const s of [0, 99, 700, Number.NaN, 404.5, -404, Infinity]) assert.equal(reasonPhrase(s), 'Unknown', String(s));
});

// ---------------------------------------------------------------------------
// Reason phrases

test('reasonPhrase gives the registered phrase for every code either table uses', () => {
  const expected: Record<number, string> = {
    300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service',
    400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
    405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
    410: 'Gone', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
    416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
    430: 'Flow Failed', 439: 'First Hop Lacks Outbound Support', 440: 'Max-Breadth Exceeded',
    480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
    484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
    489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
    500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
    504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
    600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
  };
  for (const [code, phrase] of Object.entries(expected)) assert.equal(reasonPhrase(Number(code)), phrase, code);
  for (const [, full, bare] of TABLE_2) {
    assert.ok(expected[full] !== undefined && expected[bare] !== undefined);
  }
  for (const [status] of TABLE_3) assert.ok(expected[status] !== undefined, String(status));
  // a few from later RFCs
  assert.equal(reasonPhrase(200), 'OK');
  assert.equal(reasonPhrase(202), 'Accepted');
  assert.equal(reasonPhrase(422), 'Session Interval Too Small');
  assert.equal(reasonPhrase(494), 'Security Agreement Required');
  assert.equal(reasonPhrase(580), 'Precondition Failure');
});

// ---------------------------------------------------------------------------
// Message-flow helper

test('timeoutError: a transaction timeout is remote-server-timeout, type wait (the 408 row)', () => {
  assert.deepEqual(timeoutError(), { condition: 'remote-server-timeout', type: 'wait' });
  assert.deepEqual(timeoutError(), sipStatusToXmppError(408));
  // a fresh object each time, so callers may add text safely
  const a = timeoutError();
  a.text = 'changed';
  assert.equal(timeoutError().text, undefined);
});

// ---------------------------------------------------------------------------
// §10 B vectors

test('B1: <feature-not-implemented/> to a full JID ⇒ 405; to a bare JID ⇒ 501', () => {
  assert.equal(xmppErrorToSipStatus({ condition: 'feature-not-implemented' }, FULL).status, 405);
  assert.equal(xmppErrorToSipStatus({ condition: 'feature-not-implemented' }, BARE).status, 501);
});

test('B2: bare JID item-not-found/forbidden/not-acceptable/recipient-unavailable ⇒ 604/603/606/600; full JID ⇒ 404/403/406/480', () => {
  const conds = ['item-not-found', 'forbidden', 'not-acceptable', 'recipient-unavailable'];
  assert.deepEqual(conds.map((condition) => xmppErrorToSipStatus({ condition }, BARE).status), [604, 603, 606, 600]);
  assert.deepEqual(conds.map((condition) => xmppErrorToSipStatus({ condition }, FULL).status), [404, 403, 406, 480]);
});

test('B3: <gone>xmpp:romeo@example.org</gone> ⇒ 301 + Contact; <gone/> ⇒ 410; SIP 301 ⇒ <gone> with address; 410 ⇒ empty <gone/>, cancel', () => {
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone', target: 'xmpp:romeo@example.org' }, FULL), {
    status: 301,
    reason: 'Moved Permanently',
    contact: 'xmpp:romeo@example.org',
  });
  assert.deepEqual(xmppErrorToSipStatus({ condition: 'gone' }, FULL), { status: 410, reason: 'Gone' });
  const moved = sipStatusToXmppError(301, undefined, '<sip:romeo@example.org>');
  assert.equal(moved.condition, 'gone');
  assert.equal(moved.target, 'sip:romeo@example.org');
  assert.deepEqual(sipStatusToXmppError(410), { condition: 'gone', type: 'cancel' });
});

test('B4: <service-unavailable/> ⇒ 403 or 405, not 503; <remote-server-not-found/> ⇒ 404 (no such server) or 408 (unresolvable)', () => {
  for (const opts of [FULL, BARE]) {
    assert.ok([403, 405].includes(xmppErrorToSipStatus({ condition: 'service-unavailable' }, opts).status));
  }
  assert.equal(xmppErrorToSipStatus({ condition: 'remote-server-not-found' }, FULL).status, 404);
  assert.equal(xmppErrorToSipStatus({ condition: 'remote-server-not-found' }, { toFullJid: false, unresolvable: true }).status, 408);
});

test('B5: 486/503/488/489/491/604 and unlisted 399/499/599/699 map per Table 3 and the §7.2 fallbacks', () => {
  assert.deepEqual(sipStatusToXmppError(486), { condition: 'recipient-unavailable', type: 'wait' });
  assert.equal(sipStatusToXmppError(503).condition, 'internal-server-error');
  assert.equal(sipStatusToXmppError(488).condition, 'not-acceptable');
  assert.equal(sipStatusToXmppError(489).condition, 'policy-violation');
  assert.equal(sipStatusToXmppError(491).condition, 'unexpected-request');
  assert.equal(sipStatusToXmppError(604).condition, 'item-not-found');
  assert.equal(sipStatusToXmppError(399).condition, 'redirect');
  assert.equal(sipStatusToXmppError(499).condition, 'bad-request');
  assert.equal(sipStatusToXmppError(599).condition, 'internal-server-error');
  assert.equal(sipStatusToXmppError(699).condition, 'recipient-unavailable');
});
