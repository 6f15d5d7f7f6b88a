// The chat-session service (core/chat) with its ports faked: which messages
// it takes, the fallbacks to pager mode, error mapping, the queue bound,
// receipts and typing correlation, and ending rules.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AddressMapper } from '../../src/core/address.js';
import { ChatService, type ChatConfig } from '../../src/core/chat/service.js';
import type {
  ChatDialog, ChatMedia, ChatMediaPort, ChatPayload, ChatSipPort, InviteDecision, InviteOutcome, InviteRequest, MediaEvents, Result,
} from '../../src/core/chat/ports.js';
import type { XmppMessage } from '../../src/core/im/model.js';
import type { ImXmppPort } from '../../src/core/im/service.js';
import type { StanzaErrorSpec } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/logger.js';

const GW = 'sip.example.com';
const log = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const settle = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

class FakeDialog implements ChatDialog {
  byes = 0;
  private ended: Array<() => void> = [];
  constructor(readonly callId: string) {}
  bye(): Promise<void> { this.byes += 1; return Promise.resolve(); }
  onEnded(l: () => void): void { this.ended.push(l); }
  hangUp(): void { for (const l of this.ended) l(); }
}

class FakeMedia implements ChatMedia {
  readonly sent: Array<{ payload: ChatPayload; tid?: string; receipt?: boolean }> = [];
  readonly reported: string[] = [];
  closed: string | undefined;
  connectResult: Result<void> = { ok: true, value: undefined };
  peerMaxBytes: number | undefined;
  constructor(readonly events: MediaEvents) {}
  connect(): Promise<Result<void>> { return Promise.resolve(this.connectResult); }
  send(payload: ChatPayload, opts: { tid?: string; receipt?: boolean }): Result<string> {
    this.sent.push({ payload, ...opts });
    return { ok: true, value: `mid-${this.sent.length}` };
  }
  reportDelivered(messageId: string): boolean { this.reported.push(messageId); return true; }
  close(reason: string): void { this.closed = reason; }
}

class FakeMediaPort implements ChatMediaPort {
  readonly created: FakeMedia[] = [];
  nextConnect: Result<void> = { ok: true, value: undefined };
  create(events: MediaEvents): Result<{ media: ChatMedia; sdp: string }> {
    const m = new FakeMedia(events);
    m.connectResult = this.nextConnect;
    this.created.push(m);
    return { ok: true, value: { media: m, sdp: 'v=0 offer' } };
  }
  check(sdp: string): Result<void> {
    return sdp.includes('msrp') ? { ok: true, value: undefined } : { ok: false, error: 'no MSRP stream' };
  }
}

class FakeSip implements ChatSipPort {
  readonly invites: InviteRequest[] = [];
  readonly dialogs: FakeDialog[] = [];
  outcome: (req: InviteRequest) => InviteOutcome = (req) => {
    const d = new FakeDialog(req.callId ?? 'generated');
    this.dialogs.push(d);
    return { kind: 'answered', sdp: 'v=0 msrp answer', dialog: d };
  };
  invite(req: InviteRequest): Promise<InviteOutcome> {
    this.invites.push(req);
    return Promise.resolve(this.outcome(req));
  }
}

class FakeXmpp implements ImXmppPort {
  readonly sent: XmppMessage[] = [];
  readonly errors: Array<{ msg: XmppMessage; error: StanzaErrorSpec }> = [];
  send(m: XmppMessage): Promise<void> { this.sent.push(m); return Promise.resolve(); }
  sendError(msg: XmppMessage, error: StanzaErrorSpec): Promise<void> { this.errors.push({ msg, error }); return Promise.resolve(); }
  barrier(): Promise<void> { return Promise.resolve(); }
}

interface Env { chat: ChatService; sip: FakeSip; media: FakeMediaPort; xmpp: FakeXmpp; pager: XmppMessage[] }

function env(over: Partial<ChatConfig> = {}): Env {
  const sip = new FakeSip();
  const media = new FakeMediaPort();
  const xmpp = new FakeXmpp();
  const pager: XmppMessage[] = [];
  const addresses = new AddressMapper({ componentDomain: GW, homeSipDomain: 'example.org', xmppToSip: [{ xmpp: 'example.com', sip: 'example.com' }] });
  const chat = new ChatService({
    defaultMode: 'pager', modes: [{ sip: 'example.org', mode: 'session' }], inactivityMs: 60_000, maxSessions: 10, maxPerUser: 2,
    fallbackMs: 60_000, defaultResource: 'sip', ...over,
  }, addresses, xmpp, sip, media, (m) => { pager.push(m); return Promise.resolve(); }, { event: () => undefined }, log);
  return { chat, sip, media, xmpp, pager };
}

