// Unit tests of the double's framing (drachtio-protocol.md A.1) and SIP text helpers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FrameDecoder, MAX_APP_FRAME_DIGITS, buildSipRequest, encodeFrame, parseSip, splitPayload, tagOf, uriOf,
} from '../support/drachtio-double/index.js';
import { FrameError } from '../support/drachtio-double/framing.js';
import { canonicalName, completeResponse, sofiaOrder } from '../support/drachtio-double/sofia.js';
import { SipHeaders } from '../support/drachtio-double/sip-text.js';

describe('framing (A.1)', () => {
  it('prefixes the UTF-8 byte length, not the string length', () => {
    const frame = encodeFrame('id|sip|héllo ✓');
    assert.equal(frame.toString('utf8'), '17#id|sip|héllo ✓'); // 14 characters, 17 bytes
  });

  it('reassembles frames split inside a multi-byte character and splits coalesced ones', () => {
    const d = new FrameDecoder(MAX_APP_FRAME_DIGITS);
    const bytes = Buffer.concat([encodeFrame('a|ping'), encodeFrame('b|héllo ✓'), encodeFrame('c|route|message')]);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...d.push(bytes.subarray(i, i + 3)));
    assert.deepEqual(out, ['a|ping', 'b|héllo ✓', 'c|route|message']);
  });

  it('accepts 99 999 bytes but rejects a 6-digit length like drachtio-server', () => {
    const d = new FrameDecoder(MAX_APP_FRAME_DIGITS);
    assert.equal(d.push(encodeFrame('x'.repeat(99_999))).length, 1);
    assert.throws(() => new FrameDecoder(MAX_APP_FRAME_DIGITS).push(Buffer.from('100000#')), FrameError);
    // detected as soon as the 6th digit arrives, before any '#'
    assert.throws(() => new FrameDecoder(MAX_APP_FRAME_DIGITS).push(Buffer.from('123456')), FrameError);
  });

  it('rejects garbage length prefixes', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from('abc#')), FrameError);
    assert.throws(() => new FrameDecoder().push(Buffer.from('#x')), FrameError);
  });

  it('splits the leader at the first CR like srf', () => {
    const p = splitPayload('id|sip|network||\r\nMESSAGE sip:a SIP/2.0\r\n\r\n');
    assert.deepEqual(p.tokens, ['id', 'sip', 'network', '', '']);
    assert.equal(p.body, 'MESSAGE sip:a SIP/2.0\r\n\r\n');
  });
});

describe('SIP text helpers', () => {
  it('buildSipRequest counts Content-Length in bytes and adds a From tag', () => {
    const raw = buildSipRequest({
      method: 'MESSAGE', uri: 'sip:bob@127.0.0.1:5080', from: '"Alice" <sip:alice@127.0.0.1:5070>',
      to: '<sip:bob@127.0.0.1:5080>', callId: 'c1', cseq: 7, body: 'héllo ✓',
    });
    const m = parseSip(raw);
    assert.equal(m.get('content-length'), '10');
    assert.equal(m.body, 'héllo ✓');
    assert.equal(m.get('cseq'), '7 MESSAGE');
    assert.ok(tagOf(m.get('from')));
    assert.equal(m.get('content-type'), 'text/plain;charset=UTF-8');
    assert.match(m.get('via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:5070;branch=z9hG4bK/);
  });

  it('looks headers up case-insensitively and by compact form', () => {
    const m = parseSip('MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: x\r\ncseq: 1 MESSAGE\r\n'
      + 'Content-Length:    3\r\n\r\nabcdef');
    assert.equal(m.get('Via'), 'SIP/2.0/UDP h;branch=z9hG4bK1');
    assert.equal(m.headers.get('call-id'), 'x');
    assert.equal(m.get('CSeq'), '1 MESSAGE');
    assert.equal(m.body, 'abc');
    assert.equal(uriOf('"A" <sip:a@b;transport=tcp>;tag=1'), 'sip:a@b;transport=tcp');
  });

  it('canonicalises and orders headers like sofia (A.6)', () => {
    assert.equal(canonicalName('cseq'), 'CSeq');
    assert.equal(canonicalName('www-authenticate'), 'WWW-Authenticate');
    assert.equal(canonicalName('X-Gw'), 'X-Gw');
    assert.equal(canonicalName('foo-bar'), 'Foo-Bar');
    const h = sofiaOrder(new SipHeaders([['X-Gw', '1'], ['Event', 'e'], ['Accept', 'a'], ['Expires', '1'], ['Contact', 'c']]));
    assert.deepEqual(h.names(), ['Contact', 'Expires', 'Accept', 'Event', 'X-Gw']);
  });

  it('completes a response: Via copied, To-tag added, Content-Length recomputed', () => {
    const req = parseSip(buildSipRequest({
      method: 'MESSAGE', uri: 'sip:b@127.0.0.1', from: '<sip:a@127.0.0.1>;tag=1', to: '<sip:b@127.0.0.1>', body: 'x',
    }));
    const app = parseSip('SIP/2.0 200 OK\r\ncseq: 1 MESSAGE\r\nVia: bogus\r\nContent-Length: 99\r\nContent-Type: text/plain\r\n\r\nhé');
    const res = completeResponse({
      request: req, status: 200, reason: 'OK', app, toTag: 'T1', local: { address: '127.0.0.1', port: 5080 }, transport: 'udp',
    });
    assert.equal(res.get('via'), req.get('via'));
    assert.equal(res.get('to'), '<sip:b@127.0.0.1>;tag=T1');
    assert.equal(res.get('content-length'), '3');
    assert.deepEqual(res.headers.names(), ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Type', 'Content-Length']);
  });
});
