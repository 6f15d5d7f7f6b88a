// Either side going away while the gateway runs: it notices, says so on
// /healthz, reconnects on its own, and traffic flows again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import { DrachtioDouble } from '../support/drachtio-double/index.js';
import { DRACHTIO_SECRET, gatewayConfig, PROXY_PEER, sipRequest, startBed, type Bed } from '../support/bed.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { connectClient, xmppServerKinds, type XmppServer } from '../support/xmpp-servers/index.js';

async function metric(gw: GatewayProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${await gw.httpPort()}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function pingThroughServer(server: XmppServer): Promise<void> {
  const client = await connectClient(server, 'alice', 'pass', `probe-${Date.now()}`);
  try {
    const res = await client.iq(xml('iq', { type: 'get', to: server.componentDomain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(res.attrs.type, 'result');
  } finally {
    await client.stop();
  }
}

async function optionsAnswered(sip: DrachtioDouble): Promise<number> {
  return (await sip.inject(sipRequest('OPTIONS'), PROXY_PEER).response()).status;
}

for (const { kind, start } of xmppServerKinds) {
  describe(`the XMPP server goes away (${kind})`, () => {
    let bed: Bed;
    before(async () => { bed = await startBed(start); });
    after(async () => { await bed?.stop(); });

    test('killed: /healthz turns 503 naming xmpp; restarted: 200 again and stanzas flow', async () => {
      await pingThroughServer(bed.xmpp);
      await bed.xmpp.kill();
      await bed.gw.waitForHealth(503);
      const down = await bed.gw.health();
      assert.deepEqual(down.body.down, ['xmpp']);
      await bed.gw.waitForMessage('XMPP link lost, reconnecting');
      await bed.xmpp.restart();
      await bed.gw.waitForHealth(200, 20000);
      await bed.gw.waitForMessage('XMPP link re-established');
      await pingThroughServer(bed.xmpp);
      assert.ok(await metric(bed.gw, /gateway_reconnects_total\{side="xmpp"\} (\d+)/) >= 1);
      assert.equal(await metric(bed.gw, /gateway_connection_up\{side="xmpp"\} (\d+)/), 1);
    });
  });
}

describe('drachtio-server goes away', () => {
  let bed: Bed;
  before(async () => { bed = await startBed(xmppServerKinds[0]!.start); });
  after(async () => { await bed?.stop(); });

  test('restarted: /healthz turns 503 naming sip, then 200; routes are re-sent and requests answered', async () => {
    assert.equal(await optionsAnswered(bed.sip), 200);
    const routesBefore = bed.sip.frames.filter((f) => f.direction === 'app->server' && f.tokens[1] === 'route').length;
    await bed.sip.restart();
    await bed.gw.waitForHealth(503);
    assert.deepEqual((await bed.gw.health()).body.down, ['sip']);
    await bed.gw.waitForHealth(200, 20000);
    await bed.sip.waitForRoute('options');
    const routesAfter = bed.sip.frames.filter((f) => f.direction === 'app->server' && f.tokens[1] === 'route').length;
    assert.ok(routesAfter >= routesBefore + 8, `routes re-sent: ${routesBefore} -> ${routesAfter}`);
    assert.equal(await optionsAnswered(bed.sip), 200);
    assert.ok(await metric(bed.gw, /gateway_reconnects_total\{side="sip"\} (\d+)/) >= 1);
  });
});

describe('a half-open XMPP link', () => {
  let xmpp: XmppServer;
  let sip: DrachtioDouble;
  let proxy: TcpProxy;
  let gw: GatewayProcess;
  before(async () => {
    xmpp = await xmppServerKinds[0]!.start({ users: [{ name: 'alice', password: 'pass' }] });
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    proxy = await TcpProxy.start('127.0.0.1', xmpp.componentPort);
    gw = GatewayProcess.spawn(gatewayConfig({ ...xmpp, componentPort: proxy.port }, sip, {
      xmpp: { keepalive: { intervalMs: 300, timeoutMs: 300 } },
    }));
    await gw.waitForHealth(200);
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await sip?.stop();
    await xmpp?.stop();
  });

  test('is found by the keepalive and replaced by a fresh connection', async () => {
    // Let a few keepalives succeed first: an answered ping must not drop the link.
    await gw.waitForLog((l) => l.message === 'XMPP component online');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await gw.health()).status, 200);
    assert.equal(gw.lines.filter((l) => l.message === 'XMPP keepalive unanswered, dropping the link').length, 0);

    proxy.blackhole(); // TCP stays up, nothing passes: only the keepalive can tell
    await gw.waitForMessage('XMPP keepalive unanswered, dropping the link', 10000);
    await gw.waitForHealth(503);
    proxy.resume();
    await gw.waitForHealth(200, 20000);
    await pingThroughServer(xmpp);
    assert.ok(await metric(gw, /gateway_errors_total\{side="xmpp",kind="keepalive-timeout"\} (\d+)/) >= 1);
  });
});
