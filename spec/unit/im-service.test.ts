// The IM service's own logic with fake ports (unit level): response mapping,
// the delivery barrier and window, late bounces, caps and deduplication.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AddressMapper } from '../../src/core/address.js';
import { ImService, type ImSipPort, type ImXmppPort, type SipSendOutcome } from '../../src/core/im/service.js';
import type { SipMessageIn, SipMessageOut, XmppMessage } from '../../src/core/im/model.js';
import type { StanzaErrorSpec } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/logger.js';

const log = createLogger({ level: 'error', format: 'json', stream: new Writable({ write(_c, _e, cb) { cb(); } }) });
const addresses = new AddressMapper({ componentDomain: 'sip.example.com', homeSipDomain: 'example.org', xmppToSip: [{ xmpp: 'example.com', sip: 'example.com' }] });
const cfg = { maxMessageBytes: 1300, deliveryWindowMs: 200, sipTimeoutMs: 1000, defaultResource: 'sip', maxPending: 2 };

function setup(opts: { outcome?: SipSendOutcome; barrier?: () => Promise<void>; xmppSend?: () => Promise<void> } = {}) {
  const sentSip: SipMessageOut[] = [];
  const sentXmpp: XmppMessage[] = [];
  const errors: Array<{ original: XmppMessage; error: StanzaErrorSpec }> = [];
  const outcomes: string[] = [];
  const releases: Array<() => void> = [];
  const sip: ImSipPort = {
    async send(out) {
      sentSip.push(out);
      if (opts.outcome) return opts.outcome;
      await new Promise<void>((r) => { releases.push(r); });
      return { kind: 'response', status: 200, reason: 'OK' };
    },
  };
  const xmpp: ImXmppPort = {
    async send(msg) { sentXmpp.push(msg); await opts.xmppSend?.(); },
    async sendError(original, error) { errors.push({ original, error }); },
    barrier: opts.barrier ?? (() => Promise.resolve()),
  };
  const im = new ImService(cfg, addresses, xmpp, sip, { message: (d, o) => outcomes.push(`${d}:${o}`) });
  return { im, sentSip, sentXmpp, errors, outcomes, releaseAll: () => releases.splice(0).forEach((r) => r()) };
}

const chat = (extra: Partial<XmppMessage> = {}): XmppMessage => ({ from: 'alice@example.com/pc', to: 'bob@sip.example.com', type: 'chat', id: 'm1', body: 'hi', ...extra });
const sipIn = (extra: Partial<SipMessageIn> = {}): SipMessageIn => ({
  requestUri: 'sip:alice@example.com', fromUri: 'sip:bob@example.org', toUri: 'sip:alice@example.com', callId: 'c1',
  content: { kind: 'text', text: 'hello' }, ...extra,
});

test('x2s: each failure outcome becomes the right stanza error; 2xx none', async () => {
  const cases: Array<[SipSendOutcome, string | undefined]> = [
    [{ kind: 'response', status: 202, reason: 'Accepted' }, undefined],
    [{ kind: 'response', status: 404, reason: 'Not Found' }, 'item-not-found'],
    [{ kind: 'response', status: 302, reason: 'Moved', contact: '<sip:bob@elsewhere.example>' }, 'redirect'],
    [{ kind: 'timeout' }, 'remote-server-timeout'],
    [{ kind: 'unavailable', why: 'down' }, 'remote-server-timeout'],
    [{ kind: 'too-large', bytes: 1400 }, 'policy-violation'],
  ];
  for (const [outcome, expected] of cases) {
    const { im, errors } = setup({ outcome });
    await im.fromXmpp(chat(), log);
    assert.deepEqual(errors.map((e) => e.error.condition), expected ? [expected] : [], JSON.stringify(outcome));
  }
  const { im, errors } = setup({ outcome: { kind: 'response', status: 302, reason: 'Moved', contact: '<sip:bob@elsewhere.example>' } });
  await im.fromXmpp(chat(), log);
  assert.equal(errors[0]?.error.target, 'sip:bob@elsewhere.example');
});

test('x2s: a failed chat state is not reported to the user, and the next identical state is sent again', async () => {
  const { im, sentSip, errors } = setup({ outcome: { kind: 'response', status: 480, reason: 'Away' } });
  await im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  await im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  assert.equal(sentSip.length, 2, 'the failure forgot the remembered state');
  assert.deepEqual(errors, []);
});

