// XMPP -> SIP pager mode (RFC 7572 §4) through a real server, the gateway
// process and the drachtio double: what reaches the SIP network, and how
// every SIP failure comes back to the XMPP sender.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { startBed, type Bed } from '../support/bed.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const condition = (el: Element) => el.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text')?.name;

for (const { kind, start } of xmppServerKinds) {
  describe(`XMPP to SIP messages (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gw: string;
    let seq = 0;
    const nextId = () => `x2s-${++seq}`;

    before(async () => {
      bed = await startBed(start);
      gw = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
    });

    /** Sends a message and returns the MESSAGE request the SIP network sees. */
    async function send(attrs: Record<string, string>, ...children: Element[]) {
      await alice.send(xml('message', attrs, ...children));
      return bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 5000 });
    }

    /** Proves no error came back for `id`: a ping through the same route is answered first. */
    async function noErrorFor(id: string) {
      await alice.iq(xml('iq', { type: 'get', to: gw }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.deepEqual(alice.buffered().filter((el) => el.attrs.id === id).map(String), []);
    }

    test('D1: a message to the home SIP domain becomes a MESSAGE with the GRUU in From; 200 ends it quietly', async () => {
      const id = nextId();
      const req = await send({ to: `romeo@${gw}`, id }, xml('body', {}, 'Art thou not Romeo, and a Montague?'));
      assert.equal(req.uri, 'sip:romeo@example.org');
      assert.match(req.get('from') ?? '', /^<sip:alice@example\.test;gr=balcony>;tag=/);
      assert.equal(req.get('to'), '<sip:romeo@example.org>');
      assert.equal(req.get('content-type'), 'text/plain;charset=UTF-8');
      assert.equal(req.body, 'Art thou not Romeo, and a Montague?');
      assert.equal(req.get('contact'), undefined, 'RFC 3428 §4: no Contact in MESSAGE');
      assert.equal(req.proxy, 'sip:127.0.0.1:5060;lr', 'sent through the outbound proxy');
      req.respond(200);
      await noErrorFor(id);
    });

    test('D2: a foreign SIP user by XEP-0106 escaping; the type is not mapped', async () => {
      const req = await send({ to: `romeo\\40example.net@${gw}`, id: nextId(), type: 'chat' }, xml('body', {}, 'Hi'));
      assert.equal(req.uri, 'sip:romeo@example.net');
      assert.equal(req.get('to'), '<sip:romeo@example.net>');
      req.respond(200);
    });

    test('D3: subject, thread and xml:lang become Subject, Call-ID and Content-Language; UTF-8 survives', async () => {
      const req = await send({ to: `romeo@${gw}`, id: nextId(), 'xml:lang': 'fr' },
        xml('subject', {}, 'S'), xml('body', {}, 'héllo ✓'), xml('thread', {}, 'T-thread-1'));
      assert.equal(req.get('subject'), 'S');
      assert.equal(req.get('call-id'), 'T-thread-1');
      assert.equal(req.get('content-language'), 'fr');
      assert.equal(req.body, 'héllo ✓');
      req.respond(200);
    });

    for (const [status, reason, cond, type] of [
      [404, 'Not Found', 'item-not-found', 'cancel'],
      [480, 'Temporarily Unavailable', 'recipient-unavailable', 'wait'],
      [486, 'Busy Here', 'recipient-unavailable', 'wait'],
      [503, 'Service Unavailable', 'internal-server-error', 'cancel'],
      [603, 'Decline', 'recipient-unavailable', 'wait'],
    ] as const) {
      test(`D8: a ${status} comes back as <${cond}/> with the original id and the reason as text`, async () => {
        const id = nextId();
        const req = await send({ to: `romeo@${gw}`, id }, xml('body', {}, 'are you there?'));
        req.respond(status, reason);
        const err = await alice.waitFor((el) => el.attrs.id === id, 5000);
        assert.equal(err.attrs.type, 'error');
        assert.equal(err.attrs.from, `romeo@${gw}`);
        assert.equal(err.attrs.to, alice.jid);
        assert.equal(condition(err), cond);
        assert.equal(err.getChild('error')?.attrs.type, type);
        assert.equal(err.getChild('error')?.getChildText('text', NS_STANZAS), reason);
      });
    }

    test('a transaction timeout comes back as <remote-server-timeout/>', async () => {
      const id = nextId();
      const req = await send({ to: `romeo@${gw}`, id }, xml('body', {}, 'hello?'));
      req.timeout(); // drachtio-server's own 408
      const err = await alice.waitFor((el) => el.attrs.id === id, 5000);
      assert.equal(condition(err), 'remote-server-timeout');
    });

    test('D7: a message too large for pager mode is refused with <policy-violation/> and never sent', async () => {
      const id = nextId();
      await alice.send(xml('message', { to: `romeo@${gw}`, id }, xml('body', {}, 'x'.repeat(1500))));
      const err = await alice.waitFor((el) => el.attrs.id === id, 5000);
      assert.equal(condition(err), 'policy-violation');
      assert.equal(err.getChild('error')?.attrs.type, 'modify');
      await assert.rejects(bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 300 }));
    });

    test('groupchat outside a room is <not-acceptable/>; a malformed escaped JID is <jid-malformed/>', async () => {
      const g = nextId();
      await alice.send(xml('message', { to: `romeo@${gw}`, id: g, type: 'groupchat' }, xml('body', {}, 'all')));
      assert.equal(condition(await alice.waitFor((el) => el.attrs.id === g, 5000)), 'not-acceptable');
      const m = nextId();
      await alice.send(xml('message', { to: `romeo\\40@${gw}`, id: m }, xml('body', {}, 'x')));
      assert.equal(condition(await alice.waitFor((el) => el.attrs.id === m, 5000)), 'jid-malformed');
    });

    test('XEP-0085: composing, composing, paused become two isComposing MESSAGEs (active, idle); gone none', async () => {
      const states = ['composing', 'composing', 'paused', 'gone'];
      for (const s of states) {
        await alice.send(xml('message', { to: `romeo@${gw}`, type: 'chat' }, xml(s, { xmlns: 'http://jabber.org/protocol/chatstates' })));
      }
      const first = await bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 5000 });
      assert.equal(first.get('content-type'), 'application/im-iscomposing+xml');
      assert.match(first.body, /<state>active<\/state>/);
      assert.match(first.body, /<refresh>\d+<\/refresh>/);
      first.respond(200);
      const second = await bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 5000 });
      assert.match(second.body, /<state>idle<\/state>/);
      second.respond(200);
      await assert.rejects(bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 300 }), 'no third MESSAGE for the duplicate or for <gone/>');
    });

    test('XEP-0184: a receipt request travels as CPIM with an IMDN request; the IMDN "delivered" comes back as <received/>', async () => {
      const id = nextId();
      const req = await send({ to: `romeo@${gw}`, id, type: 'chat' }, xml('body', {}, 'did you get this?'), xml('request', { xmlns: 'urn:xmpp:receipts' }));
      assert.equal(req.get('content-type'), 'message/cpim');
      assert.match(req.body, /^NS: imdn <urn:ietf:params:imdn>\r$/m);
      assert.match(req.body, /^imdn\.Disposition-Notification: positive-delivery\r$/m);
      assert.match(req.body, /^DateTime: \d{4}-\d\d-\d\dT/m);
      assert.match(req.body, /\r\n\r\nContent-Type: text\/plain;charset=UTF-8\r\n\r\ndid you get this\?$/);
      const messageId = /^imdn\.Message-ID: (\S+)\r$/m.exec(req.body)?.[1];
      assert.ok(messageId);
      req.respond(200);

      const imdn = `<?xml version="1.0" encoding="UTF-8"?>\n<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>${messageId}</message-id>`
        + `<datetime>2026-11-27T10:00:00Z</datetime><delivery-notification><status><delivered/></status></delivery-notification></imdn>`;
      const cpim = `From: <sip:romeo@example.org>\r\nTo: <sip:alice@example.test>\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: n-1\r\n`
        + `DateTime: 2026-11-27T10:00:01Z\r\n\r\nContent-Type: message/imdn+xml\r\nContent-Disposition: notification\r\n\r\n${imdn}`;
      const { sipRequest, PROXY_PEER } = await import('../support/bed.js');
      const res = await bed.sip.inject(sipRequest('MESSAGE', { from: '<sip:romeo@example.org>', uri: 'sip:alice@example.test', body: cpim, contentType: 'message/cpim' }), PROXY_PEER).response({ timeoutMs: 5000 });
      assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
      const receipt = await alice.waitFor((el) => el.getChild('received', 'urn:xmpp:receipts') !== undefined, 5000);
      assert.equal(receipt.getChild('received', 'urn:xmpp:receipts')?.attrs.id, id);
      assert.equal(receipt.attrs.from, `romeo@${gw}/sip`);
    });
  });
}
