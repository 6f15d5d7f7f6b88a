// INVITE dialogs both ways, ACK, BYE and CANCEL with the real drachtio-srf
// (drachtio-protocol.md A.5-A.9, A.12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSipRequest, cseqOf, tagOf, uriOf } from '../support/drachtio-double/index.js';
import { SDP_A, SDP_GW, harness, nextEvent } from './helpers.js';

const invite = (n = 8896) => buildSipRequest({
  method: 'INVITE', uri: 'sip:bob@127.0.0.1:5080', from: `"Alice" <sip:alice@127.0.0.1:5071>;tag=${n}SIPpTag001`,
  to: '<sip:bob@127.0.0.1:5080>', callId: `1-${n}@127.0.0.1`, peer: { port: 5071 }, body: SDP_A,
});

describe('INVITE UAS (A.5, A.6, A.8)', () => {
  it('100 Trying, 180 and 200 with a stable To-tag, ACK with the INVITE txnId, INFO and BYE from the network', async (t) => {
    const dialogs: any[] = [];
    const { dd } = await harness(t, { routes: ['invite'], handlers: (srf) => srf.invite(async (req, res) => {
      res.send(180);
      dialogs.push(await srf.createUAS(req, res, { localSdp: SDP_GW }));
    }) });
    const tx = dd.inject(invite());
    const ok = await tx.response();
    assert.deepEqual(tx.responses.map((r) => r.status), [100, 180, 200]);
    assert.equal(tagOf(tx.responses[0]!.get('to')), undefined, '100 Trying has no To-tag');
    const tag = tagOf(ok.get('to'));
    assert.match(tag ?? '', /^[A-Za-z0-9]{13}$/);
    assert.equal(tagOf(tx.responses[1]!.get('to')), tag);
    assert.equal(ok.get('contact'), '<sip:127.0.0.1:5080>', 'default Contact on 2xx to INVITE');
    assert.equal(ok.get('content-type'), 'application/sdp', 'v=0 body -> application/sdp');
    assert.equal(ok.body, SDP_GW);
    const dialogId = '1-8896@127.0.0.1;from-tag=8896SIPpTag001';
    assert.equal(tx.dialogId, dialogId);
    const echoes = dd.frames.filter((f) => f.tokens[1] === 'response' && f.tokens[4] === 'application');
    assert.deepEqual(echoes.map((f) => [f.tokens[6], f.tokens[10], f.tokens[11], f.tokens[13]]), [
      ['udp', tx.txnId, dialogId, 'Msg sent:'], ['udp', tx.txnId, dialogId, 'Msg sent:'],
    ]);
    await dd.waitFor(() => dialogs[0], 'srf dialog');
    const dlg = dialogs[0];
    assert.equal(dlg.id, dialogId);

    const acked = nextEvent(dlg, 'ack');
    tx.ack();
    await acked;
    const ackFrame = dd.frames.at(-1)!;
    assert.deepEqual([ackFrame.tokens[4], ackFrame.tokens[8], ackFrame.tokens[9]], ['', tx.txnId, dialogId]);
    assert.equal(ackFrame.tokens.length, 11, 'in-dialog: no local address tokens');

    const info = dd.injectInDialog(dialogId, { method: 'INFO', body: 'Signal=5\r\n', contentType: 'application/dtmf-relay' });
    assert.equal((await info.response()).status, 200, 'srf auto-answers INFO without listener');
    assert.equal(cseqOf(info.request).seq, 2);

    const destroyed = nextEvent(dlg, 'destroy');
    const bye = dd.injectInDialog(dialogId, { method: 'BYE' });
    await destroyed;
    assert.equal((await bye.response()).status, 200);
    assert.equal(dd.dialog(dialogId), undefined, 'BYE removes the dialog');
    const byeEcho = dd.frames.at(-1)!;
    assert.equal(byeEcho.tokens[11], '', 'echo of the 200 to BYE has no dialog id');
  });

  it('app BYE: sip:placeholder filled from the remote Contact, local CSeq++, dialog removed after the 200', async (t) => {
    const dialogs: any[] = [];
    const { dd } = await harness(t, { routes: ['invite'], handlers: (srf) => srf.invite(async (req, res) => {
      dialogs.push(await srf.createUAS(req, res, { localSdp: SDP_GW }));
    }) });
    const tx = dd.inject(invite(9001));
    const ok = await tx.response();
    tx.ack();
    const dlg = await dd.waitFor(() => dialogs[0], 'srf dialog');
    const destroyed = dlg.destroy();
    const bye = await dd.nextRequest({ method: 'BYE' });
    const appFrame = dd.frames.filter((f) => f.direction === 'app->server' && f.tokens[1] === 'sip').at(-1)!;
    assert.match(appFrame.body ?? '', /^BYE sip:placeholder SIP\/2\.0\r\n/);
    assert.equal(appFrame.tokens[3], tx.dialogId);
    assert.equal(bye.uri, 'sip:alice@127.0.0.1:5071');
    assert.equal(bye.get('from'), ok.get('to'));
    assert.equal(bye.get('to'), '"Alice" <sip:alice@127.0.0.1:5071>;tag=9001SIPpTag001');
    assert.equal(bye.get('cseq'), '2 BYE');
    assert.deepEqual(bye.target, { transport: 'udp', address: '127.0.0.1', port: 5071 });
    assert.ok(dd.dialog(tx.dialogId!), 'still there until the response');
    bye.respond(200);
    await destroyed;
    assert.equal(dd.dialog(tx.dialogId!), undefined);
  });

  it('answers 481 for a BYE in an unknown dialog', async (t) => {
    const { dd } = await harness(t);
    const bye = dd.inject(buildSipRequest({
      method: 'BYE', uri: 'sip:bob@127.0.0.1:5080', from: '<sip:a@127.0.0.1>;tag=1', to: '<sip:bob@127.0.0.1:5080>;tag=nope',
    }));
    assert.equal((await bye.response()).status, 481);
    assert.equal(bye.routed, false);
  });
});

