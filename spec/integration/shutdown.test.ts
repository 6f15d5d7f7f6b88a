// Graceful shutdown: the process on SIGTERM/SIGINT, and the drain itself
// (new work refused, work in flight finished) with a gateway in this process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import { DrachtioDouble } from '../support/drachtio-double/index.js';
import { DRACHTIO_SECRET, gatewayConfig, PROXY_PEER as PEER, sipRequest } from '../support/bed.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { connectClient, xmppServerKinds, type XmppServer } from '../support/xmpp-servers/index.js';
import { inProcessGateway } from '../support/in-process.js';
import type { Gateway } from '../../src/gateway.js';

for (const { kind, start } of xmppServerKinds) {
  describe(`process shutdown (${kind})`, () => {
    let xmpp: XmppServer;
    let sip: DrachtioDouble;
    before(async () => {
      xmpp = await start({ users: [{ name: 'alice', password: 'pass' }] });
      sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    });
    after(async () => {
      await sip?.stop();
      await xmpp?.stop();
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      test(`${signal}: exit 0, both links closed, the server routes to the component no more`, async () => {
        const gw = GatewayProcess.spawn(gatewayConfig(xmpp, sip));
        await gw.waitForHealth(200);
        await sip.waitForApps(1);
        const { code } = await gw.stop(signal);
        assert.equal(code, 0, gw.tail());
        assert.ok(gw.lines.some((l) => l.message === 'shutting down' && l.signal === signal));
        assert.ok(gw.lines.some((l) => l.message === 'gateway stopped'));
        await sip.waitFor(() => (sip.connectedApps === 0 ? true : undefined), 'the app to disconnect');
        // The component is gone from the server: a stanza to it bounces with an error.
        const alice = await connectClient(xmpp, 'alice', 'pass', `after-${signal}`);
        try {
          await alice.send(xml('message', { to: `bob@${xmpp.componentDomain}`, id: 'after-stop', type: 'chat' }, xml('body', {}, 'hi')));
          const bounce = await alice.waitFor((el) => el.attrs.id === 'after-stop', 10000);
          assert.equal(bounce.attrs.type, 'error');
        } finally {
          await alice.stop();
        }
      });
    }
  });
}

describe('draining in-flight work', () => {
  let xmpp: XmppServer;
  let sip: DrachtioDouble;
  let gateway: Gateway;
  let logLines: Array<Record<string, unknown>>;
  before(async () => {
    xmpp = await xmppServerKinds[0]!.start({ users: [] });
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    ({ gateway, logLines } = inProcessGateway(xmpp, sip));
  });
  after(async () => {
    await gateway?.stop();
    await sip?.stop();
    await xmpp?.stop();
  });

  test('new SIP requests get 503 with Retry-After, the one in flight still gets its answer, then both links close', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => { started = r; });
    gateway.sipRouter.handle('INFO', async (_req, res) => {
      started();
      await released;
      res.send(200);
    });
    await gateway.start();
    await sip.waitForRoute('info');

    const slow = sip.inject(sipRequest('INFO'), PEER);
    await handlerStarted;
    const stopping = gateway.stop();
    assert.equal(gateway.health.report().status, 'shutting-down');
    const port = gateway.httpPort!;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 503);

    const refused = await sip.inject(sipRequest('OPTIONS'), PEER).response();
    assert.equal(refused.status, 503);
    assert.equal(refused.get('retry-after'), '5');

    release();
    assert.equal((await slow.response()).status, 200);
    await stopping;
    assert.equal(gateway.xmpp.isOnline, false);
    await sip.waitFor(() => (sip.connectedApps === 0 ? true : undefined), 'the app to disconnect');
    assert.ok(logLines.some((l) => l.message === 'gateway stopped'));
  });
});
