import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answererRole, buildMsrpSdp, offererRole, parseMsrpSdp, parseMsrpUri, type MsrpUri } from '../../src/msrp/index.js';
import { error, value } from '../support/result.js';

const uri = (s: string): MsrpUri => value(parseMsrpUri(s));
const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

describe('MSRP SDP building (RFC 4975 §8)', () => {
  test('an offer in the shape of RFC 7573 Ex.2 / digest E1, with the RFC 4566 session lines', () => {
    const text = buildMsrpSdp({ path: [uri('msrp://x2s.example.com:7654/jshA7weztas;tcp')], acceptTypes: ['text/plain'], sessionId: '2890844526' });
    assert.equal(text, sdp('v=0', 'o=- 2890844526 2890844526 IN IP4 x2s.example.com', 's=-', 'c=IN IP4 x2s.example.com', 't=0 0',
      'm=message 7654 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://x2s.example.com:7654/jshA7weztas;tcp'));
  });

  test('msrps gives TCP/TLS/MSRP; IPv6 gives IP6; optional attributes (digest F1 types, max-size, setup, direction)', () => {
    const text = buildMsrpSdp({
      path: [uri('msrps://[2001:db8::5]:2855/abcd;tcp')], acceptTypes: ['message/cpim'], acceptWrappedTypes: ['text/plain', 'text/html'],
      maxSize: 65536, setup: 'actpass', direction: 'sendrecv', username: 'gw', sessionId: '1', sessionVersion: '2',
    });
    assert.equal(text, sdp('v=0', 'o=gw 1 2 IN IP6 2001:db8::5', 's=-', 'c=IN IP6 2001:db8::5', 't=0 0', 'm=message 2855 TCP/TLS/MSRP *',
      'a=accept-types:message/cpim', 'a=accept-wrapped-types:text/plain text/html', 'a=max-size:65536',
      'a=path:msrps://[2001:db8::5]:2855/abcd;tcp', 'a=setup:actpass', 'a=sendrecv'));
  });

  test('the c= host and m= port come from our URI, the last of the path (§8.1, §8.2)', () => {
    const text = buildMsrpSdp({ path: [uri('msrp://relay.example:2855;tcp'), uri('msrp://me.example:7000/s1s1;tcp')], acceptTypes: ['*'] });
    assert.match(text, /\r\nc=IN IP4 me\.example\r\n/);
    assert.match(text, /\r\nm=message 7000 TCP\/MSRP \*\r\n/);
    assert.match(text, /\r\na=path:msrp:\/\/relay\.example:2855;tcp msrp:\/\/me\.example:7000\/s1s1;tcp\r\n/);
    assert.match(text, /\r\na=accept-types:\*\r\n/);
  });

  test('unsafe input is refused with a TypeError', () => {
    const path = [uri('msrp://h.example:1/abcd;tcp')];
    assert.throws(() => buildMsrpSdp({ path, acceptTypes: [] }), TypeError);
    assert.throws(() => buildMsrpSdp({ path, acceptTypes: ['text/plain\r\na=evil'] }), TypeError);
    assert.throws(() => buildMsrpSdp({ path, acceptTypes: ['textplain'] }), TypeError);
    assert.throws(() => buildMsrpSdp({ path: [uri('msrp://h.example/abcd;tcp')], acceptTypes: ['*'] }), /port/);
    assert.throws(() => buildMsrpSdp({ path: [], acceptTypes: ['*'] }), TypeError);
    assert.throws(() => buildMsrpSdp({ path, acceptTypes: ['*'], maxSize: -1 }), TypeError);
    assert.throws(() => buildMsrpSdp({ path, acceptTypes: ['*'], username: 'a b' }), TypeError);
    assert.doesNotThrow(() => buildMsrpSdp({ path, acceptTypes: ['text/plain;charset=utf-8', 'text/*', 'application/x;a="b c"'] }));
  });
});

