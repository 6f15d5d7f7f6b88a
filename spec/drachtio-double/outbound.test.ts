// Outbound-connection mode (drachtio-protocol.md A.11, wire-outbound.log): the
// double connects to an app listening with srf.listen, one connection per request.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { DrachtioDouble, buildSipRequest } from '../support/drachtio-double/index.js';
import { Srf, closeSrf, type SrfApp } from './helpers.js';

const message = (n: number) => buildSipRequest({
  method: 'MESSAGE', uri: 'sip:bob@127.0.0.1:5082', from: '<sip:raw@127.0.0.1:42428>;tag=raw1',
  to: '<sip:bob@127.0.0.1:5082>', callId: `raw-${n}@127.0.0.1`, peer: { port: 42428 }, maxForwards: 70,
  body: 'raw udp hello', contentType: 'text/plain',
});

async function listeningApp(t: TestContext): Promise<{ dd: DrachtioDouble; srf: SrfApp; port: number }> {
  const dd = await DrachtioDouble.start({ sipPort: 5082 });
  const srf = new Srf();
  srf.on('error', () => undefined);
  srf.message((req, res) => {
    res.send(200);
    srf.endSession(req);
  });
  const server = srf.listen({ host: '127.0.0.1', port: 0, secret: 'cymru' }) as Server;
  await once(server, 'listening');
  t.after(async () => {
    closeSrf(srf);
    server.close();
    await dd.stop();
  });
  return { dd, srf, port: (server.address() as AddressInfo).port };
}

describe('outbound connections (A.11)', () => {
  it('connects per request: authenticate -> OK -> request pushed -> response -> echo -> app closes', async (t) => {
    const { dd, port } = await listeningApp(t);
    for (const n of [1, 2]) {
      const closed = once(dd, 'disconnect');
      const tx = await dd.connectToApp({ port, secret: 'cymru' }, message(n));
      assert.equal((await tx.response()).status, 200);
      const [{ conn }] = await closed as [{ conn: number }];
      const seq = dd.frames.filter((f) => f.conn === conn).map((f) => `${f.direction} ${f.tokens[1]}`);
      assert.deepEqual(seq, [
        'app->server authenticate', 'server->app response', 'server->app sip', 'app->server sip', 'server->app response',
      ]);
      const pushed = dd.frames.filter((f) => f.conn === conn)[2]!;
      assert.deepEqual(pushed.tokens.slice(2, 7), ['network', String(Buffer.byteLength(message(n))), 'udp', '127.0.0.1', '42428']);
      assert.deepEqual(pushed.tokens.slice(10), ['127.0.0.1', '5082', '']);
    }
    assert.equal(new Set(dd.frames.map((f) => f.conn)).size, 2, 'one connection per request');
    assert.equal(dd.connectedApps, 0, 'outbound connections are not admin-port apps');
  });

  it('rejects an app presenting the wrong secret', async (t) => {
    const { dd, port } = await listeningApp(t);
    await assert.rejects(dd.connectToApp({ port, secret: 'other' }, message(3)), /closed before the request was delivered/);
    const reply = dd.frames.find((f) => f.tokens[1] === 'response')!;
    assert.deepEqual(reply.tokens.slice(3), ['NO', 'incorrect secret']);
  });
});
