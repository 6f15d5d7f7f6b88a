import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  basicForPresenceType, pidfToXmpp, priorityFromPidf, priorityToPidf, resourceForTuple, resourceToTupleId, showFromActivities,
  tupleIdToResource, xmppToPidf,
} from '../../src/core/presence/map.js';
import { RPID_ACTIVITIES, type PresenceDoc, type RpidActivity, type Show, type XmppPresence } from '../../src/core/presence/model.js';
import { buildPidf, isNcName, parsePidf } from '../../src/sip/bodies/pidf.js';
import type { Result } from '../../src/sip/bodies/index.js';

function value<T>(r: Result<T>): T {
  if (!r.ok) assert.fail(`expected ok, got error: ${r.error}`);
  return r.value;
}

/** SIP → XMPP through the real parser. */
function s2x(xml: string): XmppPresence[] {
  return pidfToXmpp(value(parsePidf(xml)));
}

const PIDF = 'urn:ietf:params:xml:ns:pidf';

function pidf(entity: string, body: string, decls = ''): string {
  return `<?xml version='1.0' encoding='UTF-8'?><presence xmlns='${PIDF}'${decls} entity='${entity}'>${body}</presence>`;
}

function tuple(id: string, basic: string, inner = '', statusExtra = ''): string {
  return `<tuple id='${id}'><status><basic>${basic}</basic>${statusExtra}</status>${inner}</tuple>`;
}

describe('§10 C vectors', () => {
  test('C3: RFC 8048 Ex.4 → presence from the full JID with <show>away</show> (norm: Ex.6 drops the show)', () => {
    const ex4 = pidf('pres:romeo@example.net', tuple('ID-dr4hcr0st3lup4c', 'open', '', "<show xmlns='jabber:client'>away</show>"));
    assert.deepEqual(s2x(ex4), [{ resource: 'dr4hcr0st3lup4c', available: true, show: 'away' }]);
  });

  test('C4: a NOTIFY without a body gives no available presence', () => {
    assert.deepEqual(pidfToXmpp(undefined), []);
  });

  test('C13: RFC 8048 Ex.18 → Ex.19 (norm: no <show>, Ex.18 has none)', () => {
    const d = xmppToPidf('pres:juliet@example.com', [{ resource: 'yn0cl4bnw0yr3vym', available: true }]);
    assert.deepEqual(d, { entity: 'pres:juliet@example.com', tuples: [{ id: 'ID-yn0cl4bnw0yr3vym', basic: 'open', notes: [] }], notes: [] });
    assert.equal(buildPidf(d), '<?xml version="1.0" encoding="UTF-8"?>\n'
      + '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:juliet@example.com">'
      + '<tuple id="ID-yn0cl4bnw0yr3vym"><status><basic>open</basic></status></tuple></presence>');
  });

  test('C14: xml:lang, show, status and priority 13', () => {
    const d = xmppToPidf('sip:juliet@example.com', [{ resource: 'balcony', available: true, lang: 'en', show: 'dnd', status: [{ text: 'Wooing' }], priority: 13 }]);
    assert.equal(d.lang, 'en'); // → Content-Language: en
    assert.deepEqual(d.tuples, [{
      id: 'ID-balcony', basic: 'open', show: 'dnd', notes: [{ text: 'Wooing' }], contact: { uri: 'sip:juliet@example.com', priority: 0.102 },
    }]);
    const xml = buildPidf(d);
    assert.match(xml, /<status><basic>open<\/basic><show xmlns="jabber:client">dnd<\/show><\/status>/);
    assert.match(xml, /<note>Wooing<\/note>/);
    assert.match(xml, /<contact priority="0\.102">/);
  });

  test('C14: priority -1 → no priority (and no contact); 1 → 0.007; 126 → 0.992; unavailable → closed', () => {
    const one = (p: Partial<XmppPresence>): PresenceDoc => xmppToPidf('sip:j@example.com', [{ resource: 'r', available: true, ...p }]);
    assert.equal(one({ priority: -1 }).tuples[0]?.contact, undefined);
    assert.equal(one({ priority: -128 }).tuples[0]?.contact, undefined);
    assert.match(buildPidf(one({ priority: 1 })), /<contact priority="0\.007">/);
    assert.match(buildPidf(one({ priority: 126 })), /<contact priority="0\.992">/);
    assert.match(buildPidf(one({ priority: 127 })), /<contact priority="1">/);
    assert.match(buildPidf(one({ priority: 0 })), /<contact priority="0">/);
    const closed = one({ available: false, show: 'away', priority: 5, status: [{ text: 'Gone' }] });
    assert.deepEqual(closed.tuples, [{ id: 'ID-r', basic: 'closed', notes: [{ text: 'Gone' }] }]);
    assert.match(buildPidf(closed), /<basic>closed<\/basic>/);
  });

  test('C15: RFC 8048 Ex.20 → unavailable from the full JID', () => {
    const ex20 = pidf('pres:romeo@example.net', tuple('ID-dr4hcr0st3lup4c', 'closed'));
    assert.deepEqual(s2x(ex20), [{ resource: 'dr4hcr0st3lup4c', available: false }]);
  });

  test('C16: only no type and unavailable become a NOTIFY; zero tuples give no stanza', () => {
    assert.equal(basicForPresenceType(undefined), 'open');
    assert.equal(basicForPresenceType('unavailable'), 'closed');
    for (const t of ['error', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'bogus', '']) {
      assert.equal(basicForPresenceType(t), undefined, t);
    }
    assert.deepEqual(s2x(pidf('pres:romeo@example.net', '<note>Away for a while</note>')), []);
    // Tuples that cannot be mapped (no basic) count as none.
    assert.deepEqual(s2x(pidf('pres:romeo@example.net', "<tuple id='a'><status><x xmlns='urn:x'/></status></tuple>")), []);
  });
});