describe('INVITE UAC (A.7, A.8)', () => {
  it('180 and 200 carry the dialog id; srf ACKs through the server; BYE both ways', async (t) => {
    const { dd, srf } = await harness(t);
    const uac = srf.createUAC('sip:carol@127.0.0.1:5092', { localSdp: SDP_GW, headers: { From: '<sip:gw@localhost>' } });
    const inv = await dd.nextRequest({ method: 'INVITE' });
    assert.equal(inv.get('contact'), '<sip:127.0.0.1:5080>');
    assert.equal(inv.get('content-type'), 'application/sdp');
    const dialogId = `${inv.get('call-id')};from-tag=${tagOf(inv.get('from'))}`;
    inv.respond(180);
    inv.respond(200, 'OK', { body: SDP_A, contact: '<sip:127.0.0.1:5092;transport=UDP>' });
    const dlg = await uac;
    assert.equal(dlg.id, dialogId);
    const responseFrames = dd.frames.filter((f) => f.tokens[1] === 'sip' && f.tokens[2] === 'network');
    assert.deepEqual(responseFrames.map((f) => f.tokens[9]), [dialogId, dialogId]);
    const ack = await dd.nextRequest({ method: 'ACK' });
    assert.equal(ack.auto, false);
    assert.equal(ack.uri, 'sip:127.0.0.1:5092;transport=UDP', 'remote target');
    assert.equal(ack.get('cseq'), `${cseqOf(inv.message).seq} ACK`);
    assert.equal(tagOf(ack.get('to')), inv.responses[1] && tagOf(inv.responses[1].get('to')));

    const destroyed = nextEvent(dlg, 'destroy');
    const bye = dd.injectInDialog(dialogId, { method: 'BYE' });
    await destroyed;
    assert.equal((await bye.response()).status, 200);
    assert.equal(bye.request.uri, 'sip:127.0.0.1:5080', 'peer sends to our Contact');
  });

  it('non-2xx: the server ACKs itself and answers srf\'s redundant ACK with NOK', async (t) => {
    const { dd, srf } = await harness(t);
    const uac = srf.createUAC('sip:carol@127.0.0.1:5092', { localSdp: SDP_GW });
    const inv = await dd.nextRequest({ method: 'INVITE' });
    inv.respond(486);
    await assert.rejects(uac, (err: { status: number }) => err.status === 486);
    const ack = await dd.nextRequest({ method: 'ACK' });
    assert.equal(ack.auto, true);
    assert.equal(ack.get('via'), inv.get('via'), 'same branch as the INVITE');
    assert.equal(ack.uri, inv.uri);
    const nok = await dd.waitForFrame((f) => f.tokens[3] === 'NOK');
    assert.equal(nok.tokens[4], 'Server error: ACK for non-success final response is automatically generated by server');
  });

  it('app in-dialog request with an unknown dialog id gets ENODIALOG', async (t) => {
    const { dd, srf } = await harness(t);
    const uac = srf.createUAC('sip:carol@127.0.0.1:5092', { localSdp: SDP_GW });
    const inv = await dd.nextRequest({ method: 'INVITE' });
    inv.respond(200, 'OK', { body: SDP_A });
    const dlg = await uac;
    (await dd.nextRequest({ method: 'ACK' }));
    dd.injectInDialog(dlg.id, { method: 'BYE' });
    await dd.waitFor(() => dd.dialog(dlg.id) === undefined || undefined, 'dialog gone');
    await assert.rejects(dlg.request({ method: 'INFO', headers: { 'Content-Type': 'text/plain' }, body: 'x' }),
      (err: { code: string; message: string }) => err.code === 'ENODIALOG'
        && err.message === 'Server error: unable to find dialog for dialog id provided');
  });
});

