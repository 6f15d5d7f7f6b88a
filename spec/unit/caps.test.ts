import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  NS_CAPS, type CapsInfo, capsAttributes, capsProblem, capsVer, capsVerificationString, compareOctets,
} from '../../src/core/caps.js';

/** XEP-0115 §5.2 (vector G3); the features are given unsorted on purpose. */
const EXODUS: CapsInfo = {
  identities: [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }],
  features: [
    'http://jabber.org/protocol/muc',
    'http://jabber.org/protocol/disco#info',
    'http://jabber.org/protocol/caps',
    'http://jabber.org/protocol/disco#items',
  ],
};

/** XEP-0115 §5.3, with identities, fields and values given out of order. */
const PSI: CapsInfo = {
  identities: [
    { lang: 'en', category: 'client', name: 'Psi 0.11', type: 'pc' },
    { lang: 'el', category: 'client', name: 'Ψ 0.11', type: 'pc' },
  ],
  features: [
    'http://jabber.org/protocol/disco#items',
    'http://jabber.org/protocol/caps',
    'http://jabber.org/protocol/muc',
    'http://jabber.org/protocol/disco#info',
  ],
  forms: [{
    formType: 'urn:xmpp:dataforms:softwareinfo',
    fields: [
      { var: 'software_version', values: ['0.11'] },
      { var: 'os', values: ['Mac'] },
      { var: 'ip_version', values: ['ipv6', 'ipv4'] },
      { var: 'software', values: ['Psi'] },
      { var: 'os_version', values: ['10.5.1'] },
    ],
  }],
};

test('G3: XEP-0115 §5.2 simple example', () => {
  assert.equal(capsVerificationString(EXODUS),
    'client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<'
    + 'http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<');
  assert.equal(capsVer(EXODUS), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
});

test('XEP-0115 §5.3 complex example: languages and an XEP-0128 form', () => {
  assert.equal(capsVerificationString(PSI),
    'client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<'
    + 'http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<'
    + 'ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<');
  assert.equal(capsVer(PSI), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
});

test('identities sort by category, then type, then xml:lang; empty parts keep their slashes', () => {
  const s = capsVerificationString({
    identities: [
      { category: 'gateway', type: 'simple', name: 'SIP' },
      { category: 'client', type: 'phone' },
      { category: 'client', type: 'pc', lang: 'en' },
      { category: 'client', type: 'pc' },
    ],
    features: [],
  });
  assert.equal(s, 'client/pc//<client/pc/en/<client/phone//<gateway/simple//SIP<');
});

test('sorting is i;octet (UTF-8 bytes), not UTF-16 code units', () => {
  // U+FF01 is EF BC 81 in UTF-8 and sorts before U+1F600 (F0 9F 98 80); in UTF-16 the surrogate D83D sorts first.
  assert.ok(compareOctets('\uFF01', '\u{1F600}') < 0);
  assert.ok('\uFF01' > '\u{1F600}');
  assert.equal(capsVerificationString({ identities: [], features: ['\u{1F600}', '\uFF01', 'B', 'a'] }), 'B<a<\uFF01<\u{1F600}<');
  const hashed = createHash('sha1').update('B<a<\uFF01<\u{1F600}<', 'utf8').digest('base64');
  assert.equal(capsVer({ identities: [], features: ['a', '\uFF01', '\u{1F600}', 'B'] }), hashed);
});

test('forms sort by FORM_TYPE', () => {
  const s = capsVerificationString({
    identities: [{ category: 'client', type: 'pc' }],
    features: ['f'],
    forms: [
      { formType: 'urn:z', fields: [{ var: 'b', values: [] }, { var: 'a', values: ['2', '1'] }] },
      { formType: 'urn:a', fields: [] },
    ],
  });
  assert.equal(s, 'client/pc//<f<urn:a<urn:z<a<1<2<b<');
});

test('ill-formed input (XEP-0115 §5.4) is refused', () => {
  const bad: Array<[string, CapsInfo, RegExp]> = [
    ['duplicate identity', { identities: [{ category: 'client', type: 'pc' }, { category: 'client', type: 'pc' }], features: [] }, /duplicate identity/],
    ['duplicate feature', { identities: [], features: ['a', 'b', 'a'] }, /duplicate feature/],
    ['duplicate form', { identities: [], features: [], forms: [{ formType: 'x', fields: [] }, { formType: 'x', fields: [] }] }, /FORM_TYPE/],
    ['FORM_TYPE as a field', { identities: [], features: [], forms: [{ formType: 'x', fields: [{ var: 'FORM_TYPE', values: ['x'] }] }] }, /FORM_TYPE/],
    ['no type', { identities: [{ category: 'client', type: '' }], features: [] }, /category or type/],
  ];
  for (const [name, info, pattern] of bad) {
    assert.match(capsProblem(info) ?? '', pattern, name);
    assert.throws(() => capsVer(info), TypeError, name);
  }
  assert.equal(capsProblem(PSI), undefined);
  // Same category/type/lang with different names is not a duplicate.
  assert.equal(capsProblem({ identities: [{ category: 'client', type: 'pc', name: 'a' }, { category: 'client', type: 'pc', name: 'b' }], features: [] }), undefined);
});

test('other hashes and the <c/> attributes', () => {
  const s = capsVerificationString(EXODUS);
  assert.equal(capsVer(EXODUS, 'sha-256'), createHash('sha256').update(s, 'utf8').digest('base64'));
  assert.deepEqual(capsAttributes('https://example.org/gateway', EXODUS), {
    xmlns: NS_CAPS, hash: 'sha-1', node: 'https://example.org/gateway', ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=',
  });
  assert.equal(NS_CAPS, 'http://jabber.org/protocol/caps');
});

test('the input arrays are not reordered', () => {
  const features = ['b', 'a'];
  capsVer({ identities: [], features });
  assert.deepEqual(features, ['b', 'a']);
});