describe('priority (RFC 8048 note 6, RFC 3922 §5.1.7 / §5.2.13)', () => {
  test('the examples', () => {
    assert.deepEqual([0, 1, 2, 13, 126, 127].map(priorityToPidf), ['0', '0.007', '0.015', '0.102', '0.992', '1']);
    assert.deepEqual([0, 0.007, 0.015, 0.102, 0.992, 1].map(priorityFromPidf), [0, 1, 2, 13, 126, 127]);
  });

  test('0..127 map to unique, increasing values with at most 3 decimals, and back', () => {
    let previous = -1;
    for (let p = 0; p <= 127; p++) {
      const s = priorityToPidf(p);
      assert.ok(s !== undefined && /^(?:0|1|0\.[0-9]{3})$/.test(s), `${p} → ${s}`);
      const n = Number(s);
      assert.ok(n > previous, `${p} → ${s} is not above ${previous}`);
      assert.equal(n, Math.floor((p / 127) * 1000) / 1000);
      previous = n;
      assert.equal(priorityFromPidf(n), p);
    }
  });

  test('negative, out-of-range or non-integer XMPP priorities are not mapped; PIDF values outside [0, 1] neither', () => {
    for (const p of [-1, -128, 128, 1000, 1.5, Number.NaN]) assert.equal(priorityToPidf(p), undefined, String(p));
    for (const p of [-0.001, 1.001, Number.NaN, Infinity]) assert.equal(priorityFromPidf(p), undefined, String(p));
    assert.equal(priorityFromPidf(0.5), 64);
    assert.equal(priorityFromPidf(0.8), 102);
    // Rounded to the nearest: values between the mapped ones go to the closer priority.
    assert.deepEqual([0.001, 0.003, 0.004, 0.995, 0.999].map(priorityFromPidf), [0, 0, 1, 126, 127]);
  });
});