describe('CANCEL (A.9)', () => {
  it('inbound: 200 to the CANCEL, 487 to the INVITE, CANCEL forwarded with the INVITE txnId; later responses get NOK', async (t) => {
    const late: unknown[] = [];
    const canceled: any[] = [];
    const { dd } = await harness(t, { routes: ['invite'], handlers: (srf) => srf.invite((req, res) => {
      res.send(180);
      req.on('cancel', (msg: unknown) => {
        canceled.push(msg);
        res.send(486, 'Busy Here', {}, (err: unknown) => late.push(err));
      });
    }) });
    const tx = dd.inject(invite(12753));
    await tx.response({ status: 180 });
    const cancel = tx.cancel({ headers: { Reason: 'SIP;cause=200;text="Call completed elsewhere"' } });
    assert.equal((await cancel.response()).status, 200);
    const final = await tx.response();
    assert.equal(final.status, 487);
    assert.equal(tagOf(final.get('to')), tagOf(tx.responses[1]!.get('to')), 'same To-tag as the 180');
    await dd.waitFor(() => late[0], 'the late response to fail');
    assert.equal(late[0], 'Response not sent due to unknown transaction');
    const fwd = dd.frames.find((f) => f.tokens[2] === 'network' && /^CANCEL /.test(f.body ?? ''))!;
    assert.equal(fwd.tokens[8], tx.txnId);
    assert.equal(fwd.tokens[9], '1-12753@127.0.0.1;from-tag=12753SIPpTag001', 'dialog id after a 1xx with tag');
    assert.equal(fwd.tokens[3], String(tx.sent.bytes), 'size token repeats the INVITE\'s (observed)');
    assert.equal(canceled.length, 1);
    assert.equal(tx.responses.filter((r) => r.status >= 200).length, 1, 'the 486 never reached the wire');
    tx.ack();
    assert.equal(dd.frames.filter((f) => /^ACK /.test(f.body ?? '')).length, 0, 'hop-by-hop ACK absorbed');
  });

  it('outbound: req.cancel() makes the server CANCEL the INVITE; the 487 comes back and is ACKed', async (t) => {
    const { dd, srf } = await harness(t);
    let sent: any;
    const uac = srf.createUAC('sip:carol@127.0.0.1:5092', { localSdp: SDP_GW }, { cbRequest: (_err: unknown, req: unknown) => { sent = req; } });
    const inv = await dd.nextRequest({ method: 'INVITE' });
    inv.respond(180);
    await dd.waitFor(() => sent, 'cbRequest');
    sent.cancel();
    const cancel = await dd.nextRequest({ method: 'CANCEL' });
    const appFrame = dd.frames.filter((f) => f.direction === 'app->server' && f.tokens[1] === 'sip').at(-1)!;
    assert.equal(appFrame.tokens[2], inv.txnId, 'sip|<INVITE txnId>|');
    assert.equal(cancel.get('via'), inv.get('via'));
    assert.equal(cancel.get('cseq'), `${cseqOf(inv.message).seq} CANCEL`);
    assert.equal(cancel.uri, inv.uri);
    cancel.respond(200);
    inv.respond(487);
    await assert.rejects(uac, (err: { status: number }) => err.status === 487);
    assert.equal((await dd.nextRequest({ method: 'ACK' })).auto, true);
    const toApp = dd.frames.filter((f) => f.tokens[2] === 'network').map((f) => f.body?.split('\r\n')[0]);
    assert.deepEqual(toApp, ['SIP/2.0 180 Ringing', 'SIP/2.0 487 Request Terminated'], 'the 200 to CANCEL is not passed up');
    assert.equal(uriOf(cancel.get('to') ?? ''), 'sip:carol@127.0.0.1:5092');
  });
});
