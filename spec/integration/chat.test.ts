// Chat sessions (RFC 7573; vectors E1-E12) through a real XMPP server, the
// gateway process, the drachtio double for the SIP signalling and a separate
// MSRP endpoint playing the SIP client's media over loopback TCP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { PROXY_PEER, sipRequest, startBed, type Bed } from '../support/bed.js';
import type { OutboundRequest } from '../support/drachtio-double/index.js';
import { MsrpPeer, until, type PeerSession } from '../support/msrp-peer.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_RECEIPTS = 'urn:xmpp:receipts';
const THREAD = '29377446-0CBB-4296-8958-590D79094C50';
const SESSION_MODE = { chat: { modes: [{ sip: 'example.org', mode: 'session' }] } };

interface Call {
  invite: OutboundRequest;
  peer: PeerSession;
  dialogId: string;
  gwPath: string;
}

for (const { kind, start } of xmppServerKinds) {
  describe(`chat sessions over MSRP (${kind})`, () => {
    let bed: Bed;
    let msrp: MsrpPeer;
    let alice: TestClient;
    let gw: string;
    let seq = 0;

    before(async () => {
      bed = await startBed(start, { users: ['alice'], config: SESSION_MODE });
      gw = bed.xmpp.componentDomain;
      msrp = await MsrpPeer.start();
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
    });
    after(async () => {
      await alice?.stop();
      await msrp?.close();
      await bed?.stop();
    });

    const chat = (to: string, attrs: Record<string, string>, ...children: Element[]) =>
      alice.send(xml('message', { to, type: 'chat', ...attrs }, ...children));
    const body = (text: string) => xml('body', {}, text);
    const withBody = (text: string) => (el: Element) => el.name === 'message' && el.getChildText('body') === text;

    /** The SIP user answers the gateway's INVITE with an MSRP answer; the gateway connects (it offered: active). */
    async function answer(user: string, opts: { contact?: string } = {}): Promise<Call> {
      const invite = await bed.sip.nextRequest({ method: 'INVITE', match: (r) => r.uri === `sip:${user}@example.org`, timeoutMs: 8000 });
      const peer = msrp.session('passive');
      const gwPath = MsrpPeer.pathOf(invite.body);
      const bound = peer.session.connect(gwPath, 'passive');
      invite.respond(200, 'OK', { toTag: `t${++seq}`, body: peer.sdp, ...(opts.contact ? { contact: opts.contact } : {}) });
      const r = await bound;
      assert.ok(r.ok, r.ok ? '' : r.error);
      return { invite, peer, gwPath, dialogId: `${invite.get('call-id')};from-tag=${/tag=([^;>\s]+)/.exec(invite.get('from') ?? '')?.[1]}` };
    }

    let romeo: Call;

    test('E1 + E2: the first chat message opens an INVITE (Call-ID = thread, MSRP offer), then goes as MSRP SEND', async () => {
      await chat(`romeo@${gw}`, { id: 'a786hjs2' }, xml('thread', {}, THREAD), body('Art thou not Romeo, and a Montague?'));
      romeo = await answer('romeo', { contact: '<sip:romeo@example.org;gr=dr4hcr0st3lup4c>' });
      const inv = romeo.invite;
      assert.equal(inv.get('call-id'), THREAD);
      assert.match(inv.get('from') ?? '', /^<sip:alice@example\.test;gr=balcony>;tag=/);
      assert.equal(inv.get('contact'), '<sip:alice@example.test;gr=balcony>');
      assert.equal(inv.get('content-type'), 'application/sdp');
      assert.match(inv.body, /^m=message \d+ TCP\/MSRP \*$/m);
      assert.match(inv.body, /^a=accept-types:text\/plain application\/im-iscomposing\+xml$/m);
      assert.match(inv.body, /^a=path:msrp:\/\/127\.0\.0\.1:\d+\/\S+;tcp$/m);
      const m = await until(() => romeo.peer.messages.find((x) => x.body.toString() === 'Art thou not Romeo, and a Montague?'), 'the SEND');
      assert.equal(m.tid, 'a786hjs2', 'E2: the XMPP id is the transaction id');
      assert.equal(m.contentType.split(';')[0], 'text/plain');
      assert.equal(m.failureReport, 'no', 'RFC 7573 §7: gateways SHOULD set Failure-Report: no');
    });

    test('E3: a SEND from the SIP user arrives as a chat message with the Call-ID thread and the answering device', async () => {
      romeo.peer.session.send({ contentType: 'text/plain', body: 'Neither, fair saint, if either thee dislike.', tid: 'di2fs53v' });
      const got = await alice.waitFor(withBody('Neither, fair saint, if either thee dislike.'), 5000);
      assert.equal(got.attrs.type, 'chat');
      assert.equal(got.attrs.id, 'di2fs53v');
      assert.equal(got.attrs.from, `romeo@${gw}/dr4hcr0st3lup4c`);
      assert.equal(got.attrs.to, 'alice@example.test/balcony');
      assert.equal(got.getChildText('thread'), THREAD);
    });

    test('E12: typing both ways (composing ⇄ isComposing active/idle)', async () => {
      await chat(`romeo@${gw}`, {}, xml('composing', { xmlns: NS_CHATSTATES }));
      const c = await until(() => romeo.peer.messages.find((x) => x.contentType.startsWith('application/im-iscomposing+xml')), 'isComposing');
      assert.match(c.body.toString(), /<state>active<\/state>/);
      assert.match(c.body.toString(), /<refresh>\d+<\/refresh>/);
      romeo.peer.session.send({ contentType: 'application/im-iscomposing+xml', body: '<?xml version="1.0"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>' });
      const typing = await alice.waitFor((el) => el.name === 'message' && el.getChild('composing', NS_CHATSTATES) !== undefined, 5000);
      assert.equal(typing.getChildText('body'), null);
      assert.equal(typing.getChildText('thread'), THREAD);
    });

    test('E9 + E10: a receipt request → Success-Report: yes; the REPORT → <received id=…/>; and the reverse', async () => {
      await chat(`romeo@${gw}`, { id: 'bf9m36d5' }, body('Receipt please'), xml('request', { xmlns: NS_RECEIPTS }));
      const m = await until(() => romeo.peer.messages.find((x) => x.body.toString() === 'Receipt please'), 'the SEND');
      assert.equal(m.successReport, true);
      assert.equal(m.failureReport, 'no');
      // The peer endpoint sent its success REPORT on receipt (RFC 4975 §7.1.3).
      const rcv = await alice.waitFor((el) => el.name === 'message' && el.getChild('received', NS_RECEIPTS) !== undefined, 5000);
      assert.equal(rcv.getChild('received', NS_RECEIPTS)?.attrs.id, 'bf9m36d5');
      assert.equal(rcv.getChildText('body'), null);

      const sent = romeo.peer.session.send({ contentType: 'text/plain', body: 'Tell me you got this', successReport: true, tid: 'tid0receipt' });
      assert.ok(sent.ok);
      const got = await alice.waitFor(withBody('Tell me you got this'), 5000);
      assert.ok(got.getChild('request', NS_RECEIPTS), 'Success-Report: yes → <request/>');
      await chat(`romeo@${gw}`, {}, xml('received', { xmlns: NS_RECEIPTS, id: String(got.attrs.id) }));
      const report = await until(() => romeo.peer.reports.find((r) => r.messageId === sent.value), 'the REPORT');
      assert.equal(report.code, 200);
    });

    test('messages larger than one MSRP chunk arrive whole, both ways', async () => {
      const big = 'x'.repeat(2500) + ' middle ' + 'y'.repeat(2500);
      await chat(`romeo@${gw}`, {}, body(big));
      await until(() => romeo.peer.messages.find((x) => x.body.toString() === big), 'the reassembled message');
      const bigger = 'z'.repeat(7000);
      romeo.peer.session.send({ contentType: 'text/plain', body: bigger });
      await alice.waitFor(withBody(bigger), 5000);
    });

    test('E8: BYE from SIP → 200 and <gone/> with the thread', async () => {
      const bye = await bed.sip.injectInDialog(romeo.dialogId, { method: 'BYE' }).response({ timeoutMs: 5000 });
      assert.equal(bye.status, 200);
      const gone = await alice.waitFor((el) => el.name === 'message' && el.getChild('gone', NS_CHATSTATES) !== undefined, 5000);
      assert.equal(gone.attrs.from, `romeo@${gw}/dr4hcr0st3lup4c`);
      assert.equal(gone.getChildText('thread'), THREAD);
      await until(() => (romeo.peer.closed.length > 0 ? true : undefined), 'the MSRP session to close');
    });

    test('E7: <gone/> from XMPP → BYE (a new conversation after the last one ended)', async () => {
      await chat(`romeo@${gw}`, {}, body('Wait, come back'));
      const call = await answer('romeo');
      await until(() => call.peer.messages.find((x) => x.body.toString() === 'Wait, come back'), 'the SEND');
      assert.notEqual(call.invite.get('call-id'), THREAD);
      await chat(`romeo@${gw}`, {}, xml('gone', { xmlns: NS_CHATSTATES }));
      const bye = await bed.sip.nextRequest({ method: 'BYE', match: (r) => r.get('call-id') === call.invite.get('call-id'), timeoutMs: 5000 });
      bye.respond(200);
    });

    test('E4-E6: an INVITE with an MSRP offer is answered with our path; SENDs ⇄ chat messages in the session', async () => {
      const peer = msrp.session('active');
      const callId = `s2x-chat-${Date.now()}@127.0.0.1`;
      const tx = bed.sip.inject(sipRequest('INVITE', {
        uri: 'sip:alice@example.test', from: '<sip:romeo@example.org>', callId, body: peer.sdp, contentType: 'application/sdp',
        headers: { Contact: '<sip:romeo@127.0.0.1:5090>' },
      }), PROXY_PEER);
      const ok = await tx.response({ timeoutMs: 5000 });
      assert.equal(ok.status, 200);
      assert.equal(ok.get('content-type'), 'application/sdp');
      assert.match(ok.body, /^m=message \d+ TCP\/MSRP \*$/m);
      assert.match(ok.body, /^a=accept-types:text\/plain/m);
      assert.match(ok.body, /^a=path:msrp:\/\/127\.0\.0\.1:\d+\/\S+;tcp$/m);
      tx.ack();
      const r = await peer.session.connect(MsrpPeer.pathOf(ok.body), 'active');
      assert.ok(r.ok, r.ok ? '' : r.error);
      peer.session.send({ contentType: 'text/plain', body: 'I take thee at thy word ...', tid: 'ad49kswow' });
      const got = await alice.waitFor(withBody('I take thee at thy word ...'), 5000);
      assert.equal(got.attrs.id, 'ad49kswow');
      assert.equal(got.attrs.from, `romeo@${gw}/sip`);
      assert.equal(got.getChildText('thread'), callId);
      await chat(`romeo@${gw}`, { id: 'ms53b7z9' }, body('What man art thou ...?'));
      const m = await until(() => peer.messages.find((x) => x.body.toString() === 'What man art thou ...?'), 'the reply in the session');
      assert.equal(m.tid, 'ms53b7z9');
      assert.equal(m.failureReport, 'no');
      const bye = await bed.sip.injectInDialog(`${callId};from-tag=${/tag=([^;>\s]+)/.exec(tx.request.get('from') ?? '')?.[1]}`, { method: 'BYE' })
        .response({ timeoutMs: 5000 });
      assert.equal(bye.status, 200);
    });

    test('an INVITE without an MSRP stream gets 488; a chat to a SIP user who refuses MSRP falls back to MESSAGE', async () => {
      const offerless = await bed.sip.inject(sipRequest('INVITE', { headers: { Contact: '<sip:bob@127.0.0.1:5090>' } }), PROXY_PEER)
        .response({ timeoutMs: 5000 });
      assert.equal(offerless.status, 488, 'no SDP offer: the gateway makes no offer in a 2xx');
      assert.match(offerless.get('warning') ?? '', /^399 /);
      const audio = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
      const res = await bed.sip.inject(sipRequest('INVITE', { body: audio, contentType: 'application/sdp', headers: { Contact: '<sip:bob@127.0.0.1:5090>' } }), PROXY_PEER)
        .response({ timeoutMs: 5000 });
      assert.equal(res.status, 488);

      await chat(`benvolio@${gw}`, {}, body('Do you do MSRP?'));
      const inv = await bed.sip.nextRequest({ method: 'INVITE', match: (r) => r.uri === 'sip:benvolio@example.org', timeoutMs: 8000 });
      inv.respond(488, 'Not Acceptable Here');
      const msg = await bed.sip.nextRequest({ method: 'MESSAGE', match: (r) => r.body === 'Do you do MSRP?', timeoutMs: 5000 });
      msg.respond(200);
      // The pair is remembered: the next message goes straight to MESSAGE.
      await chat(`benvolio@${gw}`, {}, body('Then pager it is'));
      const next = await bed.sip.nextRequest({ method: 'MESSAGE', match: (r) => r.body === 'Then pager it is', timeoutMs: 5000 });
      next.respond(200);
      assert.equal(bed.sip.requests.filter((r) => r.method === 'INVITE' && r.uri === 'sip:benvolio@example.org').length, 1);
    });

    test('an INVITE refused with 486 turns into an error for the queued message', async () => {
      await chat(`tybalt@${gw}`, { id: 'busy-1' }, body('Are you there?'));
      const inv = await bed.sip.nextRequest({ method: 'INVITE', match: (r) => r.uri === 'sip:tybalt@example.org', timeoutMs: 8000 });
      inv.respond(486, 'Busy Here');
      const err = await alice.waitFor((el) => el.name === 'message' && el.attrs.type === 'error' && el.attrs.id === 'busy-1', 5000);
      assert.ok(err.getChild('error')?.getChild('recipient-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'), err.toString());
    });

    test('malformed MSRP input closes that connection only; sessions keep working', async () => {
      await chat(`mercutio@${gw}`, {}, body('Before the garbage'));
      const call = await answer('mercutio');
      await until(() => call.peer.messages.find((x) => x.body.toString() === 'Before the garbage'), 'the SEND');
      const port = Number(/:(\d+)\//.exec(call.gwPath)?.[1]);
      const raw = connect({ host: '127.0.0.1', port });
      await once(raw, 'connect');
      raw.write('MSRP abcd SEND\r\nTo-Path: not a uri\r\n\r\n-------abcd$\r\nGARBAGE\r\n');
      await once(raw, 'close');
      await chat(`mercutio@${gw}`, {}, body('After the garbage'));
      await until(() => call.peer.messages.find((x) => x.body.toString() === 'After the garbage'), 'the next SEND');
      const health = await bed.gw.health();
      assert.equal(health.status, 200);
    });
  });
}

describe('chat session limits, inactivity, unavailable presence and shutdown (prosody)', () => {
  let bed: Bed;
  let msrp: MsrpPeer;
  let alice: TestClient;
  let gw: string;

  before(async () => {
    bed = await startBed(xmppServerKinds[0]!.start, {
      users: ['alice'], config: { chat: { modes: [{ sip: 'example.org', mode: 'session' }], maxPerUser: 1, inactivityMs: 1500 } },
    });
    gw = bed.xmpp.componentDomain;
    msrp = await MsrpPeer.start();
    alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
  });
  after(async () => {
    await alice?.stop();
    await msrp?.close();
    await bed?.stop();
  });

  async function open(user: string, text: string): Promise<{ invite: OutboundRequest; peer: PeerSession }> {
    await alice.send(xml('message', { to: `${user}@${gw}`, type: 'chat' }, xml('body', {}, text)));
    const invite = await bed.sip.nextRequest({ method: 'INVITE', match: (r) => r.uri === `sip:${user}@example.org`, timeoutMs: 8000 });
    const peer = msrp.session('passive');
    const bound = peer.session.connect(MsrpPeer.pathOf(invite.body), 'passive');
    invite.respond(200, 'OK', { body: peer.sdp });
    assert.ok((await bound).ok);
    await until(() => peer.messages.find((m) => m.body.toString() === text), 'the first SEND');
    return { invite, peer };
  }

  test('inactivity ends the session with BYE and <gone/>', async () => {
    const { invite } = await open('romeo', 'Hello, then silence');
    const bye = await bed.sip.nextRequest({ method: 'BYE', match: (r) => r.get('call-id') === invite.get('call-id'), timeoutMs: 6000 });
    bye.respond(200);
    await alice.waitFor((el) => el.name === 'message' && el.getChild('gone', NS_CHATSTATES) !== undefined && el.attrs.from?.startsWith(`romeo@${gw}`), 3000);
  });

  test('per-user limit: a second conversation goes in pager mode; an INVITE to the busy user gets 486', async () => {
    await open('romeo', 'first conversation');
    await alice.send(xml('message', { to: `tybalt@${gw}`, type: 'chat' }, xml('body', {}, 'second conversation')));
    const msg = await bed.sip.nextRequest({ method: 'MESSAGE', match: (r) => r.body === 'second conversation', timeoutMs: 5000 });
    msg.respond(200);
    const peer = msrp.session('active');
    const res = await bed.sip.inject(sipRequest('INVITE', {
      from: '<sip:nurse@example.org>', body: peer.sdp, contentType: 'application/sdp', headers: { Contact: '<sip:nurse@127.0.0.1:5090>' },
    }), PROXY_PEER).response({ timeoutMs: 5000 });
    assert.equal(res.status, 486);
  });

  test('the XMPP user going unavailable ends their session with BYE', async () => {
    const before = bed.sip.requests.filter((r) => r.method === 'BYE').length;
    // Directed presence to romeo, then going offline: the server sends unavailable to romeo (RFC 6121 §4.6.3).
    await alice.send(xml('presence', { to: `romeo@${gw}` }));
    await alice.send(xml('presence', { to: `romeo@${gw}`, type: 'unavailable' }));
    const bye = await until(() => bed.sip.requests.filter((r) => r.method === 'BYE')[before], 'a BYE');
    bye.respond(200);
    // This bed also ends idle sessions after 1.5 s: the BYE must be the unavailable presence's.
    const ended = await bed.gw.waitForLog((l) => l.message === 'chat session ended' && l.callId === bye.get('call-id'), 5000);
    assert.equal(ended.why, 'the XMPP user went unavailable');
  });

  test('shutdown ends every session with BYE', async () => {
    const { invite } = await open('paris', 'until the end');
    const stopped = bed.gw.stop();
    const bye = await bed.sip.nextRequest({ method: 'BYE', match: (r) => r.get('call-id') === invite.get('call-id'), timeoutMs: 5000 });
    bye.respond(200);
    const ended = await bed.gw.waitForLog((l) => l.message === 'chat session ended' && l.callId === invite.get('call-id'), 5000);
    assert.equal(ended.why, 'gateway shutting down', 'not the 1.5 s inactivity timer of this bed');
    const exit = await stopped;
    assert.equal(exit.code, 0);
  });
});
