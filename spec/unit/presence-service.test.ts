// The presence service (core/presence) with its ports faked: the cases the
// integration tests cannot reach cheaply — probe answers per RFC 6121
// §4.3.2 and the fetch of C7, caps per user, transient failures and retry,
// a dialog lapsing while the user is offline, and start-up re-establishment.
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AddressMapper } from '../../src/core/address.js';
import { PresenceService } from '../../src/core/presence/service.js';
import type { PresenceStanza, PresenceXmppPort, SubscriberPort } from '../../src/core/presence/ports.js';
import type {
  FetchOutcome, RefreshOutcome, SubscribeOutcome, SubscribeRequest, Subscription, SubscriptionEvent,
} from '../../src/core/presence/subscriber-port.js';
import type { PresenceDoc } from '../../src/core/presence/model.js';
import type { StanzaErrorSpec } from '../../src/core/errors.js';
import type { Watcher, WatcherRequest } from '../../src/core/presence/notifier-port.js';
import { createMemoryStore } from '../../src/core/store/memory.js';
import type { PresenceStore } from '../../src/core/store/types.js';
import { createLogger } from '../../src/log/logger.js';

const GW = 'sip.example.com';
const ALICE = 'alice@example.com';
const ROMEO = `romeo@${GW}`;
const ROMEO_AOR = 'sip:romeo@example.org';
const log = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

class FakeSub implements Subscription {
  readonly dialogId: string;
  readonly callId: string;
  readonly localTag = 'lt';
  readonly remoteTag = 'rt';
  expiresAt = Date.now() + 3600_000;
  state: 'pending' | 'active' | 'terminated' = 'pending';
  ended = false;
  unsubscribed = 0;
  refreshes: number[] = [];
  constructor(n: number, readonly onEvent: (e: SubscriptionEvent) => void) {
    this.callId = `call-${n}`;
    this.dialogId = `call-${n};from-tag=lt`;
  }
  refresh(expires: number): Promise<RefreshOutcome> {
    this.refreshes.push(expires);
    return Promise.resolve({ kind: 'refreshed', expires });
  }
  unsubscribe(): Promise<void> {
    this.unsubscribed += 1;
    return Promise.resolve();
  }
}

class FakeSip implements SubscriberPort {
  readonly subscribes: SubscribeRequest[] = [];
  readonly fetches: Array<Omit<SubscribeRequest, 'expires'>> = [];
  readonly subs: FakeSub[] = [];
  /** What the next subscribe() gets; default accepted. */
  next: Array<'accept' | Exclude<SubscribeOutcome, { kind: 'accepted' }>> = [];
  fetchDoc: PresenceDoc | undefined;
  subscribe(req: SubscribeRequest, onEvent: (e: SubscriptionEvent) => void): Promise<SubscribeOutcome> {
    this.subscribes.push(req);
    const n = this.next.shift() ?? 'accept';
    if (n !== 'accept') return Promise.resolve(n);
    const sub = new FakeSub(this.subs.length + 1, onEvent);
    this.subs.push(sub);
    return Promise.resolve({ kind: 'accepted', subscription: sub, expires: 3600 });
  }
  fetch(req: Omit<SubscribeRequest, 'expires'>): Promise<FetchOutcome> {
    this.fetches.push(req);
    return Promise.resolve({ kind: 'doc', ...(this.fetchDoc ? { doc: this.fetchDoc } : {}), state: 'terminated' });
  }
}

class FakeXmpp implements PresenceXmppPort {
  readonly sent: PresenceStanza[] = [];
  readonly errors: Array<{ original: PresenceStanza; error: StanzaErrorSpec }> = [];
  send(p: PresenceStanza): Promise<void> {
    this.sent.push(p);
    return Promise.resolve();
  }
  sendError(original: PresenceStanza, error: StanzaErrorSpec): Promise<void> {
    this.errors.push({ original, error });
    return Promise.resolve();
  }
  take(): PresenceStanza[] {
    return this.sent.splice(0);
  }
}

const open = (id: string, show?: string): PresenceDoc => ({
  entity: 'pres:romeo@example.org', notes: [],
  tuples: [{ id, basic: 'open', notes: [], ...(show ? { show: show as 'away' } : {}) }],
});

