import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JABBER_CLIENT_NS, PIDF_NS, RPID_NS, buildPidf, formatPidfPriority, isNcName, parsePidf,
} from '../../src/sip/bodies/pidf.js';
import { type Result, type XmlElement, parseXml } from '../../src/sip/bodies/index.js';
import { RPID_ACTIVITIES, type PresenceDoc, type PresenceTuple } from '../../src/core/presence/model.js';
import { error, value } from '../support/result.js';


function find(el: XmlElement, ns: string, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (e.ns === ns && e.name === name) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

// ---------------------------------------------------------------------------
// Fixtures transcribed from the RFCs.

/** RFC 8048 Example 4 (the NOTIFY body). */
const RFC8048_EX4 = `<?xml version='1.0' encoding='UTF-8'?>
<presence xmlns='urn:ietf:params:xml:ns:pidf'
          entity='pres:romeo@example.net'>
  <tuple id='ID-dr4hcr0st3lup4c'>
    <status>
      <basic>open</basic>
      <show xmlns='jabber:client'>away</show>
    </status>
  </tuple>
</presence>`;

/** RFC 8048 Example 20. */
const RFC8048_EX20 = `<?xml version='1.0' encoding='UTF-8'?>
<presence xmlns='urn:ietf:params:xml:ns:pidf'
          entity='pres:romeo@example.net'>
  <tuple id='ID-dr4hcr0st3lup4c'>
    <status>
      <basic>closed</basic>
    </status>
  </tuple>
</presence>`;

/** RFC 3863 §4.2.2, with a namespace prefix. */
const RFC3863_4_2_2_PREFIX = `<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf"
    entity="pres:someone@example.com">
  <impp:tuple id="sg89ae">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <impp:contact priority="0.8">tel:+09012345678</impp:contact>
  </impp:tuple>
</impp:presence>`;

/** RFC 3863 §4.2.2, default namespace. */
const RFC3863_4_2_2_DEFAULT = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    entity="pres:someone@example.com">
  <tuple id="sg89ae">
    <status>
      <basic>open</basic>
    </status>
    <contact priority="0.8">tel:+09012345678</contact>
  </tuple>
</presence>`;

/** RFC 3863 §4.2.4 (a location status value). */
const RFC3863_4_2_4 = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:local="urn:example-com:pidf-status-type"
    entity="pres:someone@example.com">
  <tuple id="ub93s3">
    <status>
      <basic>open</basic>
      <local:location>home</local:location>
    </status>
    <contact>im:someone@example.com</contact>
  </tuple>
</presence>`;

/** RFC 3863 §4.3.1. */
const RFC3863_4_3_1 = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
     xmlns:im="urn:ietf:params:xml:ns:pidf:im"
     xmlns:myex="http://id.example.com/presence/"
     entity="pres:someone@example.com">
  <tuple id="bs35r9">
    <status>
      <basic>open</basic>
      <im:im>busy</im:im>
      <myex:location>home</myex:location>
    </status>
    <contact priority="0.8">im:someone@mobilecarrier.net</contact>
    <note xml:lang="en">Don't Disturb Please!</note>
    <note xml:lang="fr">Ne derangez pas, s'il vous plait</note>
    <timestamp>2001-10-27T16:49:29Z</timestamp>
  </tuple>
  <tuple id="eg92n8">
    <status>
      <basic>open</basic>
    </status>
    <contact priority="1.0">mailto:someone@example.com</contact>
  </tuple>
  <note>I'll be in Tokyo next week</note>
</presence>`;

/** RFC 3863 §4.3.2. */
const RFC3863_4_3_2 = `<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf"
     xmlns:myex="http://id.example.com/presence/"
     entity="pres:someone@example.com">
  <impp:tuple id="ck38g9">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <myex:mytupletag>Extended value in tuple</myex:mytupletag>
    <impp:contact priority="0.65">tel:+09012345678</impp:contact>
  </impp:tuple>
  <impp:tuple id="md66je">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <impp:contact priority="1.0">
       im:someone@mobilecarrier.net</impp:contact>
  </impp:tuple>
  <myex:mytag>My extended presentity information</myex:mytag>
</impp:presence>`;

/** RFC 3863 §4.3.3. */
const RFC3863_4_3_3 = `<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf"
     xmlns:myex="http://id.mycompany.com/presence/"
     entity="pres:someone@example.com">
  <impp:tuple id="tj25ds">
    <impp:status>
      <impp:basic>open</impp:basic>
    </impp:status>
    <myex:complexExtension>
      <myex:ex1 impp:mustUnderstand="1">val1</myex:ex1>
      <myex:ex2>val2</myex:ex2>
    </myex:complexExtension>
    <impp:contact priority="0.725">tel:+09012345678</impp:contact>
  </impp:tuple>
  <myex:mytag>My extended presentity information</myex:mytag>
</impp:presence>`;

/** RFC 4480 §4. */
const RFC4480_4 = `<?xml version="1.0" encoding="UTF-8"?>
  <presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:lt="urn:ietf:params:xml:ns:location-type"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    entity="pres:someone@example.com">

 <tuple id="bs35r9">
   <status>
     <basic>open</basic>
   </status>
   <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>
   <rpid:relationship><rpid:self/></rpid:relationship>
   <rpid:service-class><rpid:electronic/></rpid:service-class>
   <contact priority="0.8">im:someone@mobile.example.net</contact>
   <note xml:lang="en">Don't Disturb Please!</note>
   <note xml:lang="fr">Ne derangez pas, s'il vous plait</note>
   <timestamp>2005-10-27T16:49:29Z</timestamp>
 </tuple>

 <tuple id="ty4658">
   <status>
     <basic>open</basic>
   </status>
   <rpid:relationship><rpid:assistant/></rpid:relationship>
   <contact priority="1.0">mailto:secretary@example.com</contact>
 </tuple>

 <tuple id="eg92n8">
   <status>
     <basic>open</basic>
   </status>
   <dm:deviceID>urn:x-mac:0003ba4811e3</dm:deviceID>
   <rpid:class>email</rpid:class>
   <rpid:service-class><rpid:electronic/></rpid:service-class>
   <rpid:status-icon>http://example.com/mail.png</rpid:status-icon>
   <contact priority="1.0">mailto:someone@example.com</contact>
 </tuple>

 <note>I'll be in Tokyo next week</note>

 <dm:device id="pc147">
   <rpid:user-input idle-threshold="600"
     last-input="2004-10-21T13:20:00-05:00">idle</rpid:user-input>
   <dm:deviceID>urn:device:0003ba4811e3</dm:deviceID>
   <dm:note>PC</dm:note>
 </dm:device>

 <dm:person id="p1">
   <rpid:activities from="2005-05-30T12:00:00+05:00"
      until="2005-05-30T17:00:00+05:00">
      <rpid:note>Far away</rpid:note>
      <rpid:away/>
   </rpid:activities>
   <rpid:class>calendar</rpid:class>
   <rpid:mood>
     <rpid:angry/>
     <rpid:other>brooding</rpid:other>
   </rpid:mood>
   <rpid:place-is>
      <rpid:audio>
         <rpid:noisy/>
      </rpid:audio>
   </rpid:place-is>
   <rpid:place-type><lt:residence/></rpid:place-type>
   <rpid:privacy><rpid:unknown/></rpid:privacy>
   <rpid:sphere>bowling league</rpid:sphere>
   <rpid:status-icon>http://example.com/play.gif</rpid:status-icon>

   <rpid:time-offset>-240</rpid:time-offset>
   <dm:note>Scoring 120</dm:note>
   <dm:timestamp>2005-05-30T16:09:44+05:00</dm:timestamp>
 </dm:person>
</presence>`;

/** A person wrapping the RFC 4480 §3.2 <activities> and §3.14 <user-input> examples. */
const RFC4480_3_2 = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    entity="pres:someone@example.com">
  <tuple id="t1"><status><basic>open</basic></status></tuple>
  <dm:person id="p1" xmlns="urn:ietf:params:xml:ns:pidf:rpid">
    <activities>
      <note>Enjoying the morning paper</note>
      <vacation/>
      <breakfast/>
      <other>reading</other>
    </activities>
    <user-input idle-threshold="600"
      last-input="2004-10-21T13:20:00.000-05:00">idle</user-input>
  </dm:person>
</presence>`;

/** A minimal document around one tuple body. */
function doc(tupleXml: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="${PIDF_NS}" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="${RPID_NS}" entity="pres:a@example.com">${tupleXml}${extra}</presence>`;
}

// ---------------------------------------------------------------------------

describe('parsePidf: RFC examples', () => {
  test('RFC 8048 Ex.4: one open tuple with the jabber:client <show> inside <status>', () => {
    assert.deepEqual(value(parsePidf(RFC8048_EX4)), {
      entity: 'pres:romeo@example.net',
      tuples: [{ id: 'ID-dr4hcr0st3lup4c', basic: 'open', show: 'away', notes: [] }],
      notes: [],
    });
  });

  test('RFC 8048 Ex.20: closed', () => {
    assert.deepEqual(value(parsePidf(RFC8048_EX20)).tuples, [{ id: 'ID-dr4hcr0st3lup4c', basic: 'closed', notes: [] }]);
  });

  test('RFC 3863 §4.2.2: the prefixed and the default-namespace forms give the same document', () => {
    const expected: PresenceDoc = {
      entity: 'pres:someone@example.com',
      tuples: [{ id: 'sg89ae', basic: 'open', notes: [], contact: { uri: 'tel:+09012345678', priority: 0.8 } }],
      notes: [],
    };
    assert.deepEqual(value(parsePidf(RFC3863_4_2_2_PREFIX)), expected);
    assert.deepEqual(value(parsePidf(RFC3863_4_2_2_DEFAULT)), expected);
    assert.deepEqual(value(parsePidf(new TextEncoder().encode(RFC3863_4_2_2_DEFAULT))), expected);
  });

  test('RFC 3863 §4.2.4: an unknown status value is ignored; a contact without priority has none', () => {
    assert.deepEqual(value(parsePidf(RFC3863_4_2_4)).tuples, [
      { id: 'ub93s3', basic: 'open', notes: [], contact: { uri: 'im:someone@example.com' } },
    ]);
  });

  test('RFC 3863 §4.3.1: two tuples, notes with languages, timestamp, im:im, presence-level note', () => {
    assert.deepEqual(value(parsePidf(RFC3863_4_3_1)), {
      entity: 'pres:someone@example.com',
      tuples: [
        {
          id: 'bs35r9', basic: 'open', im: 'busy',
          contact: { uri: 'im:someone@mobilecarrier.net', priority: 0.8 },
          notes: [{ text: "Don't Disturb Please!", lang: 'en' }, { text: "Ne derangez pas, s'il vous plait", lang: 'fr' }],
          timestamp: new Date(Date.UTC(2001, 9, 27, 16, 49, 29)),
        },
        { id: 'eg92n8', basic: 'open', notes: [], contact: { uri: 'mailto:someone@example.com', priority: 1 } },
      ],
      notes: [{ text: "I'll be in Tokyo next week" }],
    });
  });

  test('RFC 3863 §4.3.2: extension elements in the tuple and the presence are ignored; the contact URI is trimmed', () => {
    assert.deepEqual(value(parsePidf(RFC3863_4_3_2)).tuples, [
      { id: 'ck38g9', basic: 'open', notes: [], contact: { uri: 'tel:+09012345678', priority: 0.65 } },
      { id: 'md66je', basic: 'open', notes: [], contact: { uri: 'im:someone@mobilecarrier.net', priority: 1 } },
    ]);
  });

  test('RFC 3863 §4.3.3: an ignored extension marked mustUnderstand does not affect the tuple', () => {
    assert.deepEqual(value(parsePidf(RFC3863_4_3_3)).tuples, [
      { id: 'tj25ds', basic: 'open', notes: [], contact: { uri: 'tel:+09012345678', priority: 0.725 } },
    ]);
  });

  test('RFC 4480 §4: deviceIDs, the person with its activities and note; devices and unmapped RPID ignored', () => {
    assert.deepEqual(value(parsePidf(RFC4480_4)), {
      entity: 'pres:someone@example.com',
      tuples: [
        {
          id: 'bs35r9', basic: 'open', deviceId: 'urn:device:0003ba4811e3',
          contact: { uri: 'im:someone@mobile.example.net', priority: 0.8 },
          notes: [{ text: "Don't Disturb Please!", lang: 'en' }, { text: "Ne derangez pas, s'il vous plait", lang: 'fr' }],
          timestamp: new Date(Date.UTC(2005, 9, 27, 16, 49, 29)),
        },
        { id: 'ty4658', basic: 'open', notes: [], contact: { uri: 'mailto:secretary@example.com', priority: 1 } },
        { id: 'eg92n8', basic: 'open', notes: [], deviceId: 'urn:x-mac:0003ba4811e3', contact: { uri: 'mailto:someone@example.com', priority: 1 } },
      ],
      notes: [{ text: "I'll be in Tokyo next week" }],
      // The device's user-input (idle) belongs to the device, not the person; the mood's <other> is not an activity.
      person: { activities: ['away'], notes: [{ text: 'Scoring 120' }] },
    });
  });

  test('RFC 4480 §3.2 and §3.14: activities with <other> and <note>, user-input with attributes', () => {
    assert.deepEqual(value(parsePidf(RFC4480_3_2)).person, {
      activities: ['vacation', 'breakfast'],
      otherActivities: ['reading'],
      userInput: 'idle',
      notes: [],
    });
  });

  test('every RFC 4480 activity value is read, duplicates once, in document order', () => {
    const acts = RPID_ACTIVITIES.map((a) => `<rpid:${a}/>`).join('');
    const person = `<dm:person id="p"><rpid:activities>${acts}<rpid:busy/></rpid:activities></dm:person>`;
    const parsed = value(parsePidf(doc('', person)));
    assert.deepEqual(parsed.person?.activities, [...RPID_ACTIVITIES]);
    assert.equal(RPID_ACTIVITIES.length, 26);
  });

  test('RPID: unknown activity elements are skipped, but one marked mustUnderstand voids its <activities>', () => {
    const skipped = `<dm:person id="p"><rpid:activities><rpid:busy/><x:golf xmlns:x="urn:x"/><rpid:napping/></rpid:activities></dm:person>`;
    assert.deepEqual(value(parsePidf(doc('', skipped))).person?.activities, ['busy']);
    const voided = `<dm:person id="p"><rpid:activities><rpid:busy/><x:golf xmlns:x="urn:x" xmlns:p="${PIDF_NS}" p:mustUnderstand="true"/></rpid:activities>`
      + `<rpid:activities><rpid:sleeping/></rpid:activities></dm:person>`;
    assert.deepEqual(value(parsePidf(doc('', voided))).person?.activities, ['sleeping']);
    const nested = `<dm:person id="p"><rpid:activities><rpid:busy/><x:a xmlns:x="urn:x"><x:b xmlns:p="${PIDF_NS}" p:mustUnderstand="1"/></x:a></rpid:activities></dm:person>`;
    assert.deepEqual(value(parsePidf(doc('', nested))).person?.activities, []);
  });

  test('only the first person is read; its user-input and dm:note with xml:lang', () => {
    const persons = `<dm:person id="p1" xml:lang="de"><rpid:user-input>active</rpid:user-input><dm:note>Mittag</dm:note></dm:person>`
      + `<dm:person id="p2"><rpid:activities><rpid:busy/></rpid:activities></dm:person>`;
    assert.deepEqual(value(parsePidf(doc('', persons))).person, { activities: [], userInput: 'active', notes: [{ text: 'Mittag', lang: 'de' }] });
  });
});

describe('parsePidf: tolerance inside a valid document', () => {
  test('tuples without id, status or a known basic, and repeated ids, are skipped; the rest is kept', () => {
    const tuples = [
      '<tuple><status><basic>open</basic></status></tuple>',
      '<tuple id=""><status><basic>open</basic></status></tuple>',
      '<tuple id="nostatus"><contact>sip:x@y</contact></tuple>',
      '<tuple id="nobasic"><status><show xmlns="jabber:client">away</show></status></tuple>',
      '<tuple id="badbasic"><status><basic>busy</basic></status></tuple>',
      '<tuple id="ok"><status><basic> OPEN </basic></status></tuple>',
      '<tuple id="ok"><status><basic>closed</basic></status></tuple>',
      '<tuple id="ok2"><status><basic>Closed</basic></status></tuple>',
    ].join('');
    assert.deepEqual(value(parsePidf(doc(tuples))).tuples, [
      { id: 'ok', basic: 'open', notes: [] },
      { id: 'ok2', basic: 'closed', notes: [] },
    ]);
  });

  test('zero tuples is a valid document (RFC 3863 §4.1.1)', () => {
    assert.deepEqual(value(parsePidf(doc('', '<note>Gone fishing</note>'))), {
      entity: 'pres:a@example.com', tuples: [], notes: [{ text: 'Gone fishing' }],
    });
  });

  test('contact priority: out of range or not a decimal is ignored; more digits accepted', () => {
    const cases: Array<[string, number | undefined]> = [
      ['0', 0], ['1', 1], ['1.000', 1], ['0.102', 0.102], [' 0.5 ', 0.5], ['.5', 0.5], ['0.1234', 0.1234],
      ['1.5', undefined], ['-0.1', undefined], ['abc', undefined], ['', undefined], ['1e-1', undefined], ['NaN', undefined],
    ];
    for (const [raw, expected] of cases) {
      const t = value(parsePidf(doc(`<tuple id="t"><status><basic>open</basic></status><contact priority="${raw}">sip:a@b</contact></tuple>`))).tuples[0];
      assert.deepEqual(t?.contact, expected === undefined ? { uri: 'sip:a@b' } : { uri: 'sip:a@b', priority: expected }, raw);
    }
  });

  test('timestamps that are not RFC 3339 with an offset are left out', () => {
    for (const [raw, ok] of [['2005-10-27T16:49:29Z', true], ['2005-10-27T16:49:29+05:00', true], ['2005-10-27T16:49:29', false], ['yesterday', false]] as const) {
      const t = value(parsePidf(doc(`<tuple id="t"><status><basic>open</basic></status><timestamp>${raw}</timestamp></tuple>`))).tuples[0];
      assert.equal(t?.timestamp !== undefined, ok, raw);
    }
  });

  test('<show>: only the four values, in <status> or (leniently) in <tuple>, only in jabber:client', () => {
    const show = (xml: string): PresenceTuple | undefined => value(parsePidf(doc(xml))).tuples[0];
    assert.equal(show('<tuple id="t"><status><basic>open</basic><show xmlns="jabber:client"> dnd </show></status></tuple>')?.show, 'dnd');
    assert.equal(show('<tuple id="t"><status><basic>open</basic></status><show xmlns="jabber:client">xa</show></tuple>')?.show, 'xa');
    assert.equal(show('<tuple id="t"><status><basic>open</basic><show xmlns="jabber:client">busy</show></status></tuple>')?.show, undefined);
    assert.equal(show('<tuple id="t"><status><basic>open</basic><show>away</show></status></tuple>')?.show, undefined);
    assert.equal(show('<tuple id="t"><status><basic>open</basic><show xmlns="jabber:server">away</show></status></tuple>')?.show, undefined);
  });

  test('notes: trimmed, empty ones dropped, xml:lang inherited from the tuple and the root, xml:lang="" clears it', () => {
    const xml = `<?xml version="1.0"?><presence xmlns="${PIDF_NS}" entity="sip:a@b" xml:lang="en">`
      + '<tuple id="t" xml:lang="fr"><status><basic>open</basic></status><note>\n  Bonjour  \n</note><note> </note><note xml:lang="de">Hallo</note><note xml:lang="">none</note></tuple>'
      + '<tuple id="u"><status><basic>open</basic></status><note>Hello &amp; &lt;bye&gt;</note></tuple>'
      + '<note>Top</note></presence>';
    const parsed = value(parsePidf(xml));
    assert.deepEqual(parsed.tuples.map((t) => t.notes), [
      [{ text: 'Bonjour', lang: 'fr' }, { text: 'Hallo', lang: 'de' }, { text: 'none' }],
      [{ text: 'Hello & <bye>', lang: 'en' }],
    ]);
    assert.deepEqual(parsed.notes, [{ text: 'Top', lang: 'en' }]);
  });

  test('tuple-level deviceID (the first non-empty) and user-input; a bad user-input value is ignored', () => {
    const t = value(parsePidf(doc('<tuple id="t"><status><basic>open</basic></status><dm:deviceID> </dm:deviceID><dm:deviceID>urn:uuid:1</dm:deviceID><dm:deviceID>urn:uuid:2</dm:deviceID><rpid:user-input>idle</rpid:user-input></tuple>'))).tuples[0];
    assert.equal(t?.deviceId, 'urn:uuid:1');
    assert.equal(t?.userInput, 'idle');
    const u = value(parsePidf(doc('<tuple id="t"><status><basic>open</basic></status><rpid:user-input>asleep</rpid:user-input></tuple>'))).tuples[0];
    assert.equal(u?.userInput, undefined);
  });

  test('the XML declaration and the entity are read leniently (no declaration, surrounding spaces)', () => {
    const parsed = value(parsePidf(`\r\n<presence xmlns="${PIDF_NS}" entity=" sip:a@b "/>`));
    assert.equal(parsed.entity, 'sip:a@b');
  });
});

describe('parsePidf: hostile and invalid input gives an error, never an exception', () => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    + `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><note>&lol2;</note></presence>`;
  const deep = `<presence xmlns="${PIDF_NS}" entity="sip:a@b">${'<x>'.repeat(40)}${'</x>'.repeat(40)}</presence>`;
  const many = doc('<tuple id="t"><status><basic>open</basic></status></tuple>'.repeat(200));
  const huge = doc(`<tuple id="t"><status><basic>open</basic></status><note>${'a'.repeat(70 * 1024)}</note></tuple>`);
  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    ['billion laughs', laughs, /DOCTYPE/],
    ['external entity', `<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><presence xmlns="${PIDF_NS}" entity="sip:a@b">&x;</presence>`, /DOCTYPE/],
    ['bare DOCTYPE', `<!DOCTYPE presence><presence xmlns="${PIDF_NS}" entity="sip:a@b"/>`, /DOCTYPE/],
    ['undeclared entity', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><note>&nbsp;</note></presence>`, /entity reference/],
    ['huge', huge, /too large/],
    ['deep', deep, /too deep/],
    ['too many elements', many, /too many/],
    ['processing instruction', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><?evil?></presence>`, /processing instructions/],
    ['wrong namespace', '<presence xmlns="urn:ietf:params:xml:ns:pidf:im" entity="sip:a@b"/>', /unexpected root/],
    ['no namespace', '<presence entity="sip:a@b"/>', /unexpected root/],
    ['wrong root', `<tuple xmlns="${PIDF_NS}" id="t"/>`, /unexpected root/],
    ['missing entity', `<presence xmlns="${PIDF_NS}"><tuple id="t"><status><basic>open</basic></status></tuple></presence>`, /entity/],
    ['empty entity', `<presence xmlns="${PIDF_NS}" entity=" "/>`, /entity/],
    ['not XML', 'open', /text before the root|no root/],
    ['empty', '', /no root/],
    ['unclosed', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><tuple id="t">`, /malformed/],
    ['mismatched tags', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><tuple></note></presence>`, /malformed|unbalanced/],
    ['two roots', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"/><presence xmlns="${PIDF_NS}" entity="sip:a@b"/>`, /more than one root/],
    ['control character', `<presence xmlns="${PIDF_NS}" entity="sip:a@b"><note>\u0001</note></presence>`, /invalid XML character/],
    ['Latin-1 declaration', `<?xml version="1.0" encoding="ISO-8859-1"?><presence xmlns="${PIDF_NS}" entity="sip:a@b"/>`, /UTF-8/],
    ['invalid UTF-8 bytes', new Uint8Array([0x3c, 0x70, 0xff, 0xfe, 0x3e]), /UTF-8/],
    ['unbound prefix', '<p:presence entity="sip:a@b"/>', /malformed|unexpected root/],
  ];
  for (const [name, input, pattern] of cases) {
    test(name, () => {
      let r: Result<PresenceDoc> | undefined;
      assert.doesNotThrow(() => { r = parsePidf(input); });
      if (!r) assert.fail('no result');
      error(r, pattern);
    });
  }

  test('limits can be tightened', () => {
    error(parsePidf(RFC4480_4, { maxBytes: 1000 }), /too large/);
    error(parsePidf(RFC4480_4, { maxDepth: 3 }), /too deep/);
    error(parsePidf(RFC4480_4, { maxElements: 10 }), /too many/);
    value(parsePidf(RFC4480_4));
  });
});