describe('tuple ids ⇄ resources', () => {
  test('encoding: ASCII letters, digits, "-" and "." stay; the rest becomes _HEX_', () => {
    assert.equal(resourceToTupleId('yn0cl4bnw0yr3vym'), 'ID-yn0cl4bnw0yr3vym');
    assert.equal(resourceToTupleId('my phone/2'), 'ID-my_20_phone_2F_2');
    assert.equal(resourceToTupleId('café'), 'ID-caf_E9_');
    assert.equal(resourceToTupleId('a_b'), 'ID-a_5F_b');
    assert.equal(resourceToTupleId('😀'), 'ID-_1F600_');
    assert.equal(resourceToTupleId('Gajim.x-1'), 'ID-Gajim.x-1');
    assert.equal(resourceToTupleId(undefined), 'ID-');
    assert.equal(resourceToTupleId(''), 'ID-');
  });

  test('decoding accepts only the canonical form', () => {
    assert.equal(tupleIdToResource('ID-my_20_phone_2F_2'), 'my phone/2');
    assert.equal(tupleIdToResource('ID-'), '');
    for (const other of ['balcony', 'ID-a_b', 'ID-a_7A_', 'ID-_e9_', 'ID-_110000_', 'ID-_20', 'id-abc', 'ID-a b']) {
      assert.equal(tupleIdToResource(other), undefined, other);
    }
  });

  test('the resource of a tuple: decoded ID-, stripped ID-, the raw id (RFC 3922 §5.2.1), else the deviceID', () => {
    assert.equal(resourceForTuple({ id: 'ID-my_20_phone' }), 'my phone');
    assert.equal(resourceForTuple({ id: 'ID-foo_bar' }), 'foo_bar');
    assert.equal(resourceForTuple({ id: 'ID-' }), undefined);
    assert.equal(resourceForTuple({ id: 'orchard' }), 'orchard');
    assert.equal(resourceForTuple({ id: 'x'.repeat(1024), deviceId: 'urn:device:1' }), 'urn:device:1');
    assert.equal(resourceForTuple({ id: 'x'.repeat(1024) }), undefined);
  });

  test('every encoded id is an NCName (xs:ID) and decodes back', () => {
    const samples = ['', ' ', '/', ':', '1', '-', '.', '_', 'a b/c:d', 'ßüé', '中文', '😀x', '\u00B7', 'ID-x', 'a_20_b', '#!$%&()*+,;=?@[]^`{|}~', "'\"<>"];
    for (const r of samples) {
      const id = resourceToTupleId(r);
      assert.ok(isNcName(id), `${JSON.stringify(r)} → ${id}`);
      assert.equal(tupleIdToResource(id), r);
    }
  });
});

