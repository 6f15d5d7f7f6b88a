// Contract tests: the scenarios captured between drachtio-srf 5.0.29 and the
// real drachtio-server (drachtio-traces/*.log) replayed against the double.
// The network input of each trace is re-injected (identifiers the server
// generated are rebound to the double's), srf plays the traced app, and the
// double's frames must match the real server's token by token and the SIP
// text byte for byte, modulo random tags/branches/Call-IDs/CSeqs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
  DrachtioDouble, cseqOf, parseSip, parseVia, tagOf, type OutboundRequest, type SipMessage,
} from '../support/drachtio-double/index.js';
import { Srf, closeSrf, harness, type Harness, type SrfApp } from './helpers.js';
import {
  assertSameFrames, frameAt, framesSince, normalize, rebind, received, slice, type AnyFrame,
} from './replay-helpers.js';

type TraceFrame = ReturnType<typeof frameAt>;

const bodyOf = (f: TraceFrame) => parseSip(f.body ?? '', { wholeBody: true });

/** Waits until the double logged `n` frames (pings aside) since `seq`. */
async function frames(h: Harness, seq: number, n: number): Promise<AnyFrame[]> {
  return h.dd.waitFor(() => {
    const fs = framesSince(h.dd.frames, seq);
    return fs.length >= n ? fs : undefined;
  }, `${n} frames`);
}

const lastSeq = (h: Harness) => h.dd.frames.at(-1)?.seq ?? 0;

/** Pairs turning the real server's identifiers (from an echo) into the double's. */
function identifiers(traceSent: SipMessage, ours: SipMessage): Array<[string | undefined, string | undefined]> {
  return [
    [parseVia(traceSent.get('via') ?? '')?.branch, parseVia(ours.get('via') ?? '')?.branch],
    [tagOf(traceSent.get('from')), tagOf(ours.get('from'))],
    [traceSent.get('call-id'), ours.get('call-id')],
    [`CSeq: ${traceSent.get('cseq')}`, `CSeq: ${ours.get('cseq')}`],
  ];
}

/** The traced peer's response to the traced request, re-addressed to `ours`. */
function replayResponse(ours: OutboundRequest, traceEcho: TraceFrame, traceResponse: TraceFrame): void {
  ours.respondRaw(rebind(traceResponse.body ?? '', identifiers(bodyOf(traceEcho), ours.message)),
    { from: { address: traceResponse.tokens[5], port: Number(traceResponse.tokens[6]) } });
}

/** Injects a traced network request, with the real server's To-tag swapped for ours. */
function replayRequest(h: Harness, f: TraceFrame, pairs: Array<[string | undefined, string | undefined]> = []) {
  const { raw, peer } = received(f);
  return h.dd.inject(rebind(raw, pairs), peer);
}

const gwHandlers = (file: string, inviteIdx: number) => (srf: SrfApp) => {
  srf.message((_req, res) => res.send(200, { headers: { 'X-Gw': 'smoke' } }));
  srf.register((req, res) => {
    if (String(req.uri).includes('proxy.test')) srf.proxyRequest(req, ['sip:127.0.0.1:5091']).catch(() => undefined);
    else res.send(200, { headers: { contact: `${req.get('Contact')};expires=300`, expires: 300 } });
  });
  srf.invite((req, res) => {
    srf.createUAS(req, res, { localSdp: bodyOf(frameAt(file, inviteIdx)).body }).catch(() => undefined);
  });
  srf.subscribe(async (req, res) => {
    const dlg = await srf.createUAS(req, res, { headers: { expires: 3600 } });
    dlg.on('unsubscribe', () => dlg.destroy().catch(() => undefined));
    const notify = bodyOf(frameAt(file, file === 'wire.log' ? 35 : 50));
    dlg.request({ method: 'NOTIFY', body: notify.body, headers: {
      Event: 'presence', 'Subscription-State': 'active;expires=3600', 'Content-Type': 'application/pidf+xml',
    } }).catch(() => undefined);
  });
};

async function gateway(t: TestContext, file: string, inviteIdx: number): Promise<Harness> {
  return harness(t, { routes: ['message', 'register', 'invite', 'subscribe'], handlers: gwHandlers(file, inviteIdx) });
}

describe('replay: handshake (A.3)', () => {
  it('authenticate, OK with hostports/version, four routes and their OKs (wire.log 0-9)', async (t) => {
    const h = await gateway(t, 'wire.log', 23);
    await frames(h, 0, 10);
    assertSameFrames(framesSince(h.dd.frames, 0).slice(0, 10), slice('wire.log', 0, 9));
  });
});

