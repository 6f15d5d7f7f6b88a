// What the component answers on the XMPP side, through a real server and a
// real client, against Prosody and ejabberd alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { startBed, type Bed } from '../support/bed.js';
import { connectClient, IqError, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

function condition(el: Element): string | undefined {
  return el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name;
}

async function iqError(client: TestClient, el: Element): Promise<IqError> {
  try {
    const result = await client.iq(el);
    assert.fail(`expected an error, got ${result.toString()}`);
  } catch (err) {
    if (!(err instanceof IqError)) throw err;
    return err;
  }
}

for (const { kind, start } of xmppServerKinds) {
  describe(`XMPP protocol basics (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gwDomain: string;

    before(async () => {
      bed = await startBed(start);
      gwDomain = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'basics');
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
    });

    test('disco#info on the component domain: gateway/simple and the implemented features', async () => {
      const res = await alice.iq(xml('iq', { type: 'get', to: gwDomain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
      const query = res.getChild('query', 'http://jabber.org/protocol/disco#info')!;
      const identity = query.getChild('identity')!;
      assert.equal(identity.attrs.category, 'gateway');
      assert.equal(identity.attrs.type, 'simple');
      const features = query.getChildren('feature').map((f) => f.attrs.var as string).sort();
      assert.deepEqual(features, [
        'http://jabber.org/protocol/disco#info',
        'http://jabber.org/protocol/disco#items',
        'jabber:iq:version',
        'jid\\20escaping',
        'urn:xmpp:ping',
      ]);
    });

    test('disco#info on a JID under the component answers for that user', async () => {
      const res = await alice.iq(xml('iq', { type: 'get', to: `bob@${gwDomain}` }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
      const query = res.getChild('query')!;
      assert.equal(query.getChild('identity')?.attrs.category, 'client');
      assert.deepEqual(query.getChildren('feature').map((f) => f.attrs.var as string).sort(), [
        'http://jabber.org/protocol/caps', // XEP-0115 §6.3: presence for SIP users carries caps
        'http://jabber.org/protocol/chatstates',
        'http://jabber.org/protocol/disco#info',
        'jid\\20escaping',
        'urn:xmpp:receipts',
      ]);
      for (const to of [gwDomain, `bob@${gwDomain}`]) {
        const err = await iqError(alice, xml('iq', { type: 'get', to }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: 'nope' })));
        assert.equal(err.condition, 'item-not-found');
      }
    });

    test('disco#items is answered, empty, for the domain and for users', async () => {
      for (const to of [gwDomain, `bob@${gwDomain}`]) {
        const res = await alice.iq(xml('iq', { type: 'get', to }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' })));
        assert.equal(res.attrs.type, 'result');
        assert.equal(res.getChild('query')?.getChildElements().length, 0);
      }
    });

    test('XEP-0199 ping to the domain gets an empty result; to a user JID service-unavailable', async () => {
      const res = await alice.iq(xml('iq', { type: 'get', to: gwDomain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(res.attrs.type, 'result');
      assert.equal(res.getChildElements().length, 0);
      const err = await iqError(alice, xml('iq', { type: 'get', to: `bob@${gwDomain}` }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(err.condition, 'service-unavailable');
    });

    test('XEP-0092 version names the gateway and its version', async () => {
      const res = await alice.iq(xml('iq', { type: 'get', to: gwDomain }, xml('query', { xmlns: 'jabber:iq:version' })));
      const q = res.getChild('query', 'jabber:iq:version')!;
      assert.equal(q.getChildText('name'), 'sip-xmpp-gateway');
      assert.match(q.getChildText('version') ?? '', /^\d+\.\d+\.\d+/);
    });

    test('an unknown IQ get or set gets service-unavailable', async () => {
      for (const type of ['get', 'set']) {
        const err = await iqError(alice, xml('iq', { type, to: gwDomain }, xml('query', { xmlns: 'urn:example:unknown' })));
        assert.equal(err.condition, 'service-unavailable');
        assert.equal(err.errorType, 'cancel');
      }
    });

    test('an IQ with two payload children is a bad-request', async () => {
      const err = await iqError(alice, xml('iq', { type: 'get', to: gwDomain },
        xml('ping', { xmlns: 'urn:xmpp:ping' }), xml('query', { xmlns: 'jabber:iq:version' })));
      assert.equal(err.condition, 'bad-request');
    });

    // The server may refuse this itself before routing it; either way the
    // sender learns why (the gateway's own check is covered in spec/unit/xmpp-router.test.ts).
    test('a presence of an unknown type is refused with bad-request', async () => {
      await alice.send(xml('presence', { to: `bob@${gwDomain}`, id: 'bogus-1', type: 'bogus' }));
      const reply = await alice.waitFor((el) => el.attrs.id === 'bogus-1', 5000);
      assert.equal(reply.attrs.type, 'error');
      assert.equal(condition(reply), 'bad-request');
    });

    test('an error stanza is never answered', async () => {
      await alice.send(xml('message', { to: `bob@${gwDomain}`, id: 'err-1', type: 'error' },
        xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }))));
      await alice.send(xml('iq', { to: gwDomain, id: 'err-2', type: 'error' },
        xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }))));
      // The server keeps order on one route: once the ping is answered, any
      // reply to the error stanzas would already have arrived.
      await alice.iq(xml('iq', { type: 'get', to: gwDomain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      const answered = alice.buffered().filter((el) => el.attrs.id === 'err-1' || el.attrs.id === 'err-2');
      assert.deepEqual(answered.map((el) => el.toString()), []);
    });

    test('presence to the gateway domain itself is ignored, not answered with an error', async () => {
      await alice.send(xml('presence', { to: gwDomain, id: 'pres-1', type: 'probe' }));
      await alice.send(xml('presence', { to: gwDomain, id: 'pres-1' }));
      await alice.iq(xml('iq', { type: 'get', to: gwDomain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(alice.buffered().filter((el) => el.attrs.id === 'pres-1' && el.attrs.type === 'error').length, 0);
    });

    test('metrics count the stanzas both ways', async () => {
      const port = await bed.gw.httpPort();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const inIq = /gateway_xmpp_stanzas_total\{direction="in",kind="iq"\} (\d+)/.exec(text);
      const outIq = /gateway_xmpp_stanzas_total\{direction="out",kind="iq"\} (\d+)/.exec(text);
      assert.ok(inIq && Number(inIq[1]) >= 10, text);
      assert.ok(outIq && Number(outIq[1]) >= 10, text);
      assert.match(text, /gateway_connection_up\{side="xmpp"\} 1/);
      assert.match(text, /gateway_connection_up\{side="sip"\} 1/);
    });
  });
}
