// A SIP user watches an XMPP user (RFC 8048 §5.3; vectors C8–C14): the
// drachtio double plays the SIP watcher, a real XMPP client with a real
// roster on Prosody and ejabberd approves or refuses, and its presence
// becomes PIDF NOTIFYs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parsePidf } from '../../src/sip/bodies/pidf.js';
import type { PresenceDoc } from '../../src/core/presence/model.js';
import { PROXY_PEER, startBed, type Bed } from '../support/bed.js';
import { buildSipRequest, type OutboundRequest } from '../support/drachtio-double/index.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const PIDF = 'application/pidf+xml';
const ALICE_SIP = 'sip:alice@example.test';
let seq = 0;

/** A SIP user at the proxy subscribes to alice's presence (RFC 8048 Ex.11). */
function subscribeRequest(watcher: string, headers: Record<string, string> = {}) {
  seq += 1;
  const callId = `s2x-${seq}-${Date.now()}@127.0.0.1`;
  const tag = `w${seq}`;
  const raw = buildSipRequest({
    method: 'SUBSCRIBE', uri: ALICE_SIP, from: `<sip:${watcher}@example.org>;tag=${tag}`, to: `<${ALICE_SIP}>`,
    callId, peer: PROXY_PEER, contact: `<sip:${watcher}@127.0.0.1:5072>`, headers: { Event: 'presence', Accept: PIDF, ...headers },
  });
  return { raw, callId, dialogId: `${callId};from-tag=${tag}` };
}

function doc(n: OutboundRequest): PresenceDoc {
  const parsed = parsePidf(n.body);
  assert.ok(parsed.ok, `PIDF: ${n.body}`);
  return parsed.value;
}

