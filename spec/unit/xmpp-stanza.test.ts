import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/component';
import { errorReply, parseJid } from '../../src/xmpp/stanza.js';
import { DiscoRegistry } from '../../src/xmpp/disco.js';

test('parseJid splits valid JIDs and refuses malformed ones', () => {
  assert.deepEqual(parseJid('Bob@SIP.example.com/phone'), {
    local: 'Bob', domain: 'sip.example.com', resource: 'phone', bare: 'Bob@sip.example.com', full: 'Bob@sip.example.com/phone',
  });
  assert.equal(parseJid('sip.example.com')?.local, '');
  assert.equal(parseJid('a@b/c/d')?.resource, 'c/d');
  for (const bad of [undefined, '', '@x', 'a@', 'a@b@c', 'a b@c', 'x/', 'a"b@c', 'a\u0000@b', `${'a'.repeat(1024)}@b`, 'a@b c', 'a@.b']) {
    assert.equal(parseJid(bad), null, String(bad));
  }
});

test('errorReply swaps addresses, keeps id and payload, and adds the condition', () => {
  const msg = xml('message', { from: 'alice@example.com/pc', to: 'bob@sip.example.com', id: 'm1', type: 'chat' }, xml('body', {}, 'hi'));
  const reply = errorReply(msg, 'cancel', 'service-unavailable', 'why');
  assert.equal(reply.attrs.type, 'error');
  assert.equal(reply.attrs.id, 'm1');
  assert.equal(reply.attrs.to, 'alice@example.com/pc');
  assert.equal(reply.attrs.from, 'bob@sip.example.com');
  assert.equal(reply.getChildText('body'), 'hi');
  const error = reply.getChild('error');
  assert.equal(error?.attrs.type, 'cancel');
  assert.ok(error?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
  assert.equal(error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas'), 'why');
});

test('disco#info: gateway/simple for the domain, a client identity for users, sorted features', () => {
  const d = new DiscoRegistry('sip.example.com', 'SIP gateway');
  d.addDomainFeature('urn:xmpp:ping');
  const info = d.info('sip.example.com', undefined);
  assert.equal(info.name, 'query');
  const id = info.getChild('identity');
  assert.deepEqual([id?.attrs.category, id?.attrs.type], ['gateway', 'simple']);
  const features = info.getChildren('feature').map((f) => f.attrs.var as string);
  assert.deepEqual(features, [...features].sort());
  assert.ok(features.includes('http://jabber.org/protocol/disco#info'));
  assert.ok(features.includes('urn:xmpp:ping'));
  const user = d.info('bob@sip.example.com/x', undefined);
  assert.equal(user.getChild('identity')?.attrs.category, 'client');
  assert.ok(!user.getChildren('feature').some((f) => f.attrs.var === 'urn:xmpp:ping'));
  assert.equal(d.info('sip.example.com', 'some-node').name, 'error');
  assert.equal(d.info('other.example', undefined).name, 'error');
  assert.equal(d.items('sip.example.com', undefined).children.length, 0);
});