describe('buildPidf', () => {
  test('a minimal document: declaration, default namespace, no unused prefixes', () => {
    const xml = buildPidf({ entity: 'pres:juliet@example.com', tuples: [{ id: 'ID-yn0cl4bnw0yr3vym', basic: 'open', notes: [] }], notes: [] });
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n'
      + '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:juliet@example.com">'
      + '<tuple id="ID-yn0cl4bnw0yr3vym"><status><basic>open</basic></status></tuple></presence>');
  });

  test('<show> is inside <status> in the jabber:client namespace; contact priority has at most 3 decimals', () => {
    const xml = buildPidf({
      entity: 'sip:juliet@example.com',
      tuples: [{ id: 'ID-x', basic: 'open', show: 'dnd', notes: [{ text: 'Wooing' }], contact: { uri: 'sip:juliet@example.com', priority: 0.102 } }],
      notes: [],
    });
    assert.match(xml, /<status><basic>open<\/basic><show xmlns="jabber:client">dnd<\/show><\/status>/);
    assert.match(xml, /<contact priority="0\.102">sip:juliet@example\.com<\/contact><note>Wooing<\/note>/);
    const root = value(parseXml(xml));
    const [status] = find(root, PIDF_NS, 'status');
    assert.ok(status);
    assert.equal(status.children.find((c) => c.name === 'show')?.ns, JABBER_CLIENT_NS);
  });

  test('formatPidfPriority', () => {
    assert.deepEqual([0, 1, 0.102, 0.007, 0.992, 0.5, 0.1025, 0.9996, 0.0004].map(formatPidfPriority),
      ['0', '1', '0.102', '0.007', '0.992', '0.500', '0.103', '1', '0']);
    for (const bad of [-0.001, 1.001, Number.NaN, Infinity]) assert.throws(() => formatPidfPriority(bad), TypeError);
  });

  test('text and attributes are escaped; the result parses back', () => {
    const input: PresenceDoc = {
      entity: 'sip:a&b@example.com;x="1"',
      tuples: [{ id: 'ID-a', basic: 'closed', notes: [{ text: '<b>&</b> "quoted" \'s ]]>', lang: 'en-GB' }], contact: { uri: 'sip:a&b@example.com?x=<1>' } }],
      notes: [{ text: 'a < b' }],
    };
    const xml = buildPidf(input);
    assert.ok(!xml.includes('<b>'));
    assert.deepEqual(value(parsePidf(xml)), input);
  });

  test('RPID: person with activities, other activities, user-input and notes; dm and rpid declared', () => {
    const input: PresenceDoc = {
      entity: 'pres:a@example.com',
      tuples: [{ id: 'p1', basic: 'open', notes: [], deviceId: 'urn:uuid:9', userInput: 'active' }],
      notes: [],
      person: { activities: ['busy', 'on-the-phone'], otherActivities: ['golf'], userInput: 'idle', notes: [{ text: 'Back at 5', lang: 'en' }] },
    };
    const xml = buildPidf(input);
    assert.match(xml, new RegExp(`xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="${RPID_NS}"`));
    assert.match(xml, /<rpid:activities><rpid:busy\/><rpid:on-the-phone\/><rpid:other>golf<\/rpid:other><\/rpid:activities>/);
    // The person's id must not collide with a tuple's (both are xs:ID).
    assert.match(xml, /<dm:person id="p2">/);
    assert.deepEqual(value(parsePidf(xml)), input);
  });

  test('a person with only a note declares dm but not rpid', () => {
    const xml = buildPidf({ entity: 'sip:a@b', tuples: [], notes: [], person: { activities: [], notes: [{ text: 'x' }] } });
    assert.match(xml, /xmlns:dm=/);
    assert.doesNotMatch(xml, /xmlns:rpid=/);
    value(parsePidf(xml));
  });

  test('invalid input throws a TypeError', () => {
    const base = (t: Partial<PresenceTuple>): PresenceDoc => ({ entity: 'sip:a@b', tuples: [{ id: 'ID-a', basic: 'open', notes: [], ...t }], notes: [] });
    const bad: Array<[string, PresenceDoc]> = [
      ['empty entity', { entity: ' ', tuples: [], notes: [] }],
      ['id starting with a digit', base({ id: '1abc' })],
      ['id with a colon', base({ id: 'a:b' })],
      ['id with a space', base({ id: 'a b' })],
      ['basic', base({ basic: 'busy' as 'open' })],
      ['show', base({ show: 'busy' as 'dnd' })],
      ['priority', base({ contact: { uri: 'sip:a@b', priority: 1.5 } })],
      ['control character', base({ notes: [{ text: 'a\u0001' }] })],
      ['lang', base({ notes: [{ text: 'a', lang: 'en"><x' }] })],
      ['timestamp', base({ timestamp: new Date(Number.NaN) })],
      ['user-input', base({ userInput: 'asleep' as 'idle' })],
      ['activity', { entity: 'sip:a@b', tuples: [], notes: [], person: { activities: ['napping' as 'busy'], notes: [] } }],
      ['duplicate ids', { entity: 'sip:a@b', tuples: [{ id: 'a', basic: 'open', notes: [] }, { id: 'a', basic: 'closed', notes: [] }], notes: [] }],
    ];
    for (const [name, d] of bad) assert.throws(() => buildPidf(d), TypeError, name);
  });

  test('isNcName', () => {
    for (const good of ['ID-', 'a', '_x', 'ID-a.b-c_d', 'é', 'a\u00B7b', 'x\u{10000}']) assert.ok(isNcName(good), good);
    for (const bad of ['', '1a', '-a', '.a', 'a:b', 'a b', 'a/b', '\u00B7a', 'a\u00D7']) assert.ok(!isNcName(bad), bad);
  });
});

