// The SIP subscriber side of presence (RFC 8048 §5.2, RFC 6665) with the
// real drachtio-srf, a SipLink and the SipRouter, against the drachtio double
// (drachtio-protocol.md A.7, A.8, A.12 Quirk 1). Vectors: sip-xmpp-mapping.md §10 C.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { Health } from '../../src/core/health.js';
import { InFlight } from '../../src/core/inflight.js';
import { Metrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import { SipLink } from '../../src/sip/link.js';
import { SipRouter } from '../../src/sip/router.js';
import {
  PresenceSubscriber, type PresenceSubscriberOptions, type SubscribeOutcome, type SubscribeRequest, type Subscription,
  type SubscriptionEvent,
} from '../../src/sip/presence-uac/index.js';
import {
  DrachtioDouble, buildSipRequest, cseqOf, tagOf, type OutboundRequest,
} from '../support/drachtio-double/index.js';

const PIDF = 'application/pidf+xml';
// RFC 8048 §5.2.1 Ex.4 (C3).
const OPEN_AWAY = '<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:romeo@example.net">'
  + '<tuple id="ID-dr4hcr0st3lup4c"><status><basic>open</basic><show xmlns="jabber:client">away</show></status></tuple></presence>';
const CLOSED = '<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:romeo@example.net">'
  + '<tuple id="ID-dr4hcr0st3lup4c"><status><basic>closed</basic></status></tuple></presence>';

const ROMEO = 'sip:romeo@127.0.0.1:5090';
const JULIET = 'sip:juliet@example.com';

interface Bed {
  dd: DrachtioDouble;
  link: SipLink;
  router: SipRouter;
  presence: PresenceSubscriber;
  /** srf's dialog table (A.12): what Quirk 1 leaks. */
  srfDialogs: Map<string, unknown>;
}

async function bed(t: TestContext, opts: Partial<PresenceSubscriberOptions> = {}): Promise<Bed> {
  const dd = await DrachtioDouble.start();
  const log = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const metrics = new Metrics();
  const link = new SipLink({
    mode: 'inbound', host: dd.host, port: dd.port, secret: 'cymru', listenHost: '127.0.0.1', listenPort: 0,
    pingIntervalMs: 15000, reconnectMaxDelayMs: 300, startTimeoutMs: 3000,
  }, log, metrics, new Health());
  // The gateway's router is there too: NOTIFYs must not fall through to it (it would answer 405).
  const router = new SipRouter(link, ['127.0.0.1'], log, metrics, new InFlight());
  const presence = new PresenceSubscriber(link, { maxSubscriptions: 8, requestTimeoutMs: 3000, unsubscribeGraceMs: 3000, metrics, ...opts });
  t.after(async () => {
    presence.close();
    await link.stop();
    await dd.stop();
    assert.deepEqual(dd.errors, [], 'the double handled every frame');
  });
  await link.start();
  await dd.waitForRoute('notify');
  const srfDialogs = (link.srf as unknown as { _dialogs: Map<string, unknown> })._dialogs;
  return { dd, link, router, presence, srfDialogs };
}

function recorder(): { events: SubscriptionEvent[]; on: (e: SubscriptionEvent) => void } {
  const events: SubscriptionEvent[] = [];
  return { events, on: (e) => events.push(e) };
}

const dialogIdOf = (req: OutboundRequest): string => `${req.get('call-id')};from-tag=${tagOf(req.get('from'))}`;

/** Subscribes and answers the SUBSCRIBE with 202 (Expires as asked unless given). */
async function established(b: Bed, req: Partial<SubscribeRequest> = {}, expires?: string) {
  const r = recorder();
  const outcome = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600, ...req }, r.on);
  const sub = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
  sub.respond(202, 'Accepted', { toTag: 'notifier1', headers: { Expires: expires ?? sub.get('expires') ?? '3600' } });
  const o = await outcome;
  assert.equal(o.kind, 'accepted');
  const subscription = (o as Extract<SubscribeOutcome, { kind: 'accepted' }>).subscription;
  return { ...r, sub, subscription, dialogId: dialogIdOf(sub) };
}

