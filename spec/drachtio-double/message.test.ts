// MESSAGE both ways with the real drachtio-srf (drachtio-protocol.md A.5-A.7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSipRequest, parseSip, tagOf } from '../support/drachtio-double/index.js';
import { harness, nextEvent, rawClient, type SrfApp } from './helpers.js';

const inbound = (body: string, extra: Partial<Parameters<typeof buildSipRequest>[0]> = {}) => buildSipRequest({
  method: 'MESSAGE', uri: 'sip:bob@127.0.0.1:5080', from: '"Alice" <sip:alice@127.0.0.1:5070>;tag=8792SIPpTag001',
  to: '<sip:bob@127.0.0.1:5080>', callId: '1-8792@127.0.0.1', branch: 'z9hG4bK-8792-1-0', body, ...extra,
});

/** srf.request(); resolves with the sent request and a promise of the first final response. */
async function send(srf: SrfApp, uri: string, opts: Record<string, unknown>) {
  const req = await srf.request(uri, { method: 'MESSAGE', ...opts });
  const final = new Promise<{ status: number; body: string; get(h: string): string }>((resolve) => {
    req.on('response', (res: { status: number; body: string; get(h: string): string }) => {
      if (res.status >= 200) resolve(res);
    });
  });
  return { req, final };
}

describe('inbound MESSAGE (A.5, A.6)', () => {
  it('delivers the request and puts the completed response on the wire', async (t) => {
    const got: Array<{ body: string; source_port: number; protocol: string; receivedOn: string }> = [];
    const { dd } = await harness(t, { routes: ['message'], handlers: (srf) => srf.message((req, res) => {
      got.push(req);
      res.send(200, { headers: { 'X-Gw': 'smoke' } });
    }) });
    const tx = dd.inject(inbound('Hello from sipp (héllo ✓)\r\n'), { transport: 'udp', address: '127.0.0.1', port: 5070 });
    const res = await tx.response({ final: true });
    assert.equal(res.status, 200);
    assert.equal(res.reason, 'OK');
    assert.equal(res.get('via'), 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-8792-1-0;rport=5070');
    assert.match(res.get('to') ?? '', /^<sip:bob@127\.0\.0\.1:5080>;tag=[A-Za-z0-9]{13}$/);
    assert.equal(res.get('from'), '"Alice" <sip:alice@127.0.0.1:5070>;tag=8792SIPpTag001');
    assert.equal(res.get('cseq'), '1 MESSAGE');
    assert.equal(res.get('X-Gw'), 'smoke');
    assert.deepEqual(res.headers.names(), ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'X-Gw']);
    // srf saw the UTF-8 body intact, with the leader's metadata
    assert.equal(got[0]?.body, 'Hello from sipp (héllo ✓)\r\n');
    assert.equal(got[0]?.source_port, 5070);
    assert.equal(got[0]?.protocol, 'udp');
    assert.equal(got[0]?.receivedOn, '127.0.0.1:5080');
    const frame = dd.frames.find((f) => f.tokens[1] === 'sip' && f.tokens[2] === 'network');
    assert.equal(frame?.tokens[3], String(Buffer.byteLength(inbound('Hello from sipp (héllo ✓)\r\n'))), 'size as received');
    assert.equal(frame?.tokens.length, 13, 'trailing | after the local port');
  });

  it('keeps the To-tag stable and absorbs a retransmission by re-sending the last response', async (t) => {
    let calls = 0;
    const { dd } = await harness(t, { routes: ['message'], handlers: (srf) => srf.message((_req, res) => {
      calls++;
      res.send(202);
    }) });
    const tx = dd.inject(inbound('x'));
    const first = await tx.response();
    tx.retransmit();
    assert.equal(tx.retransmissions, 1);
    assert.equal(tx.responses.length, 2);
    assert.equal(tx.responses[1]?.raw, first.raw);
    assert.equal(calls, 1);
    assert.equal(dd.frames.filter((f) => f.tokens[2] === 'network').length, 1, 'not handed to the app again');
  });

  it('rejects a body without Content-Type with NOK|missing content-type', async (t) => {
    let cb: ((err: unknown) => void) | undefined;
    const done = new Promise((resolve) => { cb = resolve; });
    const { dd } = await harness(t, { routes: ['message'], handlers: (srf) => srf.message((_req, res) => {
      res.send(200, { body: 'no type' }, (err: unknown) => cb?.(err));
    }) });
    const tx = dd.inject(inbound('x'));
    assert.equal(await done, 'missing content-type');
    assert.equal(tx.responses.length, 0);
  });

  it('ignores immutable app headers and replaces @localhost in Contact and P-Asserted-Identity', async (t) => {
    const { dd } = await harness(t, { routes: ['message'], handlers: (srf) => srf.message((_req, res) => {
      res.send(200, { headers: {
        Via: 'SIP/2.0/UDP 10.0.0.1:9;branch=z9hG4bKevil', 'Record-Route': '<sip:10.0.0.1;lr>', RSeq: '7',
        Route: '<sip:10.0.0.2;lr>', Contact: '<sip:gw@localhost>', 'P-Asserted-Identity': '"GW" <sip:gw@localhost>',
        'User-Agent': 'gw', foo: 'bar',
      } });
    }) });
    const res = await dd.inject(inbound('x')).response();
    assert.deepEqual(res.headers.getAll('via'), ['SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-8792-1-0;rport=5070']);
    assert.equal(res.has('record-route') || res.has('rseq') || res.has('route'), false);
    assert.equal(res.get('contact'), '<sip:gw@127.0.0.1:5080>');
    assert.equal(res.get('p-asserted-identity'), '"GW" <sip:gw@127.0.0.1:5080>');
    assert.deepEqual(res.headers.names(), ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'User-Agent',
      'Content-Length', 'P-Asserted-Identity', 'Foo']);
  });

  it('answers NOK for a response to an unknown transaction', async (t) => {
    const { dd } = await harness(t);
    const raw = await rawClient(t, dd.port);
    raw.send('a1|authenticate|cymru|');
    await raw.next();
    raw.send('r1|sip|no-such-txn|\r\nSIP/2.0 200 OK\r\ncseq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n');
    assert.match(await raw.next(), /\|response\|r1\|NOK\|Response not sent due to unknown transaction$/);
  });
});