describe('show and RPID ([impl], mapping §3.5)', () => {
  test('activities → show', () => {
    const expected: Partial<Record<RpidActivity, Show>> = {
      away: 'away',
      busy: 'dnd', 'on-the-phone': 'dnd', meeting: 'dnd', presentation: 'dnd', performance: 'dnd',
      vacation: 'xa', holiday: 'xa', 'permanent-absence': 'xa', sleeping: 'xa', travel: 'xa',
    };
    for (const a of RPID_ACTIVITIES) assert.equal(showFromActivities([a]), expected[a], a);
    assert.equal(showFromActivities([]), undefined);
    assert.equal(showFromActivities(['away', 'sleeping', 'meeting']), 'dnd');
    assert.equal(showFromActivities(['away', 'travel']), 'xa');
  });

  const RPID_DECLS = " xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid'";
  const person = (inner: string): string => `<dm:person id='p'>${inner}</dm:person>`;

  test('PIDF person activities and user-input give the <show> of open tuples', () => {
    const open = tuple('t', 'open');
    const cases: Array<[string, Show | undefined]> = [
      ['<rpid:activities><rpid:on-the-phone/></rpid:activities>', 'dnd'],
      ['<rpid:activities><rpid:vacation/></rpid:activities>', 'xa'],
      ['<rpid:activities><rpid:away/></rpid:activities>', 'away'],
      ['<rpid:activities><rpid:breakfast/><rpid:other>reading</rpid:other></rpid:activities>', undefined],
      ['<rpid:user-input>idle</rpid:user-input>', 'away'],
      ['<rpid:user-input>active</rpid:user-input>', undefined],
      ['<rpid:activities><rpid:meeting/></rpid:activities><rpid:user-input>idle</rpid:user-input>', 'dnd'],
    ];
    for (const [inner, show] of cases) {
      const [p] = s2x(pidf('pres:a@b', open + person(inner), RPID_DECLS));
      assert.equal(p?.show, show, inner);
    }
  });

  test('precedence: jabber:client show, then im:im, then activities, then user-input (the tuple before the person)', () => {
    const decls = `${RPID_DECLS} xmlns:im='urn:ietf:params:xml:ns:pidf:im'`;
    const busy = person('<rpid:activities><rpid:busy/></rpid:activities><rpid:user-input>idle</rpid:user-input>');
    const showOf = (t: string, p = busy): Show | undefined => s2x(pidf('pres:a@b', t + p, decls))[0]?.show;
    assert.equal(showOf(tuple('t', 'open', '', "<show xmlns='jabber:client'>chat</show><im:im>away</im:im>")), 'chat');
    assert.equal(showOf(tuple('t', 'open', '', '<im:im>away</im:im>')), 'away');
    assert.equal(showOf(tuple('t', 'open', '', '<im:im>busy</im:im>'), ''), 'dnd'); // RFC 3922 §5.2.10
    assert.equal(showOf(tuple('t', 'open', '', '<im:im>whatever</im:im>')), 'dnd');
    assert.equal(showOf(tuple('t', 'open')), 'dnd');
    const idle = person('<rpid:user-input>idle</rpid:user-input>');
    assert.equal(showOf(tuple('t', 'open', '<rpid:user-input>active</rpid:user-input>'), idle), undefined);
    assert.equal(showOf(tuple('t', 'open', '<rpid:user-input>idle</rpid:user-input>'), ''), 'away');
    // A closed tuple has no show, whatever the person does.
    assert.equal(showOf(tuple('t', 'closed', '', "<show xmlns='jabber:client'>dnd</show>")), undefined);
  });

  test('XMPP → RPID: the person follows the most available resource', () => {
    const acts = (...ps: XmppPresence[]): RpidActivity[] | undefined => xmppToPidf('sip:a@b', ps).person?.activities;
    assert.deepEqual(acts({ resource: 'a', available: true, show: 'away' }), ['away']);
    assert.deepEqual(acts({ resource: 'a', available: true, show: 'xa' }), ['away']);
    assert.deepEqual(acts({ resource: 'a', available: true, show: 'dnd' }), ['busy']);
    assert.equal(acts({ resource: 'a', available: true, show: 'chat' }), undefined);
    assert.equal(acts({ resource: 'a', available: true }), undefined);
    assert.equal(acts({ resource: 'a', available: false, show: 'dnd' }), undefined);
    assert.equal(acts({ resource: 'a', available: true, show: 'dnd' }, { resource: 'b', available: true }), undefined);
    assert.deepEqual(acts({ resource: 'a', available: true, show: 'dnd' }, { resource: 'b', available: true, show: 'xa' }), ['away']);
    assert.deepEqual(acts({ resource: 'a', available: true, show: 'dnd' }, { resource: 'b', available: false }), ['busy']);
    // The show is in the tuple too (note 7), and RPID is written with its namespaces.
    const xml = buildPidf(xmppToPidf('sip:a@b', [{ resource: 'a', available: true, show: 'dnd' }]));
    assert.match(xml, /<show xmlns="jabber:client">dnd<\/show>/);
    assert.match(xml, /<rpid:activities><rpid:busy\/><\/rpid:activities>/);
  });
});