describe('MSRP SDP reading', () => {
  test('RFC 4975 Figure 7', () => {
    const m = value(parseMsrpSdp(sdp('v=0', 'o=alice 2890844526 2890844527 IN IP4 alice.example.com', 's= -', 'c=IN IP4 alice.example.com',
      't=0 0', 'm=message 7394 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp')));
    assert.deepEqual(m, {
      port: 7394, transport: 'TCP/MSRP', path: [uri('msrp://alice.example.com:7394/2s93i9ek2a;tcp')], acceptTypes: ['text/plain'],
      acceptWrappedTypes: [], connectionAddress: 'alice.example.com',
    });
  });

  test('RFC 4975 Figures 9/10 and §11.1', () => {
    const a = value(parseMsrpSdp(sdp('v=0', 'o=usera 2890844526 2890844527 IN IP4 alice.example.com', 's= -', 'c=IN IP4 alice.example.com', 't=0 0',
      'm=message 7394 TCP/MSRP *', 'a=accept-types:message/cpim text/plain text/html', 'a=path:msrp://alice.example.com:7394/2s93i93idj;tcp')));
    assert.deepEqual(a.acceptTypes, ['message/cpim', 'text/plain', 'text/html']);
    const b = value(parseMsrpSdp(sdp('v=0', 'o=userb 2890844530 2890844532 IN IP4 bob.example.com', 's= -', 'c=IN IP4 bob.example.com', 't=0 0',
      'm=message 8493 TCP/MSRP *', 'a=accept-types:message/cpim text/plain', 'a=path:msrp://bob.example.com:8493/si438dsaodes;tcp')));
    assert.equal(b.path[0]?.sessionId, 'si438dsaodes');
    const alice = value(parseMsrpSdp(sdp('v=0', 'o=alice 2890844557 2890844559 IN IP4 alicepc.example.com', 's= -', 'c=IN IP4 alicepc.example.com',
      't=0 0', 'm=message 7777 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp')));
    assert.equal(alice.port, 7777);
  });

  test('RFC 4975 Figure 19 (TLS, fingerprint attribute ignored) and RFC 7573 Ex.3 (no session lines)', () => {
    const tls = value(parseMsrpSdp(sdp('c=IN IP4 atlanta.example.com', 'm=message 7654 TCP/TLS/MSRP *', 'a=accept-types:text/plain',
      'a=path:msrps://atlanta.example.com:7654/jshA7weso3ks;tcp', 'a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB')));
    assert.equal(tls.transport, 'TCP/TLS/MSRP');
    assert.equal(tls.path[0]?.scheme, 'msrps');
    const ex3 = value(parseMsrpSdp(sdp('c=IN IP4 s2x.example.net', 'm=message 12763 TCP/MSRP *', 'a=accept-types:text/plain',
      'a=path:msrp://s2x.example.net:12763/kjhd37s2s20w2a;tcp')));
    assert.equal(ex3.path[0]?.host, 's2x.example.net');
  });

  test('a=setup (RFC 6135), max-size, wrapped types, direction; holdconn is ignored; LF line ends are read', () => {
    const m = value(parseMsrpSdp(['v=0', 'c=IN IP4 h.example', 'm=message 9 TCP/MSRP *', 'a=accept-types:message/cpim',
      'a=accept-wrapped-types:text/plain text/html', 'a=max-size:10000', 'a=setup:active', 'a=sendonly', 'a=path:msrp://h.example:2855/ab12;tcp', ''].join('\n')));
    assert.equal(m.setup, 'active');
    assert.equal(m.maxSize, 10000);
    assert.deepEqual(m.acceptWrappedTypes, ['text/plain', 'text/html']);
    assert.equal(m.direction, 'sendonly');
    const hold = value(parseMsrpSdp(sdp('m=message 9 TCP/MSRP *', 'a=accept-types:*', 'a=setup:holdconn', 'a=path:msrp://h.example:2855/ab12;tcp')));
    assert.equal(hold.setup, undefined);
  });

  test('only the first MSRP stream is read; other streams\' attributes and c= lines do not leak in', () => {
    const m = value(parseMsrpSdp(sdp('v=0', 'c=IN IP4 session.example', 'm=audio 4000 RTP/AVP 0', 'c=IN IP4 audio.example', 'a=path:msrp://wrong.example:1/x1x1;tcp',
      'a=setup:passive', 'm=message 7000 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://right.example:7000/r1r1;tcp',
      'm=message 7001 TCP/MSRP *', 'a=accept-types:text/html', 'a=path:msrp://second.example:7001/s1s1;tcp')));
    assert.equal(m.path[0]?.host, 'right.example');
    assert.equal(m.setup, undefined);
    assert.deepEqual(m.acceptTypes, ['text/plain']);
    assert.equal(m.connectionAddress, 'session.example');
  });

  test('a rejected stream (port 0) may have no attributes', () => {
    const m = value(parseMsrpSdp(sdp('v=0', 'm=message 0 TCP/MSRP *')));
    assert.equal(m.port, 0);
    assert.deepEqual(m.path, []);
  });

  test('SDPs without a usable MSRP m=message line are errors, never exceptions', () => {
    const ok = ['a=accept-types:text/plain', 'a=path:msrp://h.example:1/abcd;tcp'];
    error(parseMsrpSdp(sdp('v=0', 'm=audio 4000 RTP/AVP 0')), /no MSRP m=message/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 RTP/AVP 0', ...ok)), /no MSRP m=message/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP text/plain', ...ok)), /format list/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 70000 TCP/MSRP *', ...ok)), /port/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', 'a=accept-types:text/plain')), /a=path/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', 'a=path:msrp://h.example:1/abcd;tcp')), /accept-types/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', 'a=accept-types:*', 'a=path:msrp://h.example/abcd;tcp')), /port/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', 'a=accept-types:*', 'a=path:http://h.example:1/abcd')), /a=path/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', ...ok, 'a=max-size:-1')), /max-size/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', ...ok, 'a=max-size:99999999999999999999')), /max-size/);
    error(parseMsrpSdp(sdp('v=0', 'm=message 4000 TCP/MSRP *', ...ok, 'a=setup:sideways')), /setup/);
    error(parseMsrpSdp(sdp('v=1', 'm=message 4000 TCP/MSRP *', ...ok)), /v=0/);
    error(parseMsrpSdp(sdp('o=- 1 1 IN IP4 h', 'v=0', 'm=message 4000 TCP/MSRP *', ...ok)), /v=0/);
    error(parseMsrpSdp(sdp('v=0', 'garbage', 'm=message 4000 TCP/MSRP *', ...ok)), /malformed SDP line/);
    error(parseMsrpSdp(sdp('v=0', 'c=IN', 'm=message 4000 TCP/MSRP *', ...ok)), /c= line/);
    error(parseMsrpSdp(''), /no MSRP/);
    error(parseMsrpSdp('x'.repeat(70_000)), /too large/);
    error(parseMsrpSdp(42 as unknown as string), /not a string/);
  });

  test('build → read round trip', () => {
    const path = [uri('msrp://gw.example.com:2855/Zm9vYmFy;tcp')];
    const m = value(parseMsrpSdp(buildMsrpSdp({ path, acceptTypes: ['text/plain', 'application/im-iscomposing+xml'], maxSize: 10000, setup: 'passive' })));
    assert.deepEqual(m.path, path);
    assert.deepEqual(m.acceptTypes, ['text/plain', 'application/im-iscomposing+xml']);
    assert.equal(m.maxSize, 10000);
    assert.equal(m.setup, 'passive');
    assert.equal(m.transport, 'TCP/MSRP');
  });
});

describe('connection roles (RFC 4975 §5.4, RFC 6135 §4.2)', () => {
  test('as answerer', () => {
    assert.equal(answererRole(undefined), 'passive'); // RFC 4975: the offerer is active
    assert.equal(answererRole('active'), 'passive');
    assert.equal(answererRole('passive'), 'active');
    assert.equal(answererRole('actpass'), 'passive');
    assert.equal(answererRole('actpass', 'active'), 'active');
  });
  test('as offerer', () => {
    assert.equal(offererRole(undefined), 'active'); // RFC 4975: the offerer is active
    assert.equal(offererRole('passive'), 'active');
    assert.equal(offererRole('active'), 'passive');
  });
});