describe('replay: inbound requests (A.5, A.6)', () => {
  for (const [file, idx, what] of [
    ['wire.log', 10, 'UTF-8 MESSAGE from sipp over UDP'],
    ['wire.log', 15, 'MESSAGE from a raw client that sent a bare ;rport'],
    ['wire.log', 148, 'MESSAGE over TCP'],
    ['wire.log', 44, 'REGISTER answered by the app'],
    ['wire-head.log', 31, 'UTF-8 MESSAGE (v0.9.10)'],
    ['wire-head.log', 68, 'raw MESSAGE (v0.9.10)'],
  ] as const) {
    it(`${what} (${file} ${idx}-${idx + 2})`, async (t) => {
      const h = await gateway(t, 'wire.log', 23);
      const seq = lastSeq(h);
      const tx = replayRequest(h, frameAt(file, idx));
      await tx.response();
      assertSameFrames(await frames(h, seq, 3), slice(file, idx, idx + 2));
    });
  }

  for (const [file, start] of [['wire.log', 22], ['wire-head.log', 37]] as const) {
    it(`INVITE -> 200 -> ACK -> INFO -> BYE, all from the network (${file} ${start}-${start + 9})`, async (t) => {
      const h = await gateway(t, file, start + 1);
      const seq = lastSeq(h);
      const tx = replayRequest(h, frameAt(file, start));
      const ok = await tx.response();
      const tags: Array<[string | undefined, string | undefined]> = [
        [tagOf(bodyOf(frameAt(file, start + 2)).get('to')), tagOf(ok.get('to'))],
      ];
      await frames(h, seq, 3);
      replayRequest(h, frameAt(file, start + 3), tags);
      await frames(h, seq, 4);
      await replayRequest(h, frameAt(file, start + 4), tags).response();
      await frames(h, seq, 7);
      await replayRequest(h, frameAt(file, start + 7), tags).response();
      assertSameFrames(await frames(h, seq, 10), slice(file, start, start + 9));
    });
  }

  it('SUBSCRIBE -> 202 -> NOTIFY, unsubscribe -> 202 -> terminating NOTIFY (wire.log 32-43)', async (t) => {
    const h = await gateway(t, 'wire.log', 23);
    const seq = lastSeq(h);
    const tx = replayRequest(h, frameAt('wire.log', 32));
    const accepted = await tx.response();
    const tags: Array<[string | undefined, string | undefined]> = [
      [tagOf(bodyOf(frameAt('wire.log', 34)).get('to')), tagOf(accepted.get('to'))],
    ];
    replayResponse(await h.dd.nextRequest({ method: 'NOTIFY' }), frameAt('wire.log', 36), frameAt('wire.log', 37));
    await frames(h, seq, 6);
    replayRequest(h, frameAt('wire.log', 38), tags);
    replayResponse(await h.dd.nextRequest({ method: 'NOTIFY' }), frameAt('wire.log', 42), frameAt('wire.log', 43));
    assertSameFrames(await frames(h, seq, 12), slice('wire.log', 32, 43));
  });

  it('REGISTER proxied by the app: continue + done (wire.log 47-50)', async (t) => {
    const h = await gateway(t, 'wire.log', 23);
    const seq = lastSeq(h);
    const tx = replayRequest(h, frameAt('wire.log', 47));
    const fwd = await h.dd.nextRequest({ method: 'REGISTER' });
    const traceBranch = /branch=(z9hG4bK[0-9a-f-]{36})/.exec(frameAt('wire.log', 49).body ?? '')![1];
    fwd.respondRaw(rebind(frameAt('wire.log', 49).body ?? '', [[traceBranch, parseVia(fwd.get('via') ?? '')?.branch]]),
      { from: { port: 5091 } });
    const relayed = await tx.response();
    assert.equal(relayed.headers.getAll('via').join(', '), tx.request.get('via'), 'top Via stripped');
    assertSameFrames(await frames(h, seq, 4), slice('wire.log', 47, 50));
  });

  it('CANCEL after a 180: forwarded with the INVITE txnId and size (wire-cancel.log 0-7)', async (t) => {
    const h = await harness(t, { routes: ['invite'], handlers: (srf) => srf.invite((_req, res) => res.send(180)) });
    const tx = replayRequest(h, frameAt('wire-cancel.log', 4));
    await tx.response({ status: 180 });
    const cancel = replayRequest(h, frameAt('wire-cancel.log', 7));
    assert.equal((await cancel.response()).status, 200);
    assert.equal((await tx.response()).status, 487);
    assertSameFrames(await frames(h, 0, 8), slice('wire-cancel.log', 0, 7));
  });
});