/** Lets queued promise chains and setImmediate work run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

interface Env { svc: PresenceService; sip: FakeSip; xmpp: FakeXmpp; store: PresenceStore }

function env(store: PresenceStore = createMemoryStore(), overrides: Record<string, number> = {}): Env {
  const sip = new FakeSip();
  const xmpp = new FakeXmpp();
  const addresses = new AddressMapper({ componentDomain: GW, homeSipDomain: 'example.org', xmppToSip: [{ xmpp: 'example.com', sip: 'example.com' }] });
  const svc = new PresenceService({
    expires: 3600, maxPerUser: 3, restoreRate: 1000, retryMaxDelayMs: 60_000, fetchTimeoutMs: 200,
    defaultResource: 'sip', maxSubscriptions: 100, ...overrides,
  }, addresses, store, sip, xmpp, { event: () => undefined }, log);
  return { svc, sip, xmpp, store };
}

const stanza = (type: PresenceStanza['type'], from = `${ALICE}/balcony`, to = ROMEO): PresenceStanza =>
  ({ from, to, ...(type ? { type } : {}) });

/** alice subscribes to romeo and romeo's notifier approves with `doc`. */
async function approved(e: Env, doc?: PresenceDoc): Promise<FakeSub> {
  await e.svc.fromXmpp(stanza('subscribe'), log);
  const sub = e.sip.subs.at(-1)!;
  sub.onEvent({ kind: 'notify', state: 'active', substate: 'active', expires: 3600, ...(doc ? { doc } : {}) });
  await settle();
  return sub;
}

