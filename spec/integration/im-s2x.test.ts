// SIP -> XMPP pager mode (RFC 7572 §5) through the drachtio double, the
// gateway process and a real server: what the XMPP user receives, and the
// SIP final response telling the truth about it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { PROXY_PEER, sipRequest, startBed, type Bed, type SipRequestOptions } from '../support/bed.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

for (const { kind, start } of xmppServerKinds) {
  describe(`SIP to XMPP messages (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gw: string;
    let seq = 0;

    before(async () => {
      bed = await startBed(start, { users: ['alice', 'bob', 'carol'] });
      gw = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
    });

    function message(opts: SipRequestOptions & { body?: string } = {}) {
      return bed.sip.inject(sipRequest('MESSAGE', { body: `hello ${++seq}`, ...opts }), opts.peer ?? PROXY_PEER);
    }
    const withBody = (text: string) => (el: Element) => el.name === 'message' && el.getChildText('body') === text;

    test('D4: a MESSAGE reaches the XMPP user from the mapped sender; 202 Accepted, no body, no Contact', async () => {
      const tx = message({ body: 'Neither, fair saint, if either thee dislike.', callId: 'call-d4@example.org' });
      const res = await tx.response({ timeoutMs: 5000 });
      assert.equal(res.status, 202);
      assert.equal(res.body, '');
      assert.equal(res.get('contact'), undefined);
      const got = await alice.waitFor(withBody('Neither, fair saint, if either thee dislike.'), 5000);
      assert.equal(got.attrs.from, `bob@${gw}/sip`);
      assert.ok(got.attrs.to === 'alice@example.test' || got.attrs.to?.startsWith('alice@example.test/'), got.attrs.to);
      assert.ok(got.attrs.type === undefined || got.attrs.type === 'normal', 'RFC 7572 §5: no type or normal');
      assert.equal(got.getChildText('thread'), 'call-d4@example.org');
    });

    test('a sender without GRUU arrives from the same full JID every time; with a GRUU from that resource', async () => {
      const froms: string[] = [];
      for (const text of ['one', 'two']) {
        assert.equal((await message({ body: text }).response({ timeoutMs: 5000 })).status, 202);
        froms.push(String((await alice.waitFor(withBody(text), 5000)).attrs.from));
      }
      assert.deepEqual(froms, [`bob@${gw}/sip`, `bob@${gw}/sip`]);
      await message({ body: 'from the desk', from: '<sip:bob@example.org;gr=desk>' }).response({ timeoutMs: 5000 });
      assert.equal((await alice.waitFor(withBody('from the desk'), 5000)).attrs.from, `bob@${gw}/desk`);
      await message({ body: 'from afar', from: '<sip:romeo@example.net>' }).response({ timeoutMs: 5000 });
      assert.equal((await alice.waitFor(withBody('from afar'), 5000)).attrs.from, `romeo\\40example.net@${gw}/sip`);
    });

    test('characters XML forbids are dropped, so the server never sees a malformed stanza', async () => {
      assert.equal((await message({ body: 'bell\u0007 and \u0001 escape' }).response({ timeoutMs: 5000 })).status, 202);
      await alice.waitFor(withBody('bell and  escape'), 5000);
      // The component stream survived: the next message still flows.
      assert.equal((await message({ body: 'still here' }).response({ timeoutMs: 5000 })).status, 202);
      await alice.waitFor(withBody('still here'), 5000);
    });

    test('D5: Content-Language and Subject become xml:lang and <subject/>', async () => {
      await message({ body: 'Ahoj', headers: { 'Content-Language': 'cs', Subject: 'Pozdrav' } }).response({ timeoutMs: 5000 });
      const got = await alice.waitFor(withBody('Ahoj'), 5000);
      assert.equal(got.attrs['xml:lang'], 'cs');
      assert.equal(got.getChildText('subject'), 'Pozdrav');
    });

    test('a Request-URI with a GRUU reaches that resource only', async () => {
      const res = await message({ body: 'to the balcony', uri: 'sip:alice@example.test;gr=balcony' }).response({ timeoutMs: 5000 });
      assert.equal(res.status, 202);
      assert.equal((await alice.waitFor(withBody('to the balcony'), 5000)).attrs.to, 'alice@example.test/balcony');
    });

    test('D6: text/html arrives as a plain body plus XHTML-IM, scripts removed', async () => {
      await message({ body: '<p>Hello <b>there</b><script>alert(1)</script></p>', contentType: 'text/html;charset=UTF-8' }).response({ timeoutMs: 5000 });
      const got = await alice.waitFor((el) => el.getChild('html', 'http://jabber.org/protocol/xhtml-im') !== undefined, 5000);
      assert.equal(got.getChildText('body')?.trim(), 'Hello there');
      assert.ok(!got.toString().includes('alert'));
      assert.ok(got.getChild('html')?.getChild('body', 'http://www.w3.org/1999/xhtml')?.toString().includes('<strong>there</strong>'));
    });

    test('message/cpim is unwrapped: its From is the sender and its DateTime a XEP-0203 delay', async () => {
      const cpim = 'From: <sip:romeo@example.net>\r\nTo: <sip:alice@example.test>\r\nDateTime: 2026-11-27T08:30:00Z\r\n\r\n'
        + 'Content-Type: text/plain;charset=UTF-8\r\n\r\nwrapped';
      assert.equal((await message({ body: cpim, contentType: 'message/cpim' }).response({ timeoutMs: 5000 })).status, 202);
      const got = await alice.waitFor(withBody('wrapped'), 5000);
      assert.equal(got.attrs.from, `romeo\\40example.net@${gw}/sip`);
      assert.equal(got.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, '2026-11-27T08:30:00.000Z');
    });

    test('an unknown XMPP user: the server\'s bounce becomes the SIP final response, not a 202', async () => {
      const res = await message({ uri: 'sip:nobody@example.test' }).response({ timeoutMs: 5000 });
      // service-unavailable for a bare JID: 403, never 503 (RFC 7247 §7.1 note 5).
      assert.ok(res.status === 403 || res.status === 404 || res.status === 604, `got ${res.status}`);
    });

    test('an offline XMPP user: the server stores the message, so 202', async () => {
      const res = await message({ uri: 'sip:carol@example.test', body: 'for later' }).response({ timeoutMs: 5000 });
      assert.equal(res.status, 202);
      const carol = await connectClient(bed.xmpp, 'carol', 'pass', 'later', { presence: true });
      try {
        const got = await carol.waitFor(withBody('for later'), 5000);
        assert.equal(got.attrs.from, `bob@${gw}/sip`);
      } finally {
        await carol.stop();
      }
    });

    test('refusals: unsupported body 415 with Accept, sips: 403, unknown domain 404, bad From 400', async () => {
      const unsupported = await message({ body: '{"a":1}', contentType: 'application/json' }).response({ timeoutMs: 5000 });
      assert.equal(unsupported.status, 415);
      assert.match(unsupported.get('accept') ?? '', /text\/plain/);
      assert.equal((await message({ uri: 'sips:alice@example.test' }).response({ timeoutMs: 5000 })).status, 403);
      assert.equal((await message({ uri: 'sip:alice@elsewhere.example' }).response({ timeoutMs: 5000 })).status, 404);
      assert.equal((await message({ from: '<sip:%ZZ@example.org>' }).response({ timeoutMs: 5000 })).status, 400);
      assert.equal((await message({ from: '<sip:loop@example.test>' }).response({ timeoutMs: 5000 })).status, 403);
    });

    test('XEP-0085: isComposing active becomes <composing/>, idle becomes <active/>', async () => {
      const doc = (state: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>${state}</state><refresh>90</refresh></isComposing>`;
      await message({ body: doc('active'), contentType: 'application/im-iscomposing+xml' }).response({ timeoutMs: 5000 });
      const composing = await alice.waitFor((el) => el.getChild('composing', 'http://jabber.org/protocol/chatstates') !== undefined, 5000);
      assert.equal(composing.attrs.type, 'chat');
      assert.equal(composing.getChild('body'), undefined);
      await message({ body: doc('idle'), contentType: 'application/im-iscomposing+xml' }).response({ timeoutMs: 5000 });
      await alice.waitFor((el) => el.getChild('active', 'http://jabber.org/protocol/chatstates') !== undefined, 5000);
    });

    test('RFC 3994 §4: an "active" that is not refreshed in time ends as <active/> for the XMPP user', async () => {
      const doc = '<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><refresh>1</refresh></isComposing>';
      await message({ body: doc, contentType: 'application/im-iscomposing+xml', from: '<sip:dave@example.org>' }).response({ timeoutMs: 5000 });
      const fromDave = (state: string) => (el: Element) => el.attrs.from === `dave@${gw}/sip` && el.getChild(state, 'http://jabber.org/protocol/chatstates') !== undefined;
      await alice.waitFor(fromDave('composing'), 5000);
      await alice.waitFor(fromDave('active'), 5000);
    });

    test('an IMDN request becomes <request/>; the user\'s <received/> goes back as an IMDN "delivered"', async () => {
      const cpim = 'From: <sip:bob@example.org>\r\nTo: <sip:alice@example.test>\r\nDateTime: 2026-11-27T09:00:00Z\r\n'
        + 'NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 34jk324j\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\n'
        + 'Content-Type: text/plain;charset=UTF-8\r\n\r\nplease confirm';
      await message({ body: cpim, contentType: 'message/cpim' }).response({ timeoutMs: 5000 });
      const got = await alice.waitFor(withBody('please confirm'), 5000);
      assert.ok(got.getChild('request', 'urn:xmpp:receipts'));
      assert.ok(got.getChild('markable', 'urn:xmpp:chat-markers:0'));
      await alice.send(xml('message', { to: String(got.attrs.from), type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: String(got.attrs.id) })));
      const imdn = await bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 5000 });
      assert.equal(imdn.uri, 'sip:bob@example.org');
      assert.equal(imdn.get('content-type'), 'message/cpim');
      assert.match(imdn.body, /Content-Type: message\/imdn\+xml\r\nContent-Disposition: notification/);
      assert.match(imdn.body, /<message-id>34jk324j<\/message-id>/);
      assert.match(imdn.body, /<delivered\/>/);
      assert.match(imdn.body, /<datetime>2026-11-27T09:00:00(\.000)?Z<\/datetime>/);
      imdn.respond(200);
      await alice.send(xml('message', { to: String(got.attrs.from), type: 'chat' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: String(got.attrs.id) })));
      const display = await bed.sip.nextRequest({ method: 'MESSAGE', timeoutMs: 5000 });
      assert.match(display.body, /<display-notification><status><displayed\/><\/status><\/display-notification>/);
      display.respond(200);
    });
  });
}