describe('replay: requests from the app (A.7, A.8)', () => {
  it('MESSAGE and INVITE to an unreachable peer: local 503, NOK for srf\'s ACK (wire.log 69-76)', async (t) => {
    const h = await gateway(t, 'wire.log', 23);
    const seq = lastSeq(h);
    await h.srf.request('sip:bob@127.0.0.1:5090', {
      method: 'MESSAGE', headers: { From: '<sip:gw@localhost>', 'Content-Type': 'text/plain' }, body: 'hello from gw',
    });
    (await h.dd.nextRequest({ method: 'MESSAGE' })).unreachable();
    await frames(h, seq, 3);
    const uac = h.srf.createUAC('sip:carol@127.0.0.1:5092', {
      localSdp: bodyOf(frameAt('wire.log', 72)).body, headers: { From: '<sip:gw@localhost>' },
    });
    (await h.dd.nextRequest({ method: 'INVITE' })).unreachable();
    await assert.rejects(uac, (err: { status: number }) => err.status === 503);
    assertSameFrames(await frames(h, seq, 8), slice('wire.log', 69, 76));
  });

  for (const [file, start] of [['wire.log', 91], ['wire-head.log', 10]] as const) {
    const message = file === 'wire.log' ? start : start;
    it(`MESSAGE -> 200 (${file} ${message}-${message + 2})`, async (t) => {
      const h = await gateway(t, 'wire.log', 23);
      const seq = lastSeq(h);
      await h.srf.request('sip:bob@127.0.0.1:5090', {
        method: 'MESSAGE', headers: { From: '<sip:gw@localhost>', 'Content-Type': 'text/plain' }, body: 'hello from gw',
      });
      replayResponse(await h.dd.nextRequest({ method: 'MESSAGE' }), frameAt(file, message + 1), frameAt(file, message + 2));
      assertSameFrames(await frames(h, seq, 3), slice(file, message, message + 2));
    });
  }

  for (const [file, start] of [['wire.log', 94], ['wire-head.log', 22]] as const) {
    it(`INVITE -> 180 -> 200 -> ACK -> BYE -> 200 (${file} ${start}-${start + 8})`, async (t) => {
      const h = await gateway(t, 'wire.log', 23);
      const seq = lastSeq(h);
      const uac = h.srf.createUAC('sip:carol@127.0.0.1:5092', {
        localSdp: bodyOf(frameAt(file, start)).body, headers: { From: '<sip:gw@localhost>' },
      });
      const inv = await h.dd.nextRequest({ method: 'INVITE' });
      replayResponse(inv, frameAt(file, start + 1), frameAt(file, start + 2));
      replayResponse(inv, frameAt(file, start + 1), frameAt(file, start + 3));
      const dlg = await uac;
      await h.dd.nextRequest({ method: 'ACK' });
      const destroyed = dlg.destroy();
      const bye = await h.dd.nextRequest({ method: 'BYE' });
      assert.equal(cseqOf(bye.message).seq, cseqOf(inv.message).seq + 1);
      replayResponse(bye, frameAt(file, start + 7), frameAt(file, start + 8));
      await destroyed;
      assertSameFrames(await frames(h, seq, 9), slice(file, start, start + 8));
    });
  }

  for (const [file, start] of [['wire.log', 127], ['wire-head.log', 13]] as const) {
    it(`SUBSCRIBE -> 202, NOTIFYs from the network, Quirk 1 (${file} ${start}-${start + 8})`, async (t) => {
      const h = await gateway(t, 'wire.log', 23);
      const seq = lastSeq(h);
      const uac = h.srf.createUAC('sip:conf@127.0.0.1:5093', { method: 'SUBSCRIBE', headers: {
        From: '<sip:gw@localhost>', Event: 'conference', Expires: 600, Accept: 'application/conference-info+xml',
      } });
      const sub = await h.dd.nextRequest({ method: 'SUBSCRIBE' });
      replayResponse(sub, frameAt(file, start + 1), frameAt(file, start + 2));
      await uac;
      const ids = identifiers(bodyOf(frameAt(file, start + 1)), sub.message).slice(1, 3);
      await replayRequest(h, frameAt(file, start + 3), ids).response();
      await frames(h, seq, 6);
      const quirk = replayRequest(h, frameAt(file, start + 6), ids);
      assert.equal((await quirk.response()).status, 500);
      assertSameFrames(await frames(h, seq, 9), slice(file, start, start + 8));
    });
  }
});

describe('replay: outbound connections (A.11)', () => {
  it('authenticate -> OK -> MESSAGE pushed -> 200 -> echo (wire-outbound.log 0-4)', async (t) => {
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
    const { raw, peer } = received(frameAt('wire-outbound.log', 2));
    const closed = once(dd, 'disconnect');
    const tx = await dd.connectToApp({ port: (server.address() as AddressInfo).port }, raw, peer);
    await tx.response();
    await closed;
    assertSameFrames(dd.frames, slice('wire-outbound.log', 0, 4));
  });
});

describe('replay helpers', () => {
  it('normalize() only hides generated identifiers', () => {
    assert.equal(normalize('To: <sip:b@h>;tag=Ujv9QpFeHF71a\r\nFrom: x;tag=8792SIPpTag001'),
      'To: <sip:b@h>;tag=<tag>\r\nFrom: x;tag=8792SIPpTag001');
    assert.notEqual(normalize('Contact: <sip:127.0.0.1:5080>'), normalize('Contact: <sip:127.0.0.1:5081>'));
  });
});