describe('RFC 3922 §5.2 examples', () => {
  test('§5.2.9 open and closed; the tuple id is the resource', () => {
    assert.deepEqual(s2x(pidf('pres:romeo@example.net', tuple('orchard', 'open'))), [{ resource: 'orchard', available: true }]);
    assert.deepEqual(s2x(pidf('pres:romeo@example.net', tuple('orchard', 'closed'))), [{ resource: 'orchard', available: false }]);
  });

  test('§5.2.11: im:im busy and a note → dnd and a status; §5.2.12 the contact URI is not passed on', () => {
    const xml = pidf('pres:romeo@example.net',
      tuple('orchard', 'open', '<contact>im:romeo@example.net</contact><note>Wooing Juliet</note>', '<im:im>busy</im:im>'),
      " xmlns:im='urn:ietf:params:xml:ns:pidf:im'");
    assert.deepEqual(s2x(xml), [{ resource: 'orchard', available: true, show: 'dnd', status: [{ text: 'Wooing Juliet' }] }]);
  });

  test('§5.1.7 in reverse: contact priority 0.102 → <priority>13</priority>', () => {
    const xml = pidf('pres:juliet@example.com', tuple('balcony', 'open', "<contact priority='0.102'>im:juliet@example.com</contact>"));
    assert.deepEqual(s2x(xml), [{ resource: 'balcony', available: true, priority: 13 }]);
  });
});

describe('pidfToXmpp details', () => {
  test('notes: the tuple\'s, else the person\'s, else the document\'s; languages kept; Content-Language → xml:lang', () => {
    const d: PresenceDoc = {
      entity: 'sip:a@b',
      tuples: [
        { id: 't1', basic: 'open', notes: [{ text: 'mine', lang: 'en' }, { text: 'à moi', lang: 'fr' }] },
        { id: 't2', basic: 'closed', notes: [] },
      ],
      notes: [{ text: 'doc' }],
      person: { activities: [], notes: [{ text: 'person' }] },
      lang: 'en',
    };
    assert.deepEqual(pidfToXmpp(d), [
      { resource: 't1', available: true, status: [{ text: 'mine', lang: 'en' }, { text: 'à moi', lang: 'fr' }], lang: 'en' },
      { resource: 't2', available: false, status: [{ text: 'person' }], lang: 'en' },
    ]);
    const noPerson: PresenceDoc = { entity: 'sip:a@b', tuples: [{ id: 't2', basic: 'open', notes: [] }], notes: [{ text: 'doc' }] };
    assert.deepEqual(pidfToXmpp(noPerson), [{ resource: 't2', available: true, status: [{ text: 'doc' }] }]);
  });

  test('one presence per resource: a later tuple for the same resource is dropped', () => {
    const d: PresenceDoc = {
      entity: 'sip:a@b', notes: [],
      tuples: [
        { id: 'ID-a', basic: 'open', notes: [] },
        { id: 'a', basic: 'closed', notes: [] },
        { id: 'ID-b', basic: 'closed', notes: [] },
      ],
    };
    assert.deepEqual(pidfToXmpp(d), [{ resource: 'a', available: true }, { resource: 'b', available: false }]);
  });

  test('a closed tuple carries no priority', () => {
    const d: PresenceDoc = { entity: 'sip:a@b', notes: [], tuples: [{ id: 'x', basic: 'closed', notes: [], contact: { uri: '', priority: 1 } }] };
    assert.deepEqual(pidfToXmpp(d), [{ resource: 'x', available: false }]);
  });
});

