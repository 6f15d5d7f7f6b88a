// SUBSCRIBE/NOTIFY dialogs both ways with the real drachtio-srf
// (drachtio-protocol.md A.6-A.8, A.12 incl. Quirk 1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSipRequest, cseqOf, tagOf } from '../support/drachtio-double/index.js';
import { harness, nextEvent } from './helpers.js';

const PIDF = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@127.0.0.1">'
  + '<tuple id="t1"><status><basic>open</basic></status></tuple></presence>';

const subscribe = buildSipRequest({
  method: 'SUBSCRIBE', uri: 'sip:bob@127.0.0.1:5080', from: '"Alice" <sip:alice@127.0.0.1:5072>;tag=8897SIPpTag001',
  to: '<sip:bob@127.0.0.1:5080>', callId: '1-8897@127.0.0.1', peer: { port: 5072 },
  headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: '3600' },
});

describe('SUBSCRIBE UAS (A.6, A.8)', () => {
  it('202 with Contact and Expires, NOTIFY in the dialog, unsubscribe, terminating NOTIFY removes the dialog', async (t) => {
    const dialogs: any[] = [];
    const { dd } = await harness(t, { routes: ['subscribe'], handlers: (srf) => srf.subscribe(async (req, res) => {
      dialogs.push(await srf.createUAS(req, res, { headers: { Expires: '3600' } }));
    }) });
    const tx = dd.inject(subscribe);
    const accepted = await tx.response();
    assert.equal(accepted.status, 202);
    assert.deepEqual(accepted.headers.names(), ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires', 'Content-Length']);
    assert.equal(accepted.get('contact'), '<sip:127.0.0.1:5080>');
    const dialogId = '1-8897@127.0.0.1;from-tag=8897SIPpTag001';
    const echo = dd.frames.find((f) => f.tokens[4] === 'application')!;
    assert.equal(echo.tokens[6], '', 'protocol token empty for non-INVITE responses (observed)');
    assert.equal(echo.tokens[11], dialogId);
    const dlg = await dd.waitFor(() => dialogs[0], 'srf dialog');

    const notified = dlg.request({ method: 'NOTIFY', body: PIDF, headers: {
      Event: 'presence', 'Subscription-State': 'active;expires=3600', 'Content-Type': 'application/pidf+xml',
    } });
    const notify = await dd.nextRequest({ method: 'NOTIFY' });
    assert.equal(notify.uri, 'sip:alice@127.0.0.1:5072');
    assert.equal(notify.dialogId, dialogId);
    assert.deepEqual(notify.headers.names(), ['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Event',
      'Subscription-State', 'Content-Type', 'Content-Length']);
    assert.equal(notify.get('from'), accepted.get('to'));
    assert.equal(notify.get('to'), '"Alice" <sip:alice@127.0.0.1:5072>;tag=8897SIPpTag001');
    assert.equal(notify.get('cseq'), '2 NOTIFY');
    notify.respond(200);
    assert.equal((await notified).status, 200);
    const respFrame = dd.frames.at(-1)!;
    assert.equal(respFrame.tokens[9], dialogId, 'responses in the dialog carry its id');

    const unsubscribed = nextEvent(dlg, 'unsubscribe');
    const unsub = dd.injectInDialog(dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '0' } });
    await unsubscribed;
    const unsubOk = await unsub.response();
    assert.equal(unsubOk.status, 202);
    assert.equal(unsubOk.get('contact'), '<sip:127.0.0.1:5080>', 'Contact on 2xx to SUBSCRIBE, also in the dialog');
    assert.ok(dd.dialog(dialogId), 'unsubscribe alone does not end the dialog');

    const destroyed = dlg.destroy();
    const last = await dd.nextRequest({ method: 'NOTIFY' });
    assert.equal(last.get('subscription-state'), 'terminated');
    assert.equal(last.get('cseq'), '3 NOTIFY');
    last.respond(200);
    await destroyed;
    assert.equal(dd.dialog(dialogId), undefined);
    await assert.rejects(dlg.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active' } }),
      /unable to find dialog/);
  });
});