describe('presence service, XMPP user watches a SIP contact', () => {
  let e: Env;
  beforeEach(() => { e = env(); });
  afterEach(() => e.svc.close());

  test('C1: subscribe → SUBSCRIBE from the user\'s SIP URI to the contact\'s AOR; stored as subscribing', async () => {
    await e.svc.fromXmpp(stanza('subscribe'), log);
    assert.deepEqual(e.sip.subscribes, [{ targetUri: ROMEO_AOR, fromUri: 'sip:alice@example.com', expires: 3600 }]);
    const rec = await e.store.getX2s(ALICE, ROMEO_AOR);
    assert.equal(rec?.state, 'subscribing');
    assert.equal(rec?.dialog?.dialogId, 'call-1;from-tag=lt');
    assert.deepEqual(e.xmpp.sent, []);
  });

  test('C2 + C3: pending → nothing; active → subscribed, then one presence per tuple to the bare JID', async () => {
    await e.svc.fromXmpp(stanza('subscribe'), log);
    const sub = e.sip.subs[0]!;
    sub.onEvent({ kind: 'notify', state: 'pending', substate: 'pending' });
    await settle();
    assert.deepEqual(e.xmpp.sent, []);
    assert.equal((await e.store.getX2s(ALICE, ROMEO_AOR))?.state, 'pending');
    sub.onEvent({ kind: 'notify', state: 'active', substate: 'active', expires: 499, doc: open('ID-dr4hcr0st3lup4c', 'away') });
    await settle();
    assert.deepEqual(e.xmpp.take(), [
      { from: ROMEO, to: ALICE, type: 'subscribed' },
      { from: `${ROMEO}/dr4hcr0st3lup4c`, to: ALICE, presence: { resource: 'dr4hcr0st3lup4c', available: true, show: 'away' } },
    ]);
    // The same state again is not repeated; C16: zero tuples → nothing.
    sub.onEvent({ kind: 'notify', state: 'active', substate: 'active', doc: open('ID-dr4hcr0st3lup4c', 'away') });
    sub.onEvent({ kind: 'notify', state: 'active', substate: 'active', doc: { entity: 'pres:romeo@example.org', tuples: [], notes: [] } });
    await settle();
    assert.deepEqual(e.xmpp.sent, []);
  });

  test('a tuple without an id-derived resource uses the default resource', async () => {
    await approved(e, { entity: 'pres:romeo@example.org', notes: [], tuples: [{ id: 'ID-', basic: 'open', notes: [] }] });
    assert.ok(e.xmpp.sent.some((p) => p.from === `${ROMEO}/sip`), JSON.stringify(e.xmpp.sent));
  });

  test('C5: 403, 489, 603 (and 404) cancel the authorization: unsubscribed, record gone', async () => {
    for (const status of [403, 489, 603, 404]) {
      e.sip.next.push({ kind: 'rejected', status, reason: 'no' });
      await e.svc.fromXmpp(stanza('subscribe'), log);
      await settle();
      assert.deepEqual(e.xmpp.take(), [{ from: ROMEO, to: ALICE, type: 'unsubscribed' }], String(status));
      assert.equal(await e.store.getX2s(ALICE, ROMEO_AOR), undefined);
    }
  });

  test('C5: 423, 481, 5xx and timeouts keep the authorization and retry with backoff', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      e.sip.next.push({ kind: 'rejected', status: 423, reason: 'Interval Too Brief', minExpires: 7200 }, { kind: 'timeout' });
      await e.svc.fromXmpp(stanza('subscribe'), log);
      await settle();
      assert.equal(e.sip.subscribes.length, 1);
      assert.equal((await e.store.getX2s(ALICE, ROMEO_AOR))?.state, 'subscribing');
      assert.deepEqual(e.xmpp.sent, []);
      mock.timers.tick(2000); // first backoff step: 1-2 s
      await settle();
      assert.equal(e.sip.subscribes.length, 2);
      mock.timers.tick(4000);
      await settle();
      assert.equal(e.sip.subscribes.length, 3);
    } finally {
      mock.timers.reset();
    }
  });

  test('the per-user cap refuses the next contact with policy-violation', async () => {
    for (const name of ['a', 'b', 'c']) await e.svc.fromXmpp(stanza('subscribe', ALICE, `${name}@${GW}`), log);
    await e.svc.fromXmpp(stanza('subscribe', ALICE, `d@${GW}`), log);
    assert.equal(e.sip.subscribes.length, 3);
    assert.equal(e.xmpp.errors[0]?.error.condition, 'policy-violation');
    assert.equal(e.svc.tableSizes.presence_x2s_entries, 3, 'a refused request leaves no entry behind');
    // An existing subscription is not refused.
    await e.svc.fromXmpp(stanza('subscribe', ALICE, `a@${GW}`), log);
    assert.equal(e.xmpp.errors.length, 1);
  });

  test('subscribe for an address that is not a SIP user is refused with the mapping\'s condition', async () => {
    await e.svc.fromXmpp(stanza('subscribe', ALICE, GW), log);
    assert.equal(e.xmpp.errors.length, 1);
    await e.svc.fromXmpp(stanza('subscribe', 'eve@elsewhere.net', ROMEO), log);
    assert.equal(e.xmpp.errors[1]?.error.condition, 'not-allowed');
    assert.deepEqual(e.sip.subscribes, []);
  });

  test('a repeated subscribe of an approved contact is answered at once with subscribed and the cached presence', async () => {
    await approved(e, open('ID-desk'));
    e.xmpp.take();
    await e.svc.fromXmpp(stanza('subscribe'), log);
    assert.deepEqual(e.xmpp.take().map((p) => [p.from, p.type]), [[ROMEO, 'subscribed'], [`${ROMEO}/desk`, undefined]]);
    assert.equal(e.sip.subscribes.length, 1, 'no second dialog');
  });

  test('C6: unsubscribe → in-dialog Expires 0, record deleted, unsubscribed', async () => {
    const sub = await approved(e);
    e.xmpp.take();
    await e.svc.fromXmpp(stanza('unsubscribe'), log);
    assert.equal(sub.unsubscribed, 1);
    assert.equal(await e.store.getX2s(ALICE, ROMEO_AOR), undefined);
    assert.deepEqual(e.xmpp.take(), [{ from: ROMEO, to: ALICE, type: 'unsubscribed' }]);
  });

  test('probe: unauthorized → unsubscribed; pending → nothing (it would cancel the request); authorized → cache', async () => {
    await e.svc.fromXmpp(stanza('probe', ALICE), log);
    assert.deepEqual(e.xmpp.take(), [{ from: ROMEO, to: ALICE, type: 'unsubscribed' }]);
    await e.svc.fromXmpp(stanza('subscribe'), log);
    await e.svc.fromXmpp(stanza('probe', ALICE), log);
    assert.deepEqual(e.xmpp.take(), []);
    const sub = e.sip.subs[0]!;
    sub.onEvent({ kind: 'notify', state: 'active', substate: 'active', doc: open('ID-desk', 'dnd') });
    await settle();
    e.xmpp.take();
    await e.svc.fromXmpp(stanza('probe', `${ALICE}/garden`), log);
    assert.deepEqual(e.xmpp.take(), [{ from: `${ROMEO}/desk`, to: `${ALICE}/garden`, presence: { resource: 'desk', available: true, show: 'dnd' } }]);
    // A probe of a full JID answers for that resource only; an unknown one is unavailable.
    await e.svc.fromXmpp(stanza('probe', ALICE, `${ROMEO}/mobile`), log);
    assert.deepEqual(e.xmpp.take(), [{ from: `${ROMEO}/mobile`, to: ALICE, type: 'unavailable' }]);
  });

  test('C7: a probe with nothing cached and no dialog → fetch (Expires 0 in a new dialog), answered from its NOTIFY', async () => {
    const sub = await approved(e);
    e.xmpp.take();
    // The dialog lapses while alice is offline ...
    await e.svc.fromXmpp(stanza('unavailable', `${ALICE}/balcony`, ROMEO), log);
    await e.svc.fromXmpp({ from: `${ALICE}/balcony`, to: ROMEO }, log);
    await e.svc.fromXmpp(stanza('unavailable', `${ALICE}/balcony`, ROMEO), log);
    await settle();
    assert.equal((await e.store.getX2s(ALICE, ROMEO_AOR))?.interested, false);
    sub.onEvent({ kind: 'ended', why: 'expired' });
    await settle();
    assert.equal(e.sip.subscribes.length, 1, 'no resubscription while offline (RFC 8048 §5.2.2)');
    // ... and her server probes when she comes back.
    e.sip.fetchDoc = open('ID-desk', 'xa');
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      await e.svc.fromXmpp(stanza('probe', ALICE), log);
      assert.deepEqual(e.sip.fetches, [{ targetUri: ROMEO_AOR, fromUri: 'sip:alice@example.com' }]);
      assert.deepEqual(e.xmpp.take(), [{ from: `${ROMEO}/desk`, to: ALICE, presence: { resource: 'desk', available: true, show: 'xa' } }]);
      mock.timers.tick(1);
      await settle();
    } finally {
      mock.timers.reset();
    }
    assert.equal(e.sip.subscribes.length, 2, 'and the dialog is re-established');
    assert.equal((await e.store.getX2s(ALICE, ROMEO_AOR))?.interested, true);
  });

  test('§3.4: terminated;reason=noresource ends the authorization; deactivated resubscribes', async () => {
    const sub = await approved(e, open('ID-desk'));
    e.xmpp.take();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      sub.onEvent({ kind: 'notify', state: 'terminated', substate: 'terminated', reason: 'deactivated' });
      sub.onEvent({ kind: 'ended', why: 'terminated' });
      await settle();
      mock.timers.tick(1);
      await settle();
      assert.equal(e.sip.subscribes.length, 2);
      const again = e.sip.subs[1]!;
      again.onEvent({ kind: 'notify', state: 'terminated', substate: 'terminated', reason: 'noresource' });
      again.onEvent({ kind: 'ended', why: 'terminated' });
      await settle();
    } finally {
      mock.timers.reset();
    }
    assert.deepEqual(e.xmpp.take(), [
      { from: `${ROMEO}/desk`, to: ALICE, type: 'unavailable' },
      { from: ROMEO, to: ALICE, type: 'unsubscribed' },
    ]);
    assert.equal(await e.store.getX2s(ALICE, ROMEO_AOR), undefined);
  });
});

