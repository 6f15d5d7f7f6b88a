import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorityKey, formatMsrpPath, formatMsrpUri, msrpUriEquals, parseMsrpPath, parseMsrpUri, type MsrpUri } from '../../src/msrp/index.js';
import { error, value } from '../support/result.js';

const uri = (s: string): MsrpUri => value(parseMsrpUri(s));

describe('MSRP URI parsing (RFC 4975 §6, §9)', () => {
  test('the §6 example', () => {
    const u = uri('msrp://host.example.com:8493/asfd34;tcp');
    assert.deepEqual(u, { scheme: 'msrp', host: 'host.example.com', hostType: 'name', port: 8493, sessionId: 'asfd34', transport: 'tcp', params: [] });
    assert.equal(formatMsrpUri(u), 'msrp://host.example.com:8493/asfd34;tcp');
  });

  test('every URI of the RFC 4975 and RFC 7573 examples round-trips', () => {
    for (const s of [
      'msrp://atlanta.example.com:7654/jshA7weztas;tcp',
      'msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp',
      'msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
      'msrp://bob.example.com:8888/9di4eae923wzd;tcp',
      'msrps://atlanta.example.com:7654/jshA7weso3ks;tcp',
      'msrp://x2s.example.com:7654/jshA7weztas;tcp',
      'msrp://s2x.example.net:12763/kjhd37s2s20w2a;tcp',
      'msrp://x2s.example.com:8763/lkjh37s2s20w2a;tcp',
    ]) assert.equal(formatMsrpUri(uri(s)), s);
  });

  test('IPv4, IPv6, userinfo, parameters, no session-id', () => {
    const v4 = uri('msrp://192.0.2.1:2855/abc;tcp');
    assert.equal(v4.hostType, 'ipv4');
    const v6 = uri('msrps://[2001:db8::1]:2855/s+e=s/s;tcp;foo=bar;baz');
    assert.equal(v6.hostType, 'ipv6');
    assert.equal(v6.host, '2001:db8::1');
    assert.equal(v6.sessionId, 's+e=s/s');
    assert.deepEqual(v6.params, [{ name: 'foo', value: 'bar' }, { name: 'baz' }]);
    assert.equal(formatMsrpUri(v6), 'msrps://[2001:db8::1]:2855/s+e=s/s;tcp;foo=bar;baz');
    const user = uri('msrp://bob%20x;y@relay.example:2855;tcp');
    assert.equal(user.userinfo, 'bob%20x;y');
    assert.equal(user.sessionId, undefined);
    assert.equal(uri('MSRP://Host.Example.COM:1/x;TCP').scheme, 'msrp');
  });

  test('malformed URIs give an error value, never an exception', () => {
    const bad: Array<[string, RegExp]> = [
      ['http://host:1/x;tcp', /scheme/],
      ['msrp:host:1/x;tcp', /:\/\//],
      ['msrp://host:1/x', /transport/],
      ['msrp://host:1/x;', /transport/],
      ['msrp://host:1/x;t-c-p', /transport/],
      ['msrp://192.0.2.1/x;tcp', /port/],
      ['msrp://[2001:db8::1]/x;tcp', /port/],
      ['msrp://host:65536/x;tcp', /port/],
      ['msrp://host:-1/x;tcp', /port/],
      ['msrp://host:/x;tcp', /port/],
      ['msrp://host:99999999999999999999/x;tcp', /port/],
      ['msrp://user:secret@host:1/x;tcp', /password/],
      ['msrp://@host:1/x;tcp', /userinfo/],
      ['msrp://host:1/a b;tcp', /session-id/],
      ['msrp://host:1/;tcp', /session-id/],
      ['msrp://host:1/x@y;tcp', /userinfo|session-id/],
      ['msrp://ho_st..example:1/x;tcp', /host/],
      ['msrp://999.1.1.1:1/x;tcp', /IPv4/],
      ['msrp://[::1%eth0]:1/x;tcp', /IPv6/],
      ['msrp://[nothex]:1/x;tcp', /IPv6/],
      ['msrp://[::1:1/x;tcp', /IPv6|port/],
      ['msrp://host:1/x;tcp;a=b c', /parameter/],
      ['msrp://host:1/x;tcp;=b', /parameter/],
      ['msrp://:1/x;tcp', /host/],
      [`msrp://${'a'.repeat(2000)}:1/x;tcp`, /too long/],
    ];
    for (const [s, re] of bad) error(parseMsrpUri(s), re);
    // Not even a string.
    error(parseMsrpUri(undefined as unknown as string));
  });
});

describe('MSRP URI comparison (RFC 4975 §6.1)', () => {
  const eq = (a: string, b: string): boolean => msrpUriEquals(uri(a), uri(b));

  test('scheme and host are case-insensitive, transport too', () => {
    assert.ok(eq('msrp://Host.Example.com:1/abc;tcp', 'MSRP://host.example.COM:1/abc;TCP'));
  });
  test('session-id is case-sensitive and must be present in both or neither', () => {
    assert.ok(!eq('msrp://h:1/abc;tcp', 'msrp://h:1/ABC;tcp'));
    assert.ok(!eq('msrp://h:1/abc;tcp', 'msrp://h:1;tcp'));
    assert.ok(eq('msrp://h:1;tcp', 'msrp://h:1;tcp'));
  });
  test('an explicit port never equals an absent one, and ports match exactly', () => {
    assert.ok(!eq('msrp://h:2855/a;tcp', 'msrp://h/a;tcp'));
    assert.ok(!eq('msrp://h:2855/a;tcp', 'msrp://h:2856/a;tcp'));
  });
  test('scheme must match; userinfo and other parameters are not compared', () => {
    assert.ok(!eq('msrp://h:1/a;tcp', 'msrps://h:1/a;tcp'));
    assert.ok(eq('msrp://u@h:1/a;tcp;x=1', 'msrp://h:1/a;tcp'));
    assert.ok(!eq('msrp://h:1/a;tcp', 'msrp://h:1/a;sctp'));
  });
  test('IP addresses are compared as addresses', () => {
    assert.ok(eq('msrp://[2001:DB8:0:0::1]:1/a;tcp', 'msrp://[2001:db8::1]:1/a;tcp'));
    assert.ok(!eq('msrp://192.0.2.1:1/a;tcp', 'msrp://192.0.2.2:1/a;tcp'));
  });
  test('authorityKey: same scheme, host and port share a connection (§5.4)', () => {
    assert.equal(authorityKey(uri('msrp://H.example:1/a;tcp')), authorityKey(uri('msrp://h.example:1/b;tcp')));
    assert.notEqual(authorityKey(uri('msrp://h:1/a;tcp')), authorityKey(uri('msrps://h:1/a;tcp')));
    assert.notEqual(authorityKey(uri('msrp://h:1/a;tcp')), authorityKey(uri('msrp://h:2/a;tcp')));
  });
});

describe('MSRP paths (To-Path, From-Path, a=path)', () => {
  test('space-separated lists', () => {
    const p = value(parseMsrpPath('msrp://relay.example:2855;tcp msrp://bob.example:8888/9di4eae923wzd;tcp'));
    assert.equal(p.length, 2);
    assert.equal(formatMsrpPath(p), 'msrp://relay.example:2855;tcp msrp://bob.example:8888/9di4eae923wzd;tcp');
  });
  test('empty entries, empty lists and overly long lists are refused', () => {
    error(parseMsrpPath(''), /empty/);
    error(parseMsrpPath('msrp://a:1/x;tcp  msrp://b:1/y;tcp'), /empty URI/);
    error(parseMsrpPath(' msrp://a:1/x;tcp'), /empty URI/);
    error(parseMsrpPath(Array(17).fill('msrp://a:1/x;tcp').join(' ')), /more than/);
  });
});