describe('outbound MESSAGE (A.7)', () => {
  it('completes srf.request and hands the network response to srf', async (t) => {
    const { dd, srf } = await harness(t);
    const { req, final } = await send(srf, 'sip:bob@127.0.0.1:5090', {
      headers: { From: '<sip:gw@localhost>', 'Content-Type': 'text/plain' }, body: 'héllo ✓',
    });
    const out = await dd.nextRequest({ method: 'MESSAGE' });
    assert.equal(out.proxy, undefined);
    assert.deepEqual(out.target, { transport: 'udp', address: '127.0.0.1', port: 5090 });
    assert.match(out.get('via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:5080;rport;branch=z9hG4bK[A-Za-z0-9]{13}$/);
    assert.equal(out.get('max-forwards'), '70');
    assert.match(out.get('from') ?? '', /^<sip:gw@127\.0\.0\.1:5080>;tag=[A-Za-z0-9]{13}$/, '@localhost replaced');
    assert.equal(out.get('to'), '<sip:bob@127.0.0.1:5090>');
    assert.match(out.get('cseq') ?? '', /^\d{9} MESSAGE$/);
    assert.equal(out.get('content-length'), '10');
    assert.deepEqual(out.headers.names(),
      ['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Type', 'Content-Length']);
    // srf's Request is built from the echo
    assert.equal(req.get('Call-ID'), out.get('call-id'));
    assert.equal(req.stackTxnId, out.txnId);
    out.respond(200, 'OK', { headers: { 'X-Peer': 'yes' } });
    const res = await final;
    assert.equal(res.status, 200);
    assert.equal(res.get('X-Peer'), 'yes');
    assert.ok(tagOf(res.get('To')));
  });

  it('passes the outbound proxy token and sends to the proxy', async (t) => {
    const { dd, srf } = await harness(t);
    await send(srf, 'sip:bob@example.test', {
      proxy: 'sip:127.0.0.1:5099', headers: { 'Content-Type': 'text/plain' }, body: 'via proxy',
    });
    const out = await dd.nextRequest({ method: 'MESSAGE' });
    assert.equal(out.proxy, 'sip:127.0.0.1:5099');
    assert.equal(out.uri, 'sip:bob@example.test');
    assert.deepEqual(out.target, { transport: 'udp', address: '127.0.0.1', port: 5099 });
    const leader = dd.frames.find((f) => f.direction === 'app->server' && f.tokens[1] === 'sip');
    assert.deepEqual(leader?.tokens.slice(1), ['sip', '', '', 'sip:127.0.0.1:5099']);
    assert.match(out.get('from') ?? '', /^<sip:127\.0\.0\.1:5080>;tag=/, 'default From is the local contact');
  });

  it('delivers a locally generated 408 on timeout', async (t) => {
    const { dd, srf } = await harness(t);
    const { final } = await send(srf, 'sip:bob@127.0.0.1:5090', { headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    (await dd.nextRequest()).timeout();
    const res = await final;
    assert.equal(res.status, 408);
    const frame = dd.frames.at(-1)!;
    assert.deepEqual(frame.tokens.slice(2, 7), ['network', '0', 'udp', '', '0']);
  });

  it('delivers a locally generated 503 with bytes=0, no address, port 0 when unreachable', async (t) => {
    const { dd, srf } = await harness(t);
    const { final } = await send(srf, 'sip:bob@127.0.0.1:5090', { headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    (await dd.nextRequest()).unreachable();
    const res = await final;
    assert.equal(res.status, 503);
    assert.match(res.get('To'), /^sip:bob@127\.0\.0\.1:5090;tag=[A-Za-z0-9]{13}$/);
    assert.deepEqual(dd.frames.at(-1)!.tokens.slice(2, 7), ['network', '0', 'udp', '', '0']);
  });

  it('reports NOK errors to the srf callback', async (t) => {
    const { srf } = await harness(t);
    await assert.rejects(srf.request('sip:bob@127.0.0.1:5090', { method: 'MESSAGE', body: 'untyped' }),
      /missing content-type/);
    await assert.rejects(srf.request('sip:bob@127.0.0.1:5080', { method: 'OPTIONS' }), /can not send request to myself/);
    await assert.rejects(srf.request('sips:bob@127.0.0.1:5091', { method: 'OPTIONS' }),
      /requested protocol\/transport not available/);
  });

  it('drops the app connection on a frame of >= 100000 bytes (A.1)', async (t) => {
    const { dd, srf } = await harness(t);
    const closed = nextEvent(srf, 'close');
    srf.request('sip:bob@127.0.0.1:5090', {
      method: 'MESSAGE', headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(100_000),
    }).catch(() => undefined);
    await closed;
    assert.equal(dd.requests.length, 0);
    const raw = dd.frames.filter((f) => f.direction === 'app->server').map((f) => f.tokens[1]);
    assert.equal(raw.includes('sip'), false, 'the oversized frame was never accepted');
  });

  it('keeps a response body of any size (no limit server -> app)', async (t) => {
    const { dd, srf } = await harness(t);
    const { final } = await send(srf, 'sip:bob@127.0.0.1:5090', { headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    const big = 'é'.repeat(60_000); // 120 000 bytes
    (await dd.nextRequest()).respond(200, 'OK', { body: big });
    assert.equal((await final).body, big);
    assert.equal(parseSip(dd.wire.at(-1)!.message.raw).body.length, 60_000);
  });
});