describe('presence service, SIP user watches an XMPP user', () => {
  let e: Env;
  beforeEach(() => { e = env(); });
  afterEach(() => e.svc.close());

  const req = (watcher = 'sip:bob@example.org', over: Partial<WatcherRequest> = {}): WatcherRequest =>
    ({ watcherUri: watcher, targetUri: 'sip:alice@example.com', expires: 3600, isFetch: false, callId: `c-${Math.random()}`, ...over });

  test('C8: a new watcher → pending, and subscribe from the SIP user\'s JID; refusals for bad addresses', async () => {
    assert.deepEqual(await e.svc.handlers.onSubscribe(req()), { accept: true, state: 'pending' });
    assert.deepEqual(e.xmpp.take(), [{ from: `bob@${GW}`, to: ALICE, type: 'subscribe' }]);
    assert.equal((await e.store.getS2x('sip:bob@example.org', ALICE))?.authorization, 'pending');
    assert.deepEqual(await e.svc.handlers.onSubscribe(req('sip:bob@10.0.0.1')), { accept: false, status: 403, reason: 'Forbidden' });
    const unknown = await e.svc.handlers.onSubscribe({ ...req(), targetUri: 'sip:alice@elsewhere.net' });
    assert.deepEqual(unknown, { accept: false, status: 404, reason: 'Not Found' });
  });

  test('the per-watcher cap answers 403', async () => {
    for (const user of ['a', 'b', 'c']) await e.svc.handlers.onSubscribe({ ...req(), targetUri: `sip:${user}@example.com` });
    const over = await e.svc.handlers.onSubscribe({ ...req(), targetUri: 'sip:d@example.com' });
    assert.deepEqual(over, { accept: false, status: 403, reason: 'Subscription Limit Reached' });
  });

  test('presence is cached per watcher: what the server sent to bob is never shown to carol (RFC 8048 §8.2)', async () => {
    await e.svc.fromXmpp({ from: `${ALICE}/balcony`, to: `bob@${GW}`, presence: { available: true, show: 'dnd' } }, log);
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'subscribed' }, log);
    await e.svc.fromXmpp({ from: ALICE, to: `carol@${GW}`, type: 'subscribed' }, log);
    const bob = await e.svc.handlers.onSubscribe(req());
    assert.equal(bob.accept && bob.state, 'active');
    assert.deepEqual(bob.accept && bob.doc?.tuples.map((t) => [t.id, t.basic, t.show]), [['ID-balcony', 'open', 'dnd']]);
    e.xmpp.take();
    const carol = await e.svc.handlers.onSubscribe(req('sip:carol@example.org'));
    assert.deepEqual(carol, { accept: true, state: 'active' }, 'authorized but nothing was sent to carol: no body');
    assert.deepEqual(e.xmpp.take(), [{ from: `carol@${GW}`, to: ALICE, type: 'probe' }]);
  });

  test('bare-JID unavailable closes every resource and adds no tuple of its own', async () => {
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'subscribed' }, log);
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'unavailable', presence: { available: false } }, log);
    let doc = await e.svc.handlers.onFetch!(req('sip:bob@example.org', { isFetch: true, expires: 0 }));
    assert.deepEqual(doc?.tuples.map((t) => [t.id, t.basic]), [['ID-', 'closed']], 'offline, nothing else known');
    await e.svc.fromXmpp({ from: `${ALICE}/a`, to: `bob@${GW}`, presence: { available: true } }, log);
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'unavailable', presence: { available: false } }, log);
    doc = await e.svc.handlers.onFetch!(req('sip:bob@example.org', { isFetch: true, expires: 0 }));
    assert.deepEqual(doc?.tuples.map((t) => [t.id, t.basic]), [['ID-a', 'closed']]);
  });

  test('C12: a fetch with nothing cached probes and waits up to fetchTimeoutMs; the answer becomes the body', async () => {
    const pending = e.svc.handlers.onFetch!(req('sip:bob@example.org', { isFetch: true, expires: 0 }));
    await settle();
    assert.deepEqual(e.xmpp.take(), [{ from: `bob@${GW}`, to: ALICE, type: 'probe' }]);
    await e.svc.fromXmpp({ from: `${ALICE}/balcony`, to: `bob@${GW}`, presence: { available: true } }, log);
    assert.deepEqual((await pending)?.tuples.map((t) => [t.id, t.basic]), [['ID-balcony', 'open']]);
  });

  test('C10 / C11 through a watcher: unsubscribed terminates rejected; Expires 0 gives a closed PIDF and unavailable', async () => {
    const notified: string[] = [];
    const w = (id: string): Watcher => ({
      dialogId: id, watcherUri: 'sip:bob@example.org', targetUri: 'sip:alice@example.com', callId: id, localTag: 'l', remoteTag: 'r',
      contactUri: 'sip:bob@127.0.0.1', expiresAt: Date.now() + 60_000, alive: true,
      notify: (s, doc) => { notified.push(`${id} ${s.state} ${doc ? doc.tuples.length : 'empty'}`); return Promise.resolve('ok'); },
      terminate: (reason) => { notified.push(`${id} terminated ${reason}`); return Promise.resolve(); },
    });
    await e.svc.handlers.onSubscribe(req());
    const w1 = w('d1');
    e.svc.handlers.onWatcher!(w1);
    await settle();
    assert.equal((await e.store.getS2x('sip:bob@example.org', ALICE))?.dialog?.dialogId, 'd1');
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'subscribed' }, log);
    await e.svc.fromXmpp({ from: `${ALICE}/x`, to: `bob@${GW}`, presence: { available: true } }, log);
    assert.deepEqual(notified.splice(0), ['d1 active empty', 'd1 active 1']);
    const final = await e.svc.handlers.onUnsubscribe!(w1);
    assert.deepEqual(final?.tuples.map((t) => [t.id, t.basic]), [['ID-x', 'closed']]);
    await settle();
    assert.ok(e.xmpp.take().some((p) => p.from === `bob@${GW}` && p.type === 'unavailable'));
    assert.equal((await e.store.getS2x('sip:bob@example.org', ALICE))?.dialog, undefined);
    const w2 = w('d2');
    e.svc.handlers.onWatcher!(w2);
    await e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'unsubscribed' }, log);
    assert.deepEqual(notified, ['d2 terminated rejected']);
    assert.equal(await e.store.getS2x('sip:bob@example.org', ALICE), undefined);
  });
});