describe('SUBSCRIBE UAC (A.7, A.12)', () => {
  it('dialog on 202, NOTIFY from the network, and Quirk 1 for the terminating NOTIFY', async (t) => {
    const { dd, srf } = await harness(t);
    const uac = srf.createUAC('sip:conf@127.0.0.1:5093', { method: 'SUBSCRIBE', headers: {
      From: '<sip:gw@localhost>', Event: 'conference', Expires: '600', Accept: 'application/conference-info+xml',
    } });
    const sub = await dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.deepEqual(sub.headers.names(), ['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires',
      'Accept', 'Event', 'Content-Length']);
    assert.equal(sub.get('contact'), '<sip:127.0.0.1:5080>');
    const dialogId = `${sub.get('call-id')};from-tag=${tagOf(sub.get('from'))}`;
    sub.respond(202, 'Accepted', { headers: { Expires: '600' } });
    const dlg = await uac;
    assert.equal(dlg.id, dialogId);
    assert.equal(dd.dialog(dialogId)?.role, 'uac');

    const notifies: string[] = [];
    dlg.on('notify', (req: { get(h: string): string }, res: { send(s: number): void }) => {
      notifies.push(req.get('Subscription-State'));
      res.send(200);
    });
    const n1 = dd.injectInDialog(dialogId, { method: 'NOTIFY', body: '<conference-info/>',
      contentType: 'application/conference-info+xml',
      headers: { Event: 'conference', 'Subscription-State': 'active;expires=600' } });
    assert.equal((await n1.response()).status, 200);
    assert.equal(n1.request.uri, 'sip:127.0.0.1:5080');
    assert.equal(cseqOf(n1.request).seq, 1);

    const n2 = dd.injectInDialog(dialogId, { method: 'NOTIFY',
      headers: { Event: 'conference', 'Subscription-State': 'terminated;reason=noresource' } });
    const res = await n2.response();
    assert.equal(res.status, 500, 'Quirk 1: the server answers 500 itself');
    await dd.waitFor(() => notifies.length === 2 || undefined, 'the app to see both NOTIFYs');
    const nok = await dd.waitForFrame((f) => f.tokens[3] === 'NOK');
    assert.equal(nok.tokens[4], 'Response not sent due to unknown transaction');
    assert.equal(n2.responses.length, 1, 'the app\'s 200 never reached the wire');
    assert.equal(dd.dialog(dialogId), undefined);
    assert.ok(srf.findDialogById(dialogId), 'srf leaks the Dialog (Quirk 1): the gateway must removeDialog itself');
  });

  it('a NOTIFY racing ahead of the 202 starts the dialog', async (t) => {
    const { dd, srf } = await harness(t);
    const uac = srf.createUAC('sip:conf@127.0.0.1:5093', { method: 'SUBSCRIBE', headers: { Event: 'conference' } });
    const sub = await dd.nextRequest({ method: 'SUBSCRIBE' });
    const dialogId = `${sub.get('call-id')};from-tag=${tagOf(sub.get('from'))}`;
    const early = dd.inject(buildSipRequest({
      method: 'NOTIFY', uri: 'sip:127.0.0.1:5080', from: '<sip:conf@127.0.0.1:5093>;tag=notifier1',
      to: sub.get('from') ?? '', callId: sub.get('call-id'), peer: { port: 5093 }, contact: '<sip:conf@127.0.0.1:5093>',
      headers: { Event: 'conference', 'Subscription-State': 'active;expires=600' },
    }));
    const frame = await dd.waitForFrame((f) => f.tokens[2] === 'network' && /^NOTIFY /.test(f.body ?? ''));
    assert.equal(frame.tokens[9], dialogId);
    assert.equal(frame.tokens.length, 11);
    assert.equal(early.dialogId, dialogId);
    sub.respond(202, 'Accepted', { toTag: 'notifier1' });
    assert.equal((await uac).id, dialogId);
  });
});