describe('round trips', () => {
  test('every RFC fixture: parse → build → parse is stable', () => {
    for (const fixture of [RFC8048_EX4, RFC8048_EX20, RFC3863_4_2_2_PREFIX, RFC3863_4_2_4, RFC3863_4_3_1, RFC3863_4_3_2, RFC3863_4_3_3, RFC4480_4, RFC4480_3_2]) {
      const once = value(parsePidf(fixture));
      assert.deepEqual(value(parsePidf(buildPidf(once))), once);
    }
  });

  test('random documents: build → parse is the identity', () => {
    let seed = 0x5eed;
    const rnd = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const alphabet = ['a', 'Z', '9', ' ', '&', '<', '>', '"', "'", 'é', '€', '😀', '中', '\t', ']]>', '/'];
    const text = (): string => {
      let s = '';
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) s += pick(alphabet);
      s = s.replace(/^[ \t]+|[ \t]+$/g, '');
      return s === '' ? 'x' : s;
    };
    const notes = (): { text: string; lang?: string }[] =>
      Array.from({ length: Math.floor(rnd() * 3) }, () => (rnd() < 0.5 ? { text: text() } : { text: text(), lang: pick(['en', 'fr-CA', 'de']) }));
    for (let round = 0; round < 200; round++) {
      const tuples: PresenceTuple[] = [];
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) {
        const t: PresenceTuple = { id: `t${i}-${Math.floor(rnd() * 1000)}`, basic: pick(['open', 'closed'] as const), notes: notes() };
        if (rnd() < 0.5) t.show = pick(['away', 'chat', 'dnd', 'xa'] as const);
        if (rnd() < 0.2) t.im = text();
        if (rnd() < 0.5) t.contact = rnd() < 0.5 ? { uri: `sip:${text()}` } : { uri: 'sip:u@h', priority: Math.floor(rnd() * 1001) / 1000 };
        if (rnd() < 0.3) t.timestamp = new Date(Date.UTC(2000 + Math.floor(rnd() * 30), 0, 1) + Math.floor(rnd() * 1e10));
        if (rnd() < 0.3) t.deviceId = `urn:uuid:${Math.floor(rnd() * 1e6)}`;
        if (rnd() < 0.3) t.userInput = pick(['active', 'idle'] as const);
        tuples.push(t);
      }
      const d: PresenceDoc = { entity: `pres:${text()}@example.com`, tuples, notes: notes() };
      if (rnd() < 0.5) {
        const acts = [...new Set(Array.from({ length: Math.floor(rnd() * 3) }, () => pick(RPID_ACTIVITIES)))];
        d.person = { activities: acts, notes: notes() };
        if (rnd() < 0.5) d.person.otherActivities = [text()];
        if (rnd() < 0.5) d.person.userInput = pick(['active', 'idle'] as const);
      }
      assert.deepEqual(value(parsePidf(buildPidf(d))), d, JSON.stringify(d));
    }
  });
});