describe('presence service, notifications without repeats', () => {
  test('subscribed and the presence right behind it give one NOTIFY with the state, not the same body twice', async () => {
    const e = env();
    try {
      const notified: string[] = [];
      const w: Watcher = {
        dialogId: 'd', watcherUri: 'sip:bob@example.org', targetUri: 'sip:alice@example.com', callId: 'd', localTag: 'l', remoteTag: 'r',
        contactUri: 'sip:bob@127.0.0.1', expiresAt: Date.now() + 60_000, alive: true,
        notify: (st, doc) => { notified.push(`${st.state} ${doc ? doc.tuples.map((t) => t.id).join(',') : 'empty'}`); return Promise.resolve('ok'); },
        terminate: () => Promise.resolve(),
      };
      await e.svc.handlers.onSubscribe({ watcherUri: 'sip:bob@example.org', targetUri: 'sip:alice@example.com', expires: 3600, isFetch: false, callId: 'd' });
      e.svc.handlers.onWatcher!(w);
      const a = e.svc.fromXmpp({ from: ALICE, to: `bob@${GW}`, type: 'subscribed' }, log);
      const b = e.svc.fromXmpp({ from: `${ALICE}/balcony`, to: `bob@${GW}`, presence: { available: true } }, log);
      await Promise.all([a, b]);
      await settle();
      assert.deepEqual(notified, ['active ID-balcony']);
    } finally {
      e.svc.close();
    }
  });
});