for (const { kind, start } of xmppServerKinds) {
  describe(`presence: SIP user watches an XMPP user (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gw: string;

    before(async () => {
      bed = await startBed(start, { users: ['alice'], config: { presence: { notifyIntervalMs: 200, fetchTimeoutMs: 1500, minExpires: 1 } } });
      gw = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
    });

    const isPresence = (fromJid: string, type?: string) => (el: Element) =>
      el.name === 'presence' && el.attrs.from === fromJid && el.attrs.type === type;

    /** The next NOTIFY of a dialog, answered 200. */
    async function nextNotify(callId: string, timeoutMs = 5000): Promise<OutboundRequest> {
      const n = await bed.sip.nextRequest({ method: 'NOTIFY', match: (r) => r.get('call-id') === callId, timeoutMs });
      n.respond(200);
      return n;
    }

    /** NOTIFYs of a dialog until one satisfies `pred` (the rate limit may merge states: the latest wins). */
    async function notifyUntil(callId: string, pred: (n: OutboundRequest) => boolean): Promise<OutboundRequest> {
      for (;;) {
        const n = await nextNotify(callId);
        if (pred(n)) return n;
      }
    }

    let bob: ReturnType<typeof subscribeRequest>;

    test('C8: SUBSCRIBE without Expires → 202 (Expires <= 3600), a pending NOTIFY, and subscribe to the XMPP user', async () => {
      bob = subscribeRequest('bob');
      const res = await bed.sip.inject(bob.raw, PROXY_PEER).response({ timeoutMs: 5000 });
      assert.equal(res.status, 202);
      const expires = Number(res.get('expires'));
      assert.ok(expires > 0 && expires <= 3600, `Expires ${expires}`);
      const n = await nextNotify(bob.callId);
      assert.match(n.get('subscription-state') ?? '', /^pending/);
      assert.equal(n.body, '');
      await alice.waitFor(isPresence(`bob@${gw}`, 'subscribe'), 5000);
    });

    test('C9 + C13: subscribed → NOTIFY active; the presence the server then sends → PIDF, one tuple for the resource', async () => {
      await alice.send(xml('presence', { to: `bob@${gw}`, type: 'subscribed' }));
      const n = await notifyUntil(bob.callId, (x) => x.body !== '');
      assert.match(n.get('subscription-state') ?? '', /^active;expires=\d+$/);
      assert.equal(n.get('content-type'), PIDF);
      assert.equal(n.get('event'), 'presence');
      assert.equal(n.uri, 'sip:bob@127.0.0.1:5072', 'Request-URI = the watcher\'s Contact');
      const d = doc(n);
      assert.equal(d.entity, 'pres:alice@example.test');
      assert.deepEqual(d.tuples.map((t) => [t.id, t.basic]), [['ID-balcony', 'open']]);
    });

    test('C14: show, status, priority and xml:lang → <show/>, <note/>, contact priority and Content-Language', async () => {
      await alice.send(xml('presence', { 'xml:lang': 'en' }, xml('show', {}, 'dnd'), xml('status', {}, 'Wooing'), xml('priority', {}, '13')));
      const n = await notifyUntil(bob.callId, (x) => doc(x).tuples[0]?.show === 'dnd');
      assert.equal(n.get('content-language'), 'en');
      const t = doc(n).tuples[0]!;
      assert.equal(t.basic, 'open');
      assert.deepEqual(t.notes.map((x) => x.text), ['Wooing']);
      assert.equal(t.contact?.priority, 0.102);
    });

    test('several resources → one tuple each; a resource going offline → its tuple closed', async () => {
      const phone = await connectClient(bed.xmpp, 'alice', 'pass', 'phone', { presence: true });
      const both = await notifyUntil(bob.callId, (x) => doc(x).tuples.length === 2);
      assert.deepEqual(doc(both).tuples.map((t) => [t.id, t.basic]).sort(), [['ID-balcony', 'open'], ['ID-phone', 'open']]);
      await phone.stop();
      const closed = await notifyUntil(bob.callId, (x) => doc(x).tuples.some((t) => t.id === 'ID-phone' && t.basic === 'closed'));
      assert.equal(doc(closed).tuples.find((t) => t.id === 'ID-balcony')?.basic, 'open');
    });

    test('a refresh is answered 2xx and followed by a NOTIFY with the current state (RFC 8048 §5.3.2)', async () => {
      const res = await bed.sip.injectInDialog(bob.dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '600' } })
        .response({ timeoutMs: 5000 });
      assert.ok(res.status >= 200 && res.status < 300, String(res.status));
      const n = await nextNotify(bob.callId);
      assert.match(n.get('subscription-state') ?? '', /^active;expires=(600|59\d)$/);
      assert.equal(doc(n).tuples.find((t) => t.id === 'ID-balcony')?.show, 'dnd');
    });

    test('C12: a fetch (Expires: 0, new dialog) from an authorized watcher gets one terminating NOTIFY with the state', async () => {
      const fetch = subscribeRequest('bob', { Expires: '0' });
      const res = await bed.sip.inject(fetch.raw, PROXY_PEER).response({ timeoutMs: 5000 });
      assert.ok(res.status >= 200 && res.status < 300, String(res.status));
      const n = await nextNotify(fetch.callId);
      assert.match(n.get('subscription-state') ?? '', /^terminated/);
      assert.equal(doc(n).tuples.find((t) => t.id === 'ID-balcony')?.basic, 'open');
    });

    test('C12: a fetch from a watcher the user never authorized: a probe, and a NOTIFY without presence', async () => {
      const fetch = subscribeRequest('dave', { Expires: '0' });
      assert.ok((await bed.sip.inject(fetch.raw, PROXY_PEER).response({ timeoutMs: 5000 })).status < 300);
      const n = await nextNotify(fetch.callId);
      assert.match(n.get('subscription-state') ?? '', /^terminated/);
      assert.equal(n.body, '', 'the server did not answer the probe: nothing is revealed (RFC 8048 §8.2)');
    });

    test('C10: unsubscribed (the user declines) → empty NOTIFY terminated;reason=rejected', async () => {
      const carol = subscribeRequest('carol');
      assert.equal((await bed.sip.inject(carol.raw, PROXY_PEER).response({ timeoutMs: 5000 })).status, 202);
      await nextNotify(carol.callId);
      await alice.waitFor(isPresence(`carol@${gw}`, 'subscribe'), 5000);
      await alice.send(xml('presence', { to: `carol@${gw}`, type: 'unsubscribed' }));
      const n = await nextNotify(carol.callId);
      assert.equal(n.get('subscription-state'), 'terminated;reason=rejected');
      assert.equal(n.body, '');
    });

    test('C11: in-dialog Expires: 0 → NOTIFY closed PIDF with terminated;reason=timeout, and unavailable to the user', async () => {
      const res = await bed.sip.injectInDialog(bob.dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '0' } })
        .response({ timeoutMs: 5000 });
      assert.ok(res.status >= 200 && res.status < 300, String(res.status));
      const n = await notifyUntil(bob.callId, (x) => /^terminated/.test(x.get('subscription-state') ?? ''));
      assert.equal(n.get('subscription-state'), 'terminated;reason=timeout');
      assert.ok(doc(n).tuples.length > 0 && doc(n).tuples.every((t) => t.basic === 'closed'), n.body);
      await alice.waitFor(isPresence(`bob@${gw}`, 'unavailable'), 5000);
    });

    test('a re-subscription of an authorized watcher is active at once, with the state', async () => {
      const again = subscribeRequest('bob');
      assert.equal((await bed.sip.inject(again.raw, PROXY_PEER).response({ timeoutMs: 5000 })).status, 202);
      const n = await nextNotify(again.callId);
      assert.match(n.get('subscription-state') ?? '', /^active/);
      assert.equal(doc(n).tuples.find((t) => t.id === 'ID-balcony')?.basic, 'open');
    });
  });
}