const msg = (over: Partial<XmppMessage> = {}): XmppMessage =>
  ({ from: 'alice@example.com/balcony', to: `romeo@${GW}`, type: 'chat', body: 'hi', id: 'm1', ...over });

describe('chat service', () => {
  let e: Env;
  beforeEach(() => { e = env(); });
  afterEach(async () => { await e.chat.close(10); });

  test('takes only chats with a body from a full JID to a session domain, and anything of an open session', async () => {
    assert.equal(e.chat.takes(msg()), true);
    assert.equal(e.chat.takes(msg({ type: 'normal' })), false);
    assert.equal(e.chat.takes(msg({ from: 'alice@example.com' })), false, 'a bare JID starts no session');
    assert.equal(e.chat.takes(msg({ body: undefined, chatState: 'composing' })), false, 'typing alone starts no session');
    assert.equal(e.chat.takes(msg({ to: `romeo\\40example.net@${GW}` })), false, 'example.net is a pager domain');
    await e.chat.fromXmpp(msg(), log);
    await settle();
    assert.equal(e.chat.takes(msg({ body: undefined, chatState: 'composing', from: 'alice@example.com/phone' })), true);
  });

  test('E1: the INVITE carries the GRUU, the thread as Call-ID; queued messages go out in order once up', async () => {
    await e.chat.fromXmpp(msg({ thread: 'T-1', id: 'a1' }), log);
    await e.chat.fromXmpp(msg({ body: 'second', id: 'a2' }), log);
    await settle();
    assert.deepEqual(e.sip.invites.map((i) => [i.targetUri, i.fromUri, i.contact, i.callId]),
      [['sip:romeo@example.org', 'sip:alice@example.com;gr=balcony', 'sip:alice@example.com;gr=balcony', 'T-1']]);
    assert.deepEqual(e.media.created[0]!.sent.map((s) => [s.payload, s.tid]),
      [[{ kind: 'text', text: 'hi' }, 'a1'], [{ kind: 'text', text: 'second' }, 'a2']]);
  });

  test('415/488/606 and an answer without MSRP fall back to pager and remember the pair', async () => {
    for (const status of [415, 488, 606]) {
      const x = env();
      x.sip.outcome = () => ({ kind: 'rejected', status, reason: 'no' });
      await x.chat.fromXmpp(msg(), log);
      await settle();
      assert.deepEqual(x.pager.map((m) => m.body), ['hi'], String(status));
      assert.equal(x.chat.takes(msg()), false, 'the pair stays in pager mode');
    }
    const y = env();
    y.sip.outcome = (req) => ({ kind: 'answered', sdp: 'v=0 audio only', dialog: new FakeDialog(req.callId!) });
    await y.chat.fromXmpp(msg(), log);
    await settle();
    assert.deepEqual(y.pager.map((m) => m.body), ['hi']);
  });

  test('an MSRP connection failure: BYE, pager for the queue, not remembered', async () => {
    e.media.nextConnect = { ok: false, error: 'ECONNREFUSED' };
    await e.chat.fromXmpp(msg(), log);
    await settle();
    assert.equal(e.sip.dialogs[0]!.byes, 1);
    assert.deepEqual(e.pager.map((m) => m.body), ['hi']);
    assert.equal(e.chat.takes(msg()), true);
  });

  test('other refusals and timeouts come back as errors for the queued messages (RFC 7247 §7.2)', async () => {
    e.sip.outcome = () => ({ kind: 'rejected', status: 404, reason: 'Not Found' });
    await e.chat.fromXmpp(msg(), log);
    await settle();
    assert.equal(e.xmpp.errors[0]?.error.condition, 'item-not-found');
    e.sip.outcome = () => ({ kind: 'timeout' });
    await e.chat.fromXmpp(msg({ id: 'm2' }), log);
    await settle();
    assert.equal(e.xmpp.errors[1]?.error.condition, 'remote-server-timeout');
    assert.equal(e.chat.size, 0);
  });

  test('limits: beyond maxPerUser a new conversation goes in pager mode; an INVITE to the user gets 486', async () => {
    for (const u of ['a', 'b', 'c']) await e.chat.fromXmpp(msg({ to: `${u}@${GW}` }), log);
    await settle();
    assert.equal(e.chat.size, 2);
    assert.deepEqual(e.pager.map((m) => m.to), [`c@${GW}`]);
    const d = await e.chat.onInvite({ fromUri: 'sip:nurse@example.org', targetUri: 'sip:alice@example.com', callId: 'x', sdp: 'v=0 msrp' }, log);
    assert.deepEqual(d, { accept: false, status: 486, reason: 'Busy Here' });
  });

  test('INVITE refusals: unmappable sender 403, unknown user 404, no MSRP 488', async () => {
    const offer = { fromUri: 'sip:romeo@example.org', targetUri: 'sip:alice@example.com', callId: 'c', sdp: 'v=0 msrp' };
    assert.equal(((await e.chat.onInvite({ ...offer, fromUri: 'sip:romeo@10.1.1.1' }, log)) as { status: number }).status, 403);
    assert.equal(((await e.chat.onInvite({ ...offer, targetUri: 'sip:alice@elsewhere.org' }, log)) as { status: number }).status, 404);
    assert.equal(((await e.chat.onInvite({ ...offer, sdp: 'v=0 audio' }, log)) as { status: number }).status, 488);
  });

  test('S->X: SENDs with receipts; the XMPP <received/> sends the held REPORT; replies join the session', async () => {
    const d = await e.chat.onInvite({ fromUri: 'sip:romeo@example.org;gr=desk', targetUri: 'sip:alice@example.com', callId: 'call-9', sdp: 'v=0 msrp' }, log);
    assert.ok(d.accept);
    (d as Extract<InviteDecision, { accept: true }>).established(new FakeDialog('call-9'));
    await settle();
    const media = e.media.created[0]!;
    media.events.message({ payload: { kind: 'text', text: 'ping' }, tid: 'tid1', messageId: 'MID1', receiptRequested: true });
    assert.deepEqual(e.xmpp.sent.at(-1), {
      from: `romeo@${GW}/desk`, to: 'alice@example.com', type: 'chat', thread: 'call-9', id: 'tid1', body: 'ping', receiptRequest: true,
    });
    assert.equal(e.chat.takes(msg({ from: 'alice@example.com/phone', body: undefined, receivedId: 'tid1' })), true);
    await e.chat.fromXmpp(msg({ from: 'alice@example.com/phone', body: undefined, receivedId: 'tid1' }), log);
    assert.deepEqual(media.reported, ['MID1']);
    await e.chat.fromXmpp(msg({ from: 'alice@example.com/phone', body: 'pong', id: 'r1', receiptRequest: true }), log);
    assert.deepEqual(media.sent.at(-1), { payload: { kind: 'text', text: 'pong' }, tid: 'r1', receipt: true });
    media.events.delivered('mid-1');
    assert.deepEqual(e.xmpp.sent.at(-1), { from: `romeo@${GW}/desk`, to: 'alice@example.com/phone', type: 'normal', receivedId: 'r1' },
      'replies go to the resource that wrote last');
  });

  test('typing: composing → active (once), paused → idle; <gone/> → BYE; BYE → <gone/>', async () => {
    await e.chat.fromXmpp(msg(), log);
    await settle();
    const media = e.media.created[0]!;
    for (const s of ['composing', 'composing', 'paused'] as const) await e.chat.fromXmpp(msg({ body: undefined, chatState: s }), log);
    assert.deepEqual(media.sent.slice(1).map((s) => s.payload), [
      { kind: 'composing', active: true, refreshS: 90 }, { kind: 'composing', active: false },
    ]);
    await e.chat.fromXmpp(msg({ body: undefined, chatState: 'gone' }), log);
    assert.equal(e.sip.dialogs[0]!.byes, 1);
    assert.equal(e.chat.size, 0);

    await e.chat.fromXmpp(msg({ id: 'again' }), log);
    await settle();
    e.sip.dialogs[1]!.hangUp();
    assert.equal(e.xmpp.sent.at(-1)?.chatState, 'gone');
    assert.equal(e.media.created[1]!.closed, 'BYE from SIP');
  });

  test('a queue beyond its bound gets resource-constraint while the INVITE is pending', async () => {
    let answer: (o: InviteOutcome) => void = () => undefined;
    e.sip.invite = (req) => { e.sip.invites.push(req); return new Promise((r) => { answer = r; }); };
    for (let i = 0; i < 52; i++) await e.chat.fromXmpp(msg({ id: `q${i}` }), log);
    assert.equal(e.xmpp.errors.length, 2);
    assert.equal(e.xmpp.errors[0]!.error.condition, 'resource-constraint');
    answer({ kind: 'answered', sdp: 'v=0 msrp', dialog: new FakeDialog('c') });
    await settle(10);
    assert.equal(e.media.created[0]!.sent.length, 50);
  });

  test('a conversation ended before it is up hands its queued messages to pager mode, and hangs up a late 200', async () => {
    let answer: (o: InviteOutcome) => void = () => undefined;
    e.sip.invite = (req) => { e.sip.invites.push(req); return new Promise((r) => { answer = r; }); };
    await e.chat.fromXmpp(msg({ body: 'queued', id: 'k1' }), log);
    e.chat.userUnavailable('alice@example.com/balcony');
    assert.deepEqual(e.pager.map((m) => m.id), ['k1']);
    const late = new FakeDialog('late');
    answer({ kind: 'answered', sdp: 'v=0 msrp', dialog: late });
    await settle();
    assert.equal(late.byes, 1);
    assert.equal(e.chat.size, 0);
  });
});