test('x2s: more messages in flight than maxPending are refused with resource-constraint', async () => {
  const { im, errors, releaseAll } = setup();
  const inFlight = [im.fromXmpp(chat({ id: 'a' }), log), im.fromXmpp(chat({ id: 'b' }), log)];
  await im.fromXmpp(chat({ id: 'c' }), log);
  assert.deepEqual(errors.map((e) => [e.original.id, e.error.condition]), [['c', 'resource-constraint']]);
  assert.equal(im.tableSizes.pending_x2s, 2);
  releaseAll();
  await Promise.all(inFlight);
  assert.equal(im.tableSizes.pending_x2s, 0);
});

test('s2x: the barrier answers 202 quickly; a bounce that comes first maps to the SIP error', async () => {
  let open!: () => void;
  const barrier = () => new Promise<void>((r) => { open = r; });
  const { im, sentXmpp } = setup({ barrier });
  const pending = im.fromSip(sipIn(), log);
  await new Promise((r) => setImmediate(r));
  const id = sentXmpp[0]!.id!;
  assert.equal(im.xmppError(id, { condition: 'service-unavailable' }), true);
  open();
  assert.deepEqual(await pending, { status: 403, reason: 'Forbidden' });

  const second = im.fromSip(sipIn(), log);
  await new Promise((r) => setImmediate(r));
  open();
  assert.equal((await second).status, 202);
  // A bounce after the answer is not consumed: the caller logs it as late.
  assert.equal(im.xmppError(sentXmpp[1]!.id!, { condition: 'item-not-found' }), false);
  assert.equal(im.tableSizes.pending_s2x, 0);
});

test('s2x: without a barrier answer the delivery window gives 202; XMPP down gives 480', async () => {
  const { im } = setup({ barrier: () => new Promise(() => undefined) });
  const t0 = Date.now();
  assert.equal((await im.fromSip(sipIn(), log)).status, 202);
  assert.ok(Date.now() - t0 >= cfg.deliveryWindowMs - 20);
  const down = setup({ xmppSend: () => Promise.reject(new Error('XMPP link is down')) });
  const answer = await down.im.fromSip(sipIn(), log);
  assert.equal(answer.status, 480);
  assert.equal(answer.headers?.['Retry-After'], '10');
});

test('s2x: to a full JID the bounce maps to a 4xx, to a bare JID to a 6xx (RFC 7247 §7.1 note 2)', async () => {
  for (const [uri, expected] of [['sip:alice@example.com;gr=pc', 404], ['sip:alice@example.com', 604]] as const) {
    let open!: () => void;
    const { im, sentXmpp } = setup({ barrier: () => new Promise<void>((r) => { open = r; }) });
    const pending = im.fromSip(sipIn({ requestUri: uri }), log);
    await new Promise((r) => setImmediate(r));
    im.xmppError(sentXmpp[0]!.id!, { condition: 'item-not-found' });
    open();
    assert.equal((await pending).status, expected, uri);
  }
});

test('s2x: an IMDN about an unknown message is accepted without a stanza', async () => {
  const { im, sentXmpp, outcomes } = setup();
  const answer = await im.fromSip(sipIn({ content: { kind: 'imdn', notification: 'delivery', status: 'delivered', messageId: 'nope' } }), log);
  assert.equal(answer.status, 200);
  assert.deepEqual(sentXmpp, []);
  assert.deepEqual(outcomes, ['s2x:absorbed']);
});

const flush = () => new Promise((r) => setImmediate(r));