function notify(b: Bed, dialogId: string, state: string, body?: string, headers: Record<string, string> = {}) {
  return b.dd.injectInDialog(dialogId, {
    method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': state, ...headers },
    ...(body !== undefined ? { body, contentType: PIDF } : {}),
  });
}

const waitEvent = (b: Bed, events: SubscriptionEvent[], pred: (e: SubscriptionEvent) => boolean, what: string) =>
  b.dd.waitFor(() => events.find(pred), what, { timeoutMs: 3000 });

describe('presence subscriber (RFC 8048 §5.2, RFC 6665)', () => {
  it('C1-C3: SUBSCRIBE headers and proxy, 202, NOTIFY pending (no doc), NOTIFY active with a PIDF', async (t) => {
    const b = await bed(t);
    const r = recorder();
    const outcome = b.presence.subscribe({
      targetUri: ROMEO, fromUri: `${JULIET};gr=yn0cl4bnw0yr3vym`, expires: 3600,
      contact: 'sip:juliet@127.0.0.1:5080;gr=yn0cl4bnw0yr3vym', proxy: 'sip:127.0.0.1:5060',
    }, r.on);
    const sub = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(sub.proxy, 'sip:127.0.0.1:5060', 'the outbound proxy token (A.7)');
    assert.equal(sub.target.port, 5060);
    assert.equal(sub.uri, ROMEO);
    assert.match(sub.get('from') ?? '', /^<sip:juliet@example\.com;gr=yn0cl4bnw0yr3vym>;tag=\w+$/);
    assert.equal(sub.get('to'), `<${ROMEO}>`);
    assert.equal(sub.get('event'), 'presence');
    assert.equal(sub.get('accept'), PIDF);
    assert.equal(sub.get('expires'), '3600');
    assert.equal(sub.get('contact'), '<sip:juliet@127.0.0.1:5080;gr=yn0cl4bnw0yr3vym>');
    assert.equal(sub.get('content-length'), '0');
    sub.respond(202, 'Accepted', { toTag: 'notifier1', headers: { Expires: '3600' } });
    const o = await outcome;
    assert.equal(o.kind, 'accepted');
    const { subscription, expires } = o as Extract<SubscribeOutcome, { kind: 'accepted' }>;
    assert.equal(expires, 3600);
    const dialogId = dialogIdOf(sub);
    assert.equal(subscription.dialogId, dialogId);
    assert.equal(subscription.callId, sub.get('call-id'));
    assert.equal(subscription.localTag, tagOf(sub.get('from')));
    assert.equal(subscription.remoteTag, 'notifier1');
    assert.equal(subscription.state, 'pending', 'neutral until a NOTIFY (RFC 3856 §6.7)');
    assert.ok(b.srfDialogs.has(dialogId));

    const pending = notify(b, dialogId, 'pending;expires=3600');
    assert.equal((await pending.response()).status, 200);
    const ev1 = await waitEvent(b, r.events, (e) => e.kind === 'notify', 'the pending notify event');
    assert.deepEqual(ev1, { kind: 'notify', state: 'pending', substate: 'pending', expires: 3600 });

    const active = notify(b, dialogId, 'active;expires=499', OPEN_AWAY, { 'Content-Language': 'en' });
    assert.equal((await active.response()).status, 200);
    const ev2 = await waitEvent(b, r.events, (e) => e.kind === 'notify' && e.state === 'active', 'the active notify event');
    assert.ok(ev2.kind === 'notify');
    assert.equal(ev2.expires, 499);
    assert.equal(ev2.lang, 'en');
    assert.equal(ev2.doc?.entity, 'pres:romeo@example.net');
    assert.deepEqual(ev2.doc?.tuples.map((x) => [x.id, x.basic, x.show]), [['ID-dr4hcr0st3lup4c', 'open', 'away']]);
    assert.equal(subscription.state, 'active');
    assert.ok(Math.abs(subscription.expiresAt - (Date.now() + 499_000)) < 2000, 'the NOTIFY expires is authoritative');
    assert.equal(r.events.length, 2);
  });

  it('C5: 403, 489 and 603 are rejected outcomes; a local 408 is a timeout; nothing is left behind', async (t) => {
    const b = await bed(t);
    for (const [status, headers] of [[403, {}], [489, {}], [603, { 'Retry-After': '120 (busy)' }]] as const) {
      const outcome = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600 }, () => assert.fail('no events'));
      const sub = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
      sub.respond(status, undefined, { headers });
      const o = await outcome;
      assert.equal(o.kind, 'rejected');
      assert.equal((o as { status: number }).status, status);
      if (status === 603) assert.equal((o as { retryAfter?: number }).retryAfter, 120);
    }
    const timing = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600 }, () => undefined);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).timeout();
    assert.deepEqual(await timing, { kind: 'timeout' });
    assert.equal(b.srfDialogs.size, 0, 'no placeholder or dialog left in srf');
    assert.equal(b.presence.size, 0);
  });

  it('423 is retried once with Min-Expires; a 2xx never grants more than asked; a second 423 is the outcome', async (t) => {
    const b = await bed(t);
    const outcome = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 60 }, () => undefined);
    const first = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(first.get('expires'), '60');
    first.respond(423, 'Interval Too Brief', { headers: { 'Min-Expires': '1800' } });
    const second = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(second.get('expires'), '1800');
    assert.notEqual(second.get('call-id'), first.get('call-id'), 'a new dialog-creating request');
    second.respond(202, 'Accepted', { headers: { Expires: '7200' } });
    const o = await outcome;
    assert.equal(o.kind, 'accepted');
    assert.equal((o as { expires: number }).expires, 1800, 'RFC 6665 §4.1.2.1: never longer than asked');

    const again = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 60 }, () => undefined);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).respond(423, undefined, { headers: { 'Min-Expires': '120' } });
    const retry = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(retry.get('expires'), '120');
    retry.respond(423, undefined, { headers: { 'Min-Expires': '300' } });
    assert.deepEqual(await again, { kind: 'rejected', status: 423, reason: 'Unknown', minExpires: 300 });
    assert.equal(b.dd.requests.filter((x) => x.method === 'SUBSCRIBE').length, 4, 'one retry only');
  });

  it('C6: refresh in the dialog (CSeq+1, same Call-ID and tags), unsubscribe with Expires 0, the terminating NOTIFY ends it', async (t) => {
    const b = await bed(t);
    const { sub, subscription, dialogId, events } = await established(b);
    const refreshed = subscription.refresh(600);
    const ref = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(ref.dialogId, dialogId);
    assert.equal(ref.uri, 'sip:romeo@127.0.0.1:5090', 'to the notifier\'s Contact');
    assert.equal(ref.get('call-id'), sub.get('call-id'));
    assert.equal(ref.get('from'), sub.get('from'));
    assert.equal(ref.get('to'), `<${ROMEO}>;tag=notifier1`);
    assert.equal(cseqOf(ref.message).seq, cseqOf(sub.message).seq + 1);
    assert.equal(ref.get('expires'), '600');
    assert.equal(ref.get('event'), 'presence');
    ref.respond(200, 'OK', { headers: { Expires: '300' } });
    assert.deepEqual(await refreshed, { kind: 'refreshed', expires: 300 });
    assert.ok(Math.abs(subscription.expiresAt - (Date.now() + 300_000)) < 2000);

    const errors: unknown[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    t.after(() => {
      console.error = consoleError;
    });
    const unsubscribed = subscription.unsubscribe();
    const un = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(un.get('expires'), '0');
    assert.equal(un.get('call-id'), sub.get('call-id'));
    assert.equal(un.get('to'), `<${ROMEO}>;tag=notifier1`);
    assert.equal(cseqOf(un.message).seq, cseqOf(sub.message).seq + 2);
    un.respond(200);
    await unsubscribed;
    assert.equal(subscription.ended, false, 'the terminating NOTIFY ends it, not the 200');

    const last = notify(b, dialogId, 'terminated;reason=timeout', CLOSED);
    assert.equal((await last.response()).status, 500, 'Quirk 1: drachtio-server answers 500 itself');
    const ended = await waitEvent(b, events, (e) => e.kind === 'ended', 'the ended event');
    assert.deepEqual(ended, { kind: 'ended', why: 'unsubscribed' });
    const term = events.find((e) => e.kind === 'notify' && e.state === 'terminated');
    assert.ok(term?.kind === 'notify');
    assert.equal(term.reason, 'timeout');
    assert.equal(term.doc?.tuples[0]?.basic, 'closed');
    assert.equal(b.srfDialogs.has(dialogId), false, 'the srf dialog is removed (Quirk 1)');
    assert.equal(b.presence.size, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors, [], 'srf\'s deferred removeSubscription finds the NOTIFY\'s entry and prints nothing');
    assert.deepEqual(await subscription.refresh(60), { kind: 'ended' });
  });

  it('terminating NOTIFYs (rejected, deactivated, probation) end the subscription with their reason and remove srf\'s dialog', async (t) => {
    const b = await bed(t);
    for (const [state, reason, retryAfter] of [
      ['terminated;reason=rejected', 'rejected', undefined],
      ['terminated;reason=deactivated', 'deactivated', undefined],
      ['Terminated ; reason=Probation ; retry-after=30', 'probation', 30],
    ] as const) {
      const { dialogId, events, subscription } = await established(b);
      assert.ok(b.srfDialogs.has(dialogId));
      const n = notify(b, dialogId, state);
      assert.equal((await n.response()).status, 500);
      const ended = await waitEvent(b, events, (e) => e.kind === 'ended', `ended after ${reason}`);
      assert.deepEqual(ended, { kind: 'ended', why: 'terminated' });
      const term = events[0];
      assert.ok(term?.kind === 'notify');
      assert.equal(term.state, 'terminated');
      assert.equal(term.reason, reason);
      assert.equal(term.retryAfter, retryAfter);
      assert.equal(subscription.ended, true);
      assert.equal(b.srfDialogs.has(dialogId), false, `srf dialog removed after ${reason}`);
    }
    assert.equal(b.presence.size, 0);
  });

  it('refuses a malformed PIDF (400), another event (489), another body type (415), a NOTIFY without Subscription-State (400)', async (t) => {
    const b = await bed(t);
    const { dialogId, events, subscription } = await established(b);
    const bad = notify(b, dialogId, 'active;expires=3600', '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:r@x"><tuple');
    assert.equal((await bad.response()).status, 400);
    const wrongEvent = b.dd.injectInDialog(dialogId, { method: 'NOTIFY', headers: { Event: 'dialog', 'Subscription-State': 'active' } });
    assert.equal((await wrongEvent.response()).status, 489);
    const text = b.dd.injectInDialog(dialogId, { method: 'NOTIFY', body: 'open', contentType: 'text/plain',
      headers: { Event: 'presence', 'Subscription-State': 'active' } });
    const r415 = await text.response();
    assert.equal(r415.status, 415);
    assert.equal(r415.get('accept'), PIDF);
    const noState = b.dd.injectInDialog(dialogId, { method: 'NOTIFY', headers: { Event: 'presence' } });
    assert.equal((await noState.response()).status, 400);
    await b.dd.waitFor(() => events.length === 4 || undefined, 'four refused-notify events');
    assert.deepEqual(events.map((e) => e.kind === 'refused-notify' && e.status), [400, 489, 415, 400]);
    assert.equal(subscription.ended, false);
    assert.equal(subscription.state, 'pending', 'a refused NOTIFY changes nothing');
    const good = notify(b, dialogId, 'active', OPEN_AWAY);
    assert.equal((await good.response()).status, 200);
  });

  it('a NOTIFY racing ahead of the 202 is held, answered 200 after it, and its event follows the outcome', async (t) => {
    const b = await bed(t);
    const r = recorder();
    let eventsAtOutcome = -1;
    const outcome = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600 }, r.on)
      .then((o) => {
        eventsAtOutcome = r.events.length;
        return o;
      });
    const sub = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    const early = b.dd.inject(buildSipRequest({
      method: 'NOTIFY', uri: 'sip:127.0.0.1:5080', from: `<${ROMEO}>;tag=notifier1`, to: sub.get('from') ?? '',
      callId: sub.get('call-id'), peer: { port: 5090 }, contact: `<${ROMEO}>`, body: OPEN_AWAY, contentType: PIDF,
      headers: { Event: 'presence', 'Subscription-State': 'active;expires=3600' },
    }));
    await b.dd.waitForFrame((f) => f.tokens[2] === 'network' && /^NOTIFY /.test(f.body ?? ''));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(early.responses.length, 0, 'held until the SUBSCRIBE is answered');
    sub.respond(202, 'Accepted', { toTag: 'notifier1', headers: { Expires: '3600' } });
    const o = await outcome;
    assert.equal(o.kind, 'accepted');
    assert.equal((await early.response()).status, 200);
    const ev = await waitEvent(b, r.events, (e) => e.kind === 'notify', 'the early NOTIFY\'s event');
    assert.equal(eventsAtOutcome, 0, 'no event before the outcome');
    assert.ok(ev.kind === 'notify' && ev.state === 'active' && ev.doc?.tuples.length === 1);
    assert.equal((o as { subscription: Subscription }).subscription.state, 'active');
  });

  it('C7: fetch sends Expires 0 in a new Call-ID and resolves with the NOTIFY\'s body; rejections and silence', async (t) => {
    const b = await bed(t);
    const live = await established(b);
    const polled = b.presence.fetch({ targetUri: ROMEO, fromUri: JULIET }, 2000);
    const poll = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(poll.get('expires'), '0');
    assert.equal(poll.get('event'), 'presence');
    assert.equal(poll.get('accept'), PIDF);
    assert.equal(poll.dialogId, undefined, 'outside any dialog');
    assert.notEqual(poll.get('call-id'), live.sub.get('call-id'));
    poll.respond(202, 'Accepted', { headers: { Expires: '0' } });
    const pollDialog = dialogIdOf(poll);
    await b.dd.waitFor(() => b.dd.dialog(pollDialog), 'the poll dialog');
    const n = notify(b, pollDialog, 'terminated;reason=timeout', OPEN_AWAY);
    assert.equal((await n.response()).status, 500, 'Quirk 1 applies to polls too');
    const got = await polled;
    assert.equal(got.kind, 'doc');
    assert.ok(got.kind === 'doc');
    assert.equal(got.state, 'terminated');
    assert.equal(got.doc?.tuples[0]?.show, 'away');
    assert.equal(b.srfDialogs.has(pollDialog), false);
    assert.ok(b.srfDialogs.has(live.dialogId), 'the live subscription is untouched');

    const refused = b.presence.fetch({ targetUri: ROMEO, fromUri: JULIET }, 2000);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).respond(403);
    assert.deepEqual(await refused, { kind: 'rejected', status: 403, reason: 'Forbidden' });

    const silent = b.presence.fetch({ targetUri: ROMEO, fromUri: JULIET }, 300);
    const quiet = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    quiet.respond(200);
    assert.deepEqual(await silent, { kind: 'timeout' });
    assert.equal(b.srfDialogs.has(dialogIdOf(quiet)), false);
    assert.equal(b.presence.size, 1);
  });

  it('refresh: 423 is retried with Min-Expires, 403 keeps the subscription, 481 ends it', async (t) => {
    const b = await bed(t);
    const { subscription, events, dialogId } = await established(b);
    const p1 = subscription.refresh(30);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).respond(423, undefined, { headers: { 'Min-Expires': '90' } });
    const retried = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(retried.get('expires'), '90');
    assert.equal(retried.dialogId, dialogId);
    retried.respond(200, 'OK', { headers: { Expires: '90' } });
    assert.deepEqual(await p1, { kind: 'refreshed', expires: 90 });

    const p2 = subscription.refresh(3600);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).respond(403);
    assert.deepEqual(await p2, { kind: 'rejected', status: 403, reason: 'Forbidden' });
    assert.equal(subscription.ended, false, 'RFC 6665 §4.1.2.2: still valid until it expires');

    const p3 = subscription.refresh(3600);
    (await b.dd.nextRequest({ method: 'SUBSCRIBE' })).respond(481);
    assert.deepEqual(await p3, { kind: 'ended' });
    assert.deepEqual(events.at(-1), { kind: 'ended', why: 'terminated' });
    assert.equal(b.srfDialogs.has(dialogId), false);
  });

  it('no refresh before expiresAt → ended \'expired\' (the NOTIFY\'s expires shortened it)', async (t) => {
    const b = await bed(t);
    const { subscription, events, dialogId } = await established(b, { expires: 60 });
    assert.equal((await notify(b, dialogId, 'active;expires=1').response()).status, 200);
    const started = Date.now();
    const ended = await waitEvent(b, events, (e) => e.kind === 'ended', 'the expiry');
    assert.deepEqual(ended, { kind: 'ended', why: 'expired' });
    assert.ok(Date.now() - started > 700, 'not before expiresAt');
    assert.equal(subscription.ended, true);
    assert.equal(b.srfDialogs.has(dialogId), false);
    assert.equal(b.presence.size, 0);
    // The notifier still has it: its next NOTIFY reaches the router, which the gateway points at handleStrayNotify.
    b.router.handle('NOTIFY', b.presence.handleStrayNotify);
    assert.equal((await notify(b, dialogId, 'active;expires=60').response()).status, 481, 'RFC 6665 §4.1.3');
  });

  it('the drachtio connection drops: every subscription ends with connection-lost, a pending SUBSCRIBE is unavailable', async (t) => {
    const b = await bed(t);
    const one = await established(b);
    const two = await established(b, { targetUri: 'sip:mercutio@127.0.0.1:5091' });
    const pending = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600 }, () => undefined);
    await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    await b.dd.restart();
    for (const s of [one, two]) {
      assert.deepEqual(await waitEvent(b, s.events, (e) => e.kind === 'ended', 'connection-lost'), { kind: 'ended', why: 'connection-lost' });
    }
    assert.deepEqual(await pending, { kind: 'unavailable', why: 'drachtio connection lost' });
    assert.equal(b.srfDialogs.size, 0);
    assert.equal(b.presence.size, 0);
    await b.dd.waitFor(() => b.link.isUp || undefined, 'the link back up');
    const again = await established(b);
    assert.equal(again.subscription.ended, false, 'subscribing works again after the reconnect');
  });

  it('a 2xx arriving after the guard timeout is unsubscribed at once and leaves nothing behind', async (t) => {
    const b = await bed(t, { requestTimeoutMs: 200 });
    const outcome = b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 3600 }, () => assert.fail('no events'));
    const sub = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.deepEqual(await outcome, { kind: 'timeout' });
    sub.respond(202, 'Accepted', { headers: { Expires: '3600' } });
    const un = await b.dd.nextRequest({ method: 'SUBSCRIBE' });
    assert.equal(un.dialogId, dialogIdOf(sub));
    assert.equal(un.get('expires'), '0');
    assert.equal(un.get('event'), 'presence');
    assert.equal(b.srfDialogs.size, 0);
    assert.equal(b.presence.size, 0);
  });

  it('bounded registry, close(), and programmer errors', async (t) => {
    const b = await bed(t, { maxSubscriptions: 1 });
    assert.throws(() => b.presence.subscribe({ targetUri: 'romeo@example.net', fromUri: JULIET, expires: 60 }, () => undefined), TypeError);
    assert.throws(() => b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 0 }, () => undefined), TypeError);
    assert.throws(() => b.presence.subscribe({ targetUri: ROMEO, fromUri: 'sip:a b@x', expires: 60 }, () => undefined), TypeError);
    const { subscription, events, dialogId } = await established(b);
    assert.deepEqual(await b.presence.subscribe({ targetUri: ROMEO, fromUri: JULIET, expires: 60 }, () => undefined),
      { kind: 'unavailable', why: 'too many presence subscriptions (1)' });
    assert.throws(() => subscription.refresh(1.5), TypeError);
    b.presence.close();
    assert.equal(b.srfDialogs.has(dialogId), false);
    assert.equal(b.presence.size, 0);
    assert.deepEqual(events, [], 'close() ends silently');
    assert.deepEqual(await b.presence.fetch({ targetUri: ROMEO, fromUri: JULIET }, 100), { kind: 'unavailable', why: 'presence subscriber closed' });
  });
});