describe('xmppToPidf details', () => {
  test('contact: only for a priority or a contactUri option; pres: entities give an im: contact', () => {
    assert.deepEqual(xmppToPidf('pres:j@example.com', [{ resource: 'r', available: true, priority: 127 }]).tuples[0]?.contact,
      { uri: 'im:j@example.com', priority: 1 });
    assert.deepEqual(xmppToPidf('sip:j@example.com', [{ resource: 'r', available: true }], { contactUri: (r) => `sip:j@example.com;gr=${r}` }).tuples[0]?.contact,
      { uri: 'sip:j@example.com;gr=r' });
    assert.deepEqual(xmppToPidf('sip:j@example.com', [{ resource: 'r', available: true, priority: 13 }], { contactUri: () => 'sip:x@y' }).tuples[0]?.contact,
      { uri: 'sip:x@y', priority: 0.102 });
    assert.equal(xmppToPidf('sip:j@example.com', [{ resource: 'r', available: true }]).tuples[0]?.contact, undefined);
  });

  test('languages: a shared xml:lang is the document\'s; differing ones go onto the notes', () => {
    const d = xmppToPidf('sip:j@example.com', [
      { resource: 'a', available: true, lang: 'en', status: [{ text: 'Hi' }, { text: 'Salut', lang: 'fr' }] },
      { resource: 'b', available: true, lang: 'de', status: [{ text: 'Hallo' }] },
      { resource: 'c', available: true, status: [{ text: 'none' }] },
    ]);
    assert.equal(d.lang, undefined);
    assert.deepEqual(d.tuples.map((t) => t.notes), [
      [{ text: 'Hi', lang: 'en' }, { text: 'Salut', lang: 'fr' }],
      [{ text: 'Hallo', lang: 'de' }],
      [{ text: 'none' }],
    ]);
  });

  test('empty status texts are dropped; duplicate resources give one tuple', () => {
    const d = xmppToPidf('sip:j@example.com', [
      { resource: 'a', available: true, status: [{ text: '' }, { text: 'x' }] },
      { resource: 'a', available: false },
    ]);
    assert.deepEqual(d.tuples, [{ id: 'ID-a', basic: 'open', notes: [{ text: 'x' }] }]);
  });

  test('the timestamp option stamps every tuple', () => {
    const at = new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 250));
    const d = xmppToPidf('sip:j@example.com', [{ resource: 'a', available: true }, { resource: 'b', available: false }], { timestamp: at });
    assert.deepEqual(d.tuples.map((t) => t.timestamp), [at, at]);
    assert.match(buildPidf(d), /<timestamp>2024-02-29T12:00:00\.250Z<\/timestamp><\/tuple>/);
    assert.equal(xmppToPidf('sip:j@example.com', [{ resource: 'a', available: true }]).tuples[0]?.timestamp, undefined);
  });

  test('zero presences give zero tuples', () => {
    assert.deepEqual(xmppToPidf('sip:j@example.com', []), { entity: 'sip:j@example.com', tuples: [], notes: [] });
  });
});

describe('round trip XMPP → PIDF → XMPP', () => {
  let seed = 0xc0ffee;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chars = ['a', 'Z', '0', '9', ' ', '/', '_', '-', '.', ':', '@', '&', '<', '"', "'", 'é', 'ß', '中', '😀', '\u00B7', 'ID-', '_20_'];
  const str = (min: number): string => {
    let s = '';
    const n = min + Math.floor(rnd() * 10);
    for (let i = 0; i < n; i++) s += pick(chars);
    return s;
  };

  test('random resources (non-ASCII, spaces, slashes, look-alikes of the encoding) through the XML', () => {
    for (let round = 0; round < 300; round++) {
      const lang = pick([undefined, 'en', 'fr-CA']);
      const presences: XmppPresence[] = [];
      const used = new Set<string | undefined>();
      const n = 1 + Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) {
        let resource: string | undefined = rnd() < 0.1 ? undefined : str(1);
        if (used.has(resource)) resource = `${resource ?? ''}#${i}`;
        used.add(resource);
        const p: XmppPresence = { available: rnd() < 0.7 };
        if (resource !== undefined) p.resource = resource;
        if (p.available && rnd() < 0.6) p.show = pick(['away', 'chat', 'dnd', 'xa'] as const);
        if (p.available && rnd() < 0.6) p.priority = Math.floor(rnd() * 128);
        if (rnd() < 0.6) {
          p.status = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => {
            const text = `${str(0)}x${str(0)}`.trim();
            return rnd() < 0.5 ? { text } : { text, lang: pick(['de', 'ja']) };
          });
        }
        if (lang !== undefined) p.lang = lang;
        presences.push(p);
      }
      const d = xmppToPidf('pres:juliet@example.com', presences);
      const parsed = value(parsePidf(buildPidf(d)));
      if (d.lang !== undefined) parsed.lang = d.lang; // Content-Language travels as a header
      assert.deepEqual(pidfToXmpp(parsed), presences, JSON.stringify(presences));
    }
  });
});