test('x2s: composing is refreshed before the RFC 3994 interval runs out, at most MAX_REFRESHES times, and stops on paused', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { im, sentSip } = setup({ outcome: { kind: 'response', status: 200, reason: 'OK' } });
  const states = () => sentSip.map((o) => (o.payload.kind === 'iscomposing' ? o.payload.state : o.payload.kind));
  await im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  assert.deepEqual(states(), ['active']);
  t.mock.timers.tick(74_000);
  await flush();
  assert.deepEqual(states(), ['active'], 'not before 90 - 15 s');
  t.mock.timers.tick(1_000);
  await flush();
  assert.deepEqual(states(), ['active', 'active']);
  await im.fromXmpp(chat({ body: undefined, chatState: 'paused' }), log);
  t.mock.timers.tick(200_000);
  await flush();
  assert.deepEqual(states(), ['active', 'active', 'idle'], 'no refresh after paused');

  const capped = setup({ outcome: { kind: 'response', status: 200, reason: 'OK' } });
  await capped.im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  for (let i = 0; i < 10; i++) {
    t.mock.timers.tick(75_000);
    await flush();
  }
  assert.equal(capped.sentSip.length, 1 + 4, 'one MESSAGE and MAX_REFRESHES refreshes');
  capped.im.close();
  im.close();
});

test('x2s: a content message ends composing, so the next <composing/> is sent again', async () => {
  const { im, sentSip } = setup({ outcome: { kind: 'response', status: 200, reason: 'OK' } });
  await im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  await im.fromXmpp(chat({ body: 'done typing' }), log);
  await im.fromXmpp(chat({ body: undefined, chatState: 'composing' }), log);
  assert.deepEqual(sentSip.map((o) => o.payload.kind), ['iscomposing', 'text', 'iscomposing']);
  im.close();
});

test('s2x: an "active" isComposing that is not refreshed ends as <active/> after its refresh interval', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { im, sentXmpp } = setup();
  const composing = (refresh?: number): SipMessageIn['content'] => ({ kind: 'iscomposing', state: 'active', ...(refresh ? { refresh } : {}) });
  const answered = im.fromSip(sipIn({ content: composing(60) }), log);
  t.mock.timers.tick(cfg.deliveryWindowMs);
  await answered;
  assert.deepEqual(sentXmpp.map((m) => m.chatState), ['composing']);
  t.mock.timers.tick(59_000);
  await flush();
  assert.equal(sentXmpp.length, 1);
  t.mock.timers.tick(1_000);
  await flush();
  assert.deepEqual(sentXmpp.map((m) => m.chatState), ['composing', 'active']);
  assert.equal(sentXmpp[1]!.type, 'chat');
  assert.equal(sentXmpp[1]!.from, sentXmpp[0]!.from);

  // A text message from the same sender cancels the expiry.
  const again = im.fromSip(sipIn({ content: composing() }), log);
  t.mock.timers.tick(cfg.deliveryWindowMs);
  await again;
  const text = im.fromSip(sipIn(), log);
  t.mock.timers.tick(cfg.deliveryWindowMs);
  await text;
  t.mock.timers.tick(200_000);
  await flush();
  assert.deepEqual(sentXmpp.map((m) => m.chatState ?? 'text'), ['composing', 'active', 'composing', 'text']);
  assert.equal(im.tableSizes.composing_expiry, 0);
});

test('x2s: an IMDN "delivered" that overtakes the 200 still becomes <received/>; a failed MESSAGE forgets its IMDN id', async () => {
  const { im, sentSip, sentXmpp, releaseAll } = setup();
  const sending = im.fromXmpp(chat({ id: 'r1', receiptRequest: true }), log);
  await flush();
  const payload = sentSip[0]!.payload;
  assert.equal(payload.kind, 'text');
  const messageId = payload.kind === 'text' ? payload.imdn!.messageId : '';
  const imdn = (id: string): SipMessageIn['content'] => ({ kind: 'imdn', notification: 'delivery', status: 'delivered', messageId: id });
  await im.fromSip(sipIn({ content: imdn(messageId) }), log);
  assert.deepEqual(sentXmpp.map((m) => [m.to, m.receivedId]), [['alice@example.com/pc', 'r1']]);
  releaseAll();
  await sending;

  const failed = setup({ outcome: { kind: 'response', status: 404, reason: 'Not Found' } });
  await failed.im.fromXmpp(chat({ id: 'r2', receiptRequest: true }), log);
  const p2 = failed.sentSip[0]!.payload;
  const lost = p2.kind === 'text' ? p2.imdn!.messageId : '';
  assert.equal((await failed.im.fromSip(sipIn({ content: imdn(lost) }), log)).status, 200);
  assert.deepEqual(failed.sentXmpp, [], 'absorbed: the message never reached SIP');
});
