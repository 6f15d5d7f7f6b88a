// The SIP router's failure paths and drachtio's outbound mode, with a
// gateway in this process so a test can install the handler that fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { DrachtioDouble } from '../support/drachtio-double/index.js';
import { DRACHTIO_SECRET, PROXY_PEER as PEER, sipRequest } from '../support/bed.js';
import { inProcessGateway } from '../support/in-process.js';
import { allocatePorts, xmppServerKinds, type XmppServer } from '../support/xmpp-servers/index.js';
import type { Gateway } from '../../src/gateway.js';

describe('SIP handler failures', () => {
  let xmpp: XmppServer;
  let sip: DrachtioDouble;
  let gateway: Gateway;
  let logLines: Array<Record<string, unknown>>;
  before(async () => {
    xmpp = await xmppServerKinds[0]!.start({ users: [] });
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    ({ gateway, logLines } = inProcessGateway(xmpp, sip));
    gateway.sipRouter.handle('INFO', () => { throw new Error('handler exploded'); });
    gateway.sipRouter.handle('PUBLISH', async () => { await Promise.resolve(); throw new Error('async handler exploded'); });
    gateway.sipRouter.handle('REGISTER', () => undefined); // forgets to answer
    await gateway.start();
    await sip.waitForRoute('register');
  });
  after(async () => {
    await gateway?.stop();
    await sip?.stop();
    await xmpp?.stop();
  });

  test('a handler that throws, rejects or returns without answering yields 500 and an error log line', async () => {
    for (const method of ['INFO', 'PUBLISH', 'REGISTER']) {
      const tx = sip.inject(sipRequest(method), PEER);
      const res = await tx.response();
      assert.equal(res.status, 500, method);
      const callId = res.get('call-id');
      assert.ok(logLines.some((l) => l.level === 'error' && l.message === 'SIP request handler failed' && l.callId === callId && l.method === method),
        `no error line for ${method}`);
    }
    const text = await gateway.metrics.registry.metrics();
    assert.match(text, /gateway_errors_total\{side="sip",kind="handler"\} 3/);
  });

  test('OPTIONS now lists the methods with handlers in Allow', async () => {
    const res = await sip.inject(sipRequest('OPTIONS'), PEER).response();
    assert.equal(res.get('allow'), 'INFO, INVITE, MESSAGE, NOTIFY, OPTIONS, PUBLISH, REGISTER, SUBSCRIBE');
  });
});

describe('drachtio outbound mode', () => {
  let xmpp: XmppServer;
  let sip: DrachtioDouble;
  let gateway: Gateway;
  let listenPort: number;
  before(async () => {
    xmpp = await xmppServerKinds[0]!.start({ users: [] });
    sip = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    [listenPort] = (await allocatePorts(1)) as [number];
    ({ gateway } = inProcessGateway(xmpp, sip, { sip: { drachtio: { mode: 'outbound', listenHost: '127.0.0.1', listenPort } } }));
    await gateway.start();
  });
  after(async () => {
    await gateway?.stop();
    await sip?.stop();
    await xmpp?.stop();
  });

  test('drachtio-server connects per request; the gateway answers and hangs up', async () => {
    assert.equal(gateway.health.get('sip').connected, true);
    const conns = new Set<number>();
    for (const [method, status] of [['OPTIONS', 200], ['REGISTER', 405]] as const) {
      const closed = once(sip, 'disconnect');
      const tx = await sip.connectToApp({ port: listenPort }, sipRequest(method), PEER);
      assert.equal((await tx.response()).status, status, method);
      // endSession closes each per-request connection (drachtio-protocol.md A.11).
      const [{ conn }] = await closed as [{ conn: number }];
      conns.add(conn);
    }
    assert.equal(conns.size, 2, 'one connection per request');
  });

  test('a drachtio-server that expects another secret refuses the gateway, and nothing is delivered', async () => {
    await assert.rejects(sip.connectToApp({ port: listenPort, secret: 'other' }, sipRequest('OPTIONS'), PEER), /closed before the request was delivered/);
  });
});