describe('presence service, start-up re-establishment', () => {
  test('resubscribes interested X2S records (stale dialogs forgotten), probes watched users, skips offline users', async () => {
    const store = createMemoryStore();
    const dialog = { dialogId: 'old;from-tag=x', callId: 'old', localTag: 'x', expiresAt: Date.now() + 1000 };
    await store.putX2s({ xmppUser: ALICE, sipContact: ROMEO_AOR, state: 'active', interested: true, dialog });
    await store.putX2s({ xmppUser: 'zoe@example.com', sipContact: ROMEO_AOR, state: 'active', interested: false });
    await store.putS2x({
      sipWatcher: 'sip:bob@example.org', xmppUser: ALICE, authorization: 'granted',
      dialog: { ...dialog, dialogId: 'w;from-tag=y', remoteTag: 'y' },
    });
    await store.putS2x({ sipWatcher: 'sip:carol@example.org', xmppUser: ALICE, authorization: 'granted' });
    const e = env(store);
    try {
      assert.deepEqual(await e.svc.restore(), { resubscribes: 1, probes: 1 });
      await new Promise((r) => setTimeout(r, 50));
      await settle();
      assert.deepEqual(e.sip.subscribes.map((s) => s.fromUri), ['sip:alice@example.com']);
      assert.deepEqual(e.xmpp.take(), [{ from: `bob@${GW}`, to: ALICE, type: 'probe' }]);
      assert.equal((await store.getX2s(ALICE, ROMEO_AOR))?.dialog?.dialogId, 'call-1;from-tag=lt', 'the new dialog replaced the stale one');
      assert.equal((await store.getS2x('sip:bob@example.org', ALICE))?.dialog, undefined);
      // The first NOTIFY of an authorization that was already active sends no second `subscribed`.
      e.sip.subs[0]!.onEvent({ kind: 'notify', state: 'active', substate: 'active', doc: open('ID-desk') });
      await settle();
      assert.deepEqual(e.xmpp.take().map((p) => p.type ?? 'available'), ['available']);
    } finally {
      e.svc.close();
    }
  });
});
