// An XMPP user watches SIP contacts (RFC 8048 §5.2; vectors C1–C7): a real
// XMPP client with a real roster on Prosody and ejabberd, the gateway
// process, and the drachtio double playing each SIP contact's notifier.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { capsVer } from '../../src/core/caps.js';
import { startBed, type Bed } from '../support/bed.js';
import { tagOf, type OutboundRequest } from '../support/drachtio-double/index.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const PIDF = 'application/pidf+xml';
const NS_ROSTER = 'jabber:iq:roster';

function pidf(entity: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
 xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${entity}">${inner}</presence>`;
}
const tuple = (id: string, basic: 'open' | 'closed', extra = '') => `<tuple id="${id}"><status><basic>${basic}</basic>${extra}</status></tuple>`;

for (const { kind, start } of xmppServerKinds) {
  describe(`presence: XMPP user watches SIP contacts (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gw: string;

    before(async () => {
      bed = await startBed(start, { users: ['alice', 'bob'], config: { presence: { notifyIntervalMs: 200, fetchTimeoutMs: 1500 } } });
      gw = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
    });

    const from = (jid: string, type?: string) => (el: Element) =>
      el.name === 'presence' && el.attrs.from === jid && el.attrs.type === type;

    /** alice adds a SIP user to her roster and asks for their presence; returns the SUBSCRIBE. */
    async function subscribeTo(user: string): Promise<OutboundRequest> {
      await alice.send(xml('presence', { to: `${user}@${gw}`, type: 'subscribe' }));
      return bed.sip.nextRequest({ method: 'SUBSCRIBE', match: (r) => r.uri === `sip:${user}@example.org`, timeoutMs: 8000 });
    }

    function notify(dialogId: string, state: string, body?: string) {
      return bed.sip.injectInDialog(dialogId, {
        method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': state },
        ...(body !== undefined ? { body, contentType: PIDF } : {}),
      }).response({ timeoutMs: 5000 });
    }

    /** drachtio-server answers a terminating NOTIFY 500 itself before the app sees it (drachtio-protocol.md A.12 Quirk 1). */
    async function notifyTerminated(dialogId: string, state: string): Promise<void> {
      assert.equal((await notify(dialogId, state)).status, 500);
    }

    async function rosterItem(jid: string): Promise<Element | undefined> {
      const res = await alice.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })));
      return res.getChild('query', NS_ROSTER)?.getChildren('item').find((i) => i.attrs.jid === jid);
    }

    /** Everything the server got from the gateway before this has reached alice (the server keeps order on one route). */
    async function settle(): Promise<void> {
      await alice.iq(xml('iq', { type: 'get', to: gw }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    }

    const dialogOf = (sub: OutboundRequest) => `${sub.get('call-id')};from-tag=${tagOf(sub.get('from'))}`;
    let romeoDialog: string;
    let romeoSub: OutboundRequest;

    test('C1: subscribe becomes SUBSCRIBE through the proxy with Event, Accept, Expires 3600 and the mapped From', async () => {
      romeoSub = await subscribeTo('romeo');
      assert.equal(romeoSub.proxy, 'sip:127.0.0.1:5060;lr');
      assert.match(romeoSub.get('from') ?? '', /^<sip:alice@example\.test>;tag=\S+$/);
      assert.equal(romeoSub.get('to'), '<sip:romeo@example.org>');
      assert.equal(romeoSub.get('event'), 'presence');
      assert.equal(romeoSub.get('accept'), PIDF);
      assert.equal(romeoSub.get('expires'), '3600');
      assert.equal(romeoSub.get('content-length'), '0');
      romeoSub.respond(202, 'Accepted', { toTag: 'romeo-n1', headers: { Expires: '3600' } });
      romeoDialog = dialogOf(romeoSub);
    });

    test('C2: a pending NOTIFY gets 200 and no stanza', async () => {
      assert.equal((await notify(romeoDialog, 'pending;expires=3600')).status, 200);
      await settle();
      assert.deepEqual(alice.buffered().filter((el) => el.name === 'presence' && String(el.attrs.from).startsWith(`romeo@${gw}`)), []);
      assert.equal((await rosterItem(`romeo@${gw}`))?.attrs.subscription, 'none');
    });

    test('C3: the first active NOTIFY gives subscribed, then the presence of the tuple with <show/> and XEP-0115 caps', async () => {
      const body = pidf('pres:romeo@example.org', tuple('ID-dr4hcr0st3lup4c', 'open', '<show xmlns="jabber:client">away</show>'));
      assert.equal((await notify(romeoDialog, 'active;expires=499', body)).status, 200);
      await alice.waitFor(from(`romeo@${gw}`, 'subscribed'), 5000);
      const p = await alice.waitFor(from(`romeo@${gw}/dr4hcr0st3lup4c`), 5000);
      assert.equal(p.getChildText('show'), 'away');
      const c = p.getChild('c', 'http://jabber.org/protocol/caps');
      assert.ok(c, 'caps on presence for a SIP user');
      assert.equal(c.attrs.hash, 'sha-1');
      // The ver must hash what disco#info of that JID really returns (XEP-0115 §5.1, §6.2).
      const info = await alice.iq(xml('iq', { type: 'get', to: `romeo@${gw}/dr4hcr0st3lup4c` },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: `${c.attrs.node}#${c.attrs.ver}` })));
      const q = info.getChild('query')!;
      const ver = capsVer({
        identities: q.getChildren('identity').map((i) => ({ category: i.attrs.category, type: i.attrs.type, name: i.attrs.name })),
        features: q.getChildren('feature').map((f) => String(f.attrs.var)),
      });
      assert.equal(c.attrs.ver, ver);
      assert.equal((await rosterItem(`romeo@${gw}`))?.attrs.subscription, 'to', 'the real roster says alice sees romeo');
    });

    test('RPID and several tuples: one resource each, <show/> from activities, a vanished tuple becomes unavailable', async () => {
      const body = pidf('pres:romeo@example.org', tuple('desk', 'open', '') + tuple('ID-mobile', 'open')
        + '<dm:person id="p1"><rpid:activities><rpid:meeting/></rpid:activities><dm:note>In a meeting</dm:note></dm:person>');
      assert.equal((await notify(romeoDialog, 'active;expires=400', body)).status, 200);
      const desk = await alice.waitFor(from(`romeo@${gw}/desk`), 5000);
      const mobile = await alice.waitFor(from(`romeo@${gw}/mobile`), 5000);
      for (const p of [desk, mobile]) {
        assert.equal(p.getChildText('show'), 'dnd', 'meeting → dnd (mapping §3.5)');
        assert.equal(p.getChildText('status'), 'In a meeting');
      }
      await alice.waitFor(from(`romeo@${gw}/dr4hcr0st3lup4c`, 'unavailable'), 5000);
      await settle();
      assert.equal(alice.buffered().filter(from(`romeo@${gw}`, 'subscribed')).length, 0, 'subscribed only once');
    });

    test('a malformed PIDF gets 400 and changes nothing', async () => {
      assert.equal((await notify(romeoDialog, 'active;expires=400', '<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple')).status, 400);
      await settle();
      assert.equal(alice.buffered().filter((el) => el.name === 'presence' && String(el.attrs.from).startsWith(`romeo@${gw}`)).length, 0);
    });

    test('probe: a second resource logging in gets the contact\'s last presence from cache (RFC 6121 §4.3.2)', async () => {
      const garden = await connectClient(bed.xmpp, 'alice', 'pass', 'garden', { presence: true });
      try {
        const p = await garden.waitFor(from(`romeo@${gw}/desk`), 5000);
        assert.equal(p.getChildText('show'), 'dnd');
        await garden.waitFor(from(`romeo@${gw}/mobile`), 5000);
      } finally {
        await garden.stop();
      }
    });

    // The gateway then sends `unsubscribed` (Ex.9), but the user's server has already set the
    // subscription to none and silently drops it (RFC 6121 §3.2.3), so the roster is what to check.
    test('C6: unsubscribe → in-dialog SUBSCRIBE Expires: 0 (same Call-ID, CSeq+1); the roster says none', async () => {
      await alice.send(xml('presence', { to: `romeo@${gw}`, type: 'unsubscribe' }));
      const unsub = await bed.sip.nextRequest({ method: 'SUBSCRIBE', match: (r) => r.get('call-id') === romeoSub.get('call-id'), timeoutMs: 5000 });
      assert.equal(unsub.get('expires'), '0');
      assert.equal(tagOf(unsub.get('to')), 'romeo-n1');
      assert.equal(Number(/^\d+/.exec(unsub.get('cseq') ?? '')?.[0]), Number(/^\d+/.exec(romeoSub.get('cseq') ?? '')?.[0]) + 1);
      unsub.respond(200, 'OK', { headers: { Expires: '0' } });
      await notifyTerminated(romeoDialog, 'terminated;reason=timeout');
      const item = await rosterItem(`romeo@${gw}`);
      assert.ok(item === undefined || item.attrs.subscription === 'none', item?.toString());
    });

    test('C5: a SUBSCRIBE answered 403 cancels the request: unsubscribed', async () => {
      const sub = await subscribeTo('mercutio');
      sub.respond(403, 'Forbidden');
      await alice.waitFor(from(`mercutio@${gw}`, 'unsubscribed'), 5000);
    });

    test('C4 + §3.4: an active NOTIFY without a body is subscribed only; terminated;reason=rejected ends it', async () => {
      const sub = await subscribeTo('tybalt');
      sub.respond(202, 'Accepted', { toTag: 'tybalt-n', headers: { Expires: '3600' } });
      const dialog = dialogOf(sub);
      assert.equal((await notify(dialog, 'active;expires=3600')).status, 200);
      await alice.waitFor(from(`tybalt@${gw}`, 'subscribed'), 5000);
      await settle();
      assert.equal(alice.buffered().filter((el) => el.name === 'presence' && String(el.attrs.from).startsWith(`tybalt@${gw}/`)).length, 0,
        'no body: the contact\'s state is unknown, no available presence');
      await notifyTerminated(dialog, 'terminated;reason=rejected');
      await alice.waitFor(from(`tybalt@${gw}`, 'unsubscribed'), 5000);
    });

    test('refresh before expiry; terminated;reason=deactivated → a new SUBSCRIBE at once, presence flows again', async () => {
      const sub = await subscribeTo('benvolio');
      sub.respond(202, 'Accepted', { toTag: 'ben-n', headers: { Expires: '4' } });
      const dialog = dialogOf(sub);
      assert.equal((await notify(dialog, 'active;expires=4', pidf('pres:benvolio@example.org', tuple('ID-a', 'open')))).status, 200);
      await alice.waitFor(from(`benvolio@${gw}/a`), 5000);
      const refresh = await bed.sip.nextRequest({ method: 'SUBSCRIBE', match: (r) => r.get('call-id') === sub.get('call-id'), timeoutMs: 6000 });
      assert.equal(refresh.get('expires'), '3600');
      refresh.respond(200, 'OK', { headers: { Expires: '3600' } });
      await notifyTerminated(dialog, 'terminated;reason=deactivated');
      const again = await bed.sip.nextRequest({ method: 'SUBSCRIBE', match: (r) => r.uri === 'sip:benvolio@example.org', timeoutMs: 5000 });
      assert.notEqual(again.get('call-id'), sub.get('call-id'));
      again.respond(202, 'Accepted', { toTag: 'ben-n2', headers: { Expires: '3600' } });
      assert.equal((await notify(dialogOf(again), 'active;expires=3600',
        pidf('pres:benvolio@example.org', tuple('ID-a', 'open', '<show xmlns="jabber:client">xa</show>')))).status, 200);
      const p = await alice.waitFor(from(`benvolio@${gw}/a`), 5000);
      assert.equal(p.getChildText('show'), 'xa');
    });
  });
}
