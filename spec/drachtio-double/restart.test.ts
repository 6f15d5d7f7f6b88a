// Server crash/restart and app disconnects (drachtio-protocol.md A.4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSipRequest } from '../support/drachtio-double/index.js';
import { SDP_A, SDP_GW, closeSrf, harness, nextEvent, rawClient } from './helpers.js';

const message = (n: number) => buildSipRequest({
  method: 'MESSAGE', uri: 'sip:bob@127.0.0.1:5080', from: '<sip:alice@127.0.0.1:5070>',
  to: '<sip:bob@127.0.0.1:5080>', callId: `restart-${n}@127.0.0.1`, body: `hello ${n}`,
});

describe('restart (A.4)', () => {
  it('srf reconnects to the same port, re-authenticates, re-routes, and traffic resumes', async (t) => {
    const { dd, srf } = await harness(t, {
      routes: ['message', 'subscribe'],
      connect: { reconnect: { retryMaxDelay: 500 } },
      handlers: (s) => {
        s.message((_req, res) => res.send(200));
        s.subscribe((_req, res) => res.send(489));
      },
    });
    assert.equal((await dd.inject(message(1)).response()).status, 200);
    const port = dd.port;
    const reconnecting = nextEvent(srf, 'reconnecting');
    const reconnected = nextEvent(srf, 'connect', 3000);
    await dd.restart();
    assert.equal(dd.port, port);
    assert.equal(dd.connectedApps, 0);
    const [info] = await reconnecting as [{ attempt: number }];
    assert.equal(info.attempt, 2);
    const [err] = await reconnected;
    assert.equal(err, null);
    await dd.waitForRoute('message', { timeoutMs: 3000 });
    await dd.waitForRoute('subscribe');
    const auths = dd.frames.filter((f) => f.tokens[1] === 'authenticate');
    assert.equal(auths.length, 2);
    assert.notEqual(auths[0]!.conn, auths[1]!.conn);
    assert.equal((await dd.inject(message(2)).response()).status, 200);
  });

  it('a crash forgets transactions: a late app response gets NOK after the restart', async (t) => {
    const { dd } = await harness(t, { routes: ['message'], connect: { reconnect: { retryMaxDelay: 500 } },
      handlers: (s) => s.message(() => undefined) });
    const pending = dd.inject(message(3));
    assert.ok(pending.txnId);
    await dd.restart();
    await dd.waitForRoute('message', { timeoutMs: 3000 });
    const raw = await rawClient(t, dd.port);
    raw.send('a1|authenticate|cymru|');
    await raw.next();
    raw.send(`r1|sip|${pending.txnId}|\r\nSIP/2.0 200 OK\r\ncseq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n`);
    assert.match(await raw.next(), /\|NOK\|Response not sent due to unknown transaction$/);
  });
});

describe('app disconnect (A.4 "What is lost on disconnect")', () => {
  it('dialogs stay on the server: BYE gets 481 and removes the dialog, INFO is not routed', async (t) => {
    const dialogs: any[] = [];
    const { dd, srf } = await harness(t, { routes: ['invite'], handlers: (s) => s.invite(async (req, res) => {
      dialogs.push(await s.createUAS(req, res, { localSdp: SDP_GW }));
    }) });
    const tx = dd.inject(buildSipRequest({
      method: 'INVITE', uri: 'sip:bob@127.0.0.1:5080', from: '<sip:alice@127.0.0.1:5071>', to: '<sip:bob@127.0.0.1:5080>',
      peer: { port: 5071 }, body: SDP_A,
    }));
    await tx.response();
    tx.ack();
    await dd.waitFor(() => dialogs[0], 'srf dialog');
    const dialogId = tx.dialogId!;
    closeSrf(srf);
    await dd.waitForApps(0);
    assert.equal(dd.dialog(dialogId)?.appConnected, false);
    const info = dd.injectInDialog(dialogId, { method: 'INFO', body: 'x', contentType: 'text/plain' });
    await assert.rejects(info.response({ timeoutMs: 200 }), /timed out/);
    assert.equal(info.routed, false);
    const bye = dd.injectInDialog(dialogId, { method: 'BYE' });
    assert.equal((await bye.response()).status, 481);
    assert.equal(dd.dialog(dialogId), undefined);
  });
});
