// Presence survives a gateway restart (issue 4, item 5): subscriptions in
// both directions are active, the gateway process is restarted on the same
// data directory (gracefully, then by a crash), and presence flows again
// without any XMPP client doing anything. The SIP watcher behaves as a phone
// does: it re-subscribes when told `deactivated` (RFC 6665 §4.1.3), or when
// its refresh of a dialog the gateway lost fails (RFC 3261 §12.2.1.2).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parsePidf } from '../../src/sip/bodies/pidf.js';
import { PROXY_PEER, gatewayConfig, startBed, type Bed } from '../support/bed.js';
import { buildSipRequest, tagOf, type OutboundRequest } from '../support/drachtio-double/index.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { connectClient, xmppServerKinds, type TestClient } from '../support/xmpp-servers/index.js';

const PIDF = 'application/pidf+xml';
const romeoPidf = (show: string) => '<?xml version="1.0"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:romeo@example.org">'
  + `<tuple id="ID-desk"><status><basic>open</basic><show xmlns="jabber:client">${show}</show></status></tuple></presence>`;

for (const { kind, start } of xmppServerKinds) {
  describe(`presence across gateway restarts (${kind})`, () => {
    let bed: Bed;
    let alice: TestClient;
    let gw: string;
    let dataDir: string;
    let config: Record<string, unknown>;
    let seq = 0;

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'gw-presence-'));
      config = { dataDir, presence: { notifyIntervalMs: 200, restoreRate: 50 } };
      bed = await startBed(start, { users: ['alice'], config });
      gw = bed.xmpp.componentDomain;
      alice = await connectClient(bed.xmpp, 'alice', 'pass', 'balcony', { presence: true });
      // As real clients do: a resource that fetched the roster is "interested" (RFC 6121 §2.1.6)
      // and gets subscription approvals and roster pushes; Prosody delivers them to no other.
      await alice.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    });
    after(async () => {
      await alice?.stop();
      await bed?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const romeoPresence = (show: string) => (el: Element) =>
      el.name === 'presence' && el.attrs.from === `romeo@${gw}/desk` && el.attrs.type === undefined && el.getChildText('show') === show;

    /** The contact romeo answers a (re)SUBSCRIBE and reports `show`. */
    async function romeoAnswers(show: string): Promise<string> {
      const sub = await bed.sip.nextRequest({ method: 'SUBSCRIBE', match: (r) => r.uri === 'sip:romeo@example.org' && r.get('expires') !== '0', timeoutMs: 10000 });
      sub.respond(202, 'Accepted', { toTag: `romeo-${++seq}`, headers: { Expires: '3600' } });
      const dialogId = `${sub.get('call-id')};from-tag=${tagOf(sub.get('from'))}`;
      const res = await bed.sip.injectInDialog(dialogId, {
        method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=3600' }, body: romeoPidf(show), contentType: PIDF,
      }).response({ timeoutMs: 5000 });
      assert.equal(res.status, 200);
      return dialogId;
    }

    /** The SIP phone bob subscribes to alice; resolves with the dialog once a NOTIFY carried alice's state. */
    async function bobSubscribes(): Promise<{ callId: string; dialogId: string; state: OutboundRequest }> {
      seq += 1;
      const callId = `bob-${seq}-${Date.now()}@127.0.0.1`;
      const raw = buildSipRequest({
        method: 'SUBSCRIBE', uri: 'sip:alice@example.test', from: `<sip:bob@example.org>;tag=b${seq}`, to: '<sip:alice@example.test>',
        callId, peer: PROXY_PEER, contact: '<sip:bob@127.0.0.1:5072>', headers: { Event: 'presence', Accept: PIDF, Expires: '600' },
      });
      assert.equal((await bed.sip.inject(raw, PROXY_PEER).response({ timeoutMs: 5000 })).status, 202);
      const state = await bobNotify(callId, (n) => n.body !== '');
      return { callId, dialogId: `${callId};from-tag=b${seq}`, state };
    }

    async function bobNotify(callId: string, pred: (n: OutboundRequest) => boolean, timeoutMs = 8000): Promise<OutboundRequest> {
      for (;;) {
        const n = await bed.sip.nextRequest({ method: 'NOTIFY', match: (r) => r.get('call-id') === callId, timeoutMs });
        n.respond(200);
        if (pred(n)) return n;
      }
    }

    const showOf = (n: OutboundRequest) => {
      const d = parsePidf(n.body);
      assert.ok(d.ok, n.body);
      return d.value.tuples.find((t) => t.id === 'ID-balcony')?.show;
    };

    async function restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
      await bed.gw.stop(signal);
      bed.gw = GatewayProcess.spawn(gatewayConfig(bed.xmpp, bed.sip, config));
      await bed.gw.waitForHealth(200);
    }

    let bob: { callId: string; dialogId: string };

    test('both directions active before the restart', async () => {
      await alice.send(xml('presence', { to: `romeo@${gw}`, type: 'subscribe' }));
      await romeoAnswers('away');
      await alice.waitFor((el) => el.name === 'presence' && el.attrs.type === 'subscribed' && el.attrs.from === `romeo@${gw}`, 5000);
      await alice.waitFor(romeoPresence('away'), 5000);

      const pending = bobSubscribes();
      await alice.waitFor((el) => el.name === 'presence' && el.attrs.type === 'subscribe' && el.attrs.from === `bob@${gw}`, 5000);
      await alice.send(xml('presence', { to: `bob@${gw}`, type: 'subscribed' }));
      bob = await pending;
    });

    test('graceful restart: the gateway resubscribes to romeo, bob is told deactivated and re-subscribes; presence flows both ways', async () => {
      // RFC 6665 §4.1.3: on the way down the notifier ends bob's dialog with reason=deactivated.
      const deactivated = bobNotify(bob.callId, (n) => n.get('subscription-state') === 'terminated;reason=deactivated');
      await restart('SIGTERM');
      await deactivated;
      // X->S: no client action; the stored subscription is re-established and romeo's news reach alice.
      await romeoAnswers('xa');
      await alice.waitFor(romeoPresence('xa'), 10000);
      // S->X: the phone re-subscribes and gets alice's state at once (the restart probed her), then her changes.
      const again = await bobSubscribes();
      bob = again;
      const first = parsePidf(again.state.body);
      assert.ok(first.ok);
      assert.equal(first.value.tuples.find((t) => t.id === 'ID-balcony')?.basic, 'open');
      await alice.send(xml('presence', {}, xml('show', {}, 'away')));
      const n = await bobNotify(bob.callId, (x) => x.body !== '' && showOf(x) === 'away');
      assert.match(n.get('subscription-state') ?? '', /^active/);
    });

    test('crash restart: romeo is resubscribed; bob\'s refresh of the lost dialog is not answered, his new subscription works', async () => {
      await restart('SIGKILL');
      await romeoAnswers('dnd');
      await alice.waitFor(romeoPresence('dnd'), 10000);
      // drachtio-server keeps the dialog but no longer routes its requests to any app
      // (drachtio-protocol.md A.4, v0.9.5): the refresh times out at the phone, which
      // ends the dialog (RFC 3261 §12.2.1.2) and subscribes anew (docs/presence.md).
      const refresh = bed.sip.injectInDialog(bob.dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '600' } });
      await assert.rejects(refresh.response({ timeoutMs: 1500 }), /timed out/);
      bob = await bobSubscribes();
      await alice.send(xml('presence', {}, xml('show', {}, 'chat')));
      await bobNotify(bob.callId, (x) => x.body !== '' && showOf(x) === 'chat');
    });
  });
}
