// Handshake, routes, ping and error handling of the admin protocol
// (drachtio-protocol.md A.2-A.4) with the real drachtio-srf.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { DrachtioDouble, buildSipRequest } from '../support/drachtio-double/index.js';
import { Srf, closeSrf, harness, rawClient } from './helpers.js';

const message = (n: number) => buildSipRequest({
  method: 'MESSAGE', uri: 'sip:bob@127.0.0.1:5080', from: '<sip:alice@127.0.0.1:5070>',
  to: '<sip:bob@127.0.0.1:5080>', callId: `rr-${n}@127.0.0.1`, body: `hello ${n}`,
});

describe('authenticate (A.3)', () => {
  it('accepts the right secret and reports hostports, version and local hostports to srf', async (t) => {
    const dd = await DrachtioDouble.start({ secret: 'cymru', sipPort: 5081 });
    const srf = new Srf();
    srf.on('error', () => undefined);
    t.after(async () => {
      closeSrf(srf);
      await dd.stop();
    });
    const connected = once(srf, 'connect');
    srf.connect({ host: '127.0.0.1', port: dd.port, secret: 'cymru' });
    const [err, hostport, version, local] = await connected;
    assert.equal(err, null);
    assert.equal(hostport, 'tcp/127.0.0.1:5081,udp/127.0.0.1:5081');
    assert.equal(version, 'v0.9.5-double');
    assert.equal(local, 'tcp/127.0.0.1:5081,udp/127.0.0.1:5081');
    await dd.waitForApps(1);
    const auth = dd.frames.find((f) => f.tokens[1] === 'authenticate');
    assert.deepEqual(auth?.tokens.slice(1), ['authenticate', 'cymru', '']);
  });

  it('answers a wrong secret with NO|incorrect secret and closes; srf reports a connect error', async (t) => {
    const dd = await DrachtioDouble.start({ secret: 'cymru' });
    const srf = new Srf();
    srf.on('error', () => undefined);
    t.after(async () => {
      closeSrf(srf);
      await dd.stop();
    });
    const connected = once(srf, 'connect');
    const dropped = once(dd, 'disconnect');
    srf.connect({ host: '127.0.0.1', port: dd.port, secret: 'wrong', reconnect: { maxAttempts: 1 } });
    const [err] = await connected as [Error];
    assert.equal(err?.message, 'failed to authenticate to server');
    const reply = await dd.waitForFrame((f) => f.direction === 'server->app' && f.tokens[1] === 'response');
    assert.deepEqual(reply.tokens.slice(3), ['NO', 'incorrect secret']);
    const [{ reason }] = await dropped as [{ reason: string }];
    assert.equal(reason, 'incorrect secret');
    assert.equal(dd.connectedApps, 0);
  });

  it('closes the connection on an unknown message type after NO|Unknown message type', async (t) => {
    const dd = await DrachtioDouble.start();
    t.after(() => dd.stop());
    const c = await rawClient(t, dd.port);
    c.send('a1|authenticate|cymru|');
    assert.match(await c.next(), /\|response\|a1\|OK\|/);
    c.send('a2|bogus|x');
    assert.match(await c.next(), /^[0-9a-f-]{36}\|response\|a2\|NO\|Unknown message type$/);
    await c.closed;
  });

  it('answers ping with OK|pong', async (t) => {
    const dd = await DrachtioDouble.start();
    t.after(() => dd.stop());
    const c = await rawClient(t, dd.port);
    c.send('a1|authenticate|cymru|');
    await c.next();
    c.send('p1|ping');
    assert.match(await c.next(), /^[0-9a-f-]{36}\|response\|p1\|OK\|pong$/);
  });

  it('drops the connection on a frame of >= 100000 bytes, accepts 99999 (A.1)', async (t) => {
    const dd = await DrachtioDouble.start();
    t.after(() => dd.stop());
    const ok = await rawClient(t, dd.port);
    ok.send(`a1|authenticate|cymru|${'x'.repeat(99_999 - 'a1|authenticate|cymru|'.length)}`);
    assert.match(await ok.next(), /\|response\|a1\|OK\|/); // read in full; the x's are the tags token
    const big = await rawClient(t, dd.port);
    big.send(`a1|authenticate|cymru|${'x'.repeat(100_000)}`);
    await big.closed;
    assert.equal(dd.frames.filter((f) => f.direction === 'app->server').length, 1);
  });
});

describe('routes (A.2, A.4)', () => {
  it('round-robins new requests between apps that routed the verb', async (t) => {
    const seen: string[] = [];
    const a = await harness(t, { routes: ['message'], handlers: (srf) => srf.message((req, res) => {
      seen.push(`a:${req.get('Call-ID')}`);
      res.send(200);
    }) });
    const b = new Srf();
    b.on('error', () => undefined);
    t.after(() => closeSrf(b));
    b.message((req, res) => {
      seen.push(`b:${req.get('Call-ID')}`);
      res.send(200);
    });
    b.connect({ host: '127.0.0.1', port: a.dd.port, secret: 'cymru' });
    await a.dd.waitForApps(2);
    await a.dd.waitFor(() => a.dd.frames.filter((f) => f.tokens[1] === 'route').length >= 2 || undefined, 'routes');
    for (let n = 1; n <= 4; n++) await a.dd.inject(message(n)).response();
    assert.deepEqual(seen.map((s) => s[0]).join(''), 'abab');
  });

  it('answers 503 itself when nobody routed the verb, and after remove_route', async (t) => {
    const { dd, srf } = await harness(t, { routes: ['message'], handlers: (s) => s.message((_req, res) => res.send(200)) });
    const options = dd.inject(buildSipRequest({
      method: 'OPTIONS', uri: 'sip:bob@127.0.0.1:5080', from: '<sip:a@127.0.0.1:5070>', to: '<sip:bob@127.0.0.1:5080>',
    }));
    assert.equal((await options.response()).status, 503);
    assert.equal(options.routed, false);
    assert.equal((await dd.inject(message(1)).response()).status, 200);
    srf.unregisterForMessages('message');
    await dd.waitFor(() => dd.frames.some((f) => f.tokens[1] === 'remove_route') || undefined, 'remove_route');
    await dd.waitForFrame((f) => f.tokens[1] === 'response' && f.direction === 'server->app'
      && dd.frames.some((r) => r.tokens[1] === 'remove_route' && r.tokens[0] === f.tokens[2]));
    const res = await dd.inject(message(2)).response();
    assert.equal(res.status, 503);
    assert.equal(res.reason, 'Service Unavailable');
  });
});
