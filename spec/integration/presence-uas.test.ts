// The SIP notifier side of presence (src/sip/presence-uas.ts) with the real
// drachtio-srf, SipLink and SipRouter against the drachtio double: RFC 8048
// vectors C8-C13, SUBSCRIBE checks, refresh, rate limit, expiry, unknown
// dialogs and connection loss. The SIP network is the double's; the presence
// service is a recorder the tests script.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Writable } from 'node:stream';
import {
  DrachtioDouble, buildSipRequest, cseqOf, tagOf, type OutboundRequest,
} from '../support/drachtio-double/index.js';
import { harness } from '../drachtio-double/helpers.js';
import { Health } from '../../src/core/health.js';
import { InFlight } from '../../src/core/inflight.js';
import type { PresenceDoc } from '../../src/core/presence/model.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import { parsePidf } from '../../src/sip/bodies/pidf.js';
import { SipLink } from '../../src/sip/link.js';
import { SipRouter } from '../../src/sip/router.js';
import type { SrfApp, SrfRequest, SrfResponse } from '../../src/sip/srf-types.js';
import {
  PresenceNotifier, type GoneReason, type PresenceNotifierOptions, type Watcher, type WatcherDecision,
  type WatcherHandlers, type WatcherRequest,
} from '../../src/sip/presence-uas.js';

const SECRET = 'cymru';
const JULIET = 'sip:juliet@example.com';
const ROMEO_CONTACT = '<sip:romeo@127.0.0.1:5072>';

const OPEN: PresenceDoc = {
  entity: 'pres:juliet@example.com', tuples: [{ id: 'ID-yn0cl4bnw0yr3vym', basic: 'open', notes: [] }], notes: [],
};
const CLOSED: PresenceDoc = {
  entity: 'pres:juliet@example.com', tuples: [{ id: 'ID-yn0cl4bnw0yr3vym', basic: 'closed', notes: [] }], notes: [],
};
function noted(text: string): PresenceDoc {
  return { entity: 'pres:juliet@example.com', tuples: [{ id: 'ID-r', basic: 'open', notes: [{ text }] }], notes: [] };
}

type SvcEvent =
  | { kind: 'subscribe'; req: WatcherRequest }
  | { kind: 'watcher'; w: Watcher }
  | { kind: 'unsubscribe'; w: Watcher }
  | { kind: 'expire'; w: Watcher }
  | { kind: 'refresh'; w: Watcher; expires: number }
  | { kind: 'fetch'; req: WatcherRequest }
  | { kind: 'gone'; w: Watcher; why: GoneReason };

/** The presence service, scripted per test; records every call. */
class Recorder implements WatcherHandlers {
  readonly events: SvcEvent[] = [];
  decide: (req: WatcherRequest) => WatcherDecision | Promise<WatcherDecision> = () => ({ accept: true });
  finalDoc: PresenceDoc | undefined;
  fetchDoc: (req: WatcherRequest) => PresenceDoc | undefined | Promise<PresenceDoc | undefined> = () => undefined;
  refreshHook: ((w: Watcher, expires: number) => void) | undefined;

  onSubscribe(req: WatcherRequest) {
    this.events.push({ kind: 'subscribe', req });
    return this.decide(req);
  }
  onWatcher(w: Watcher) {
    this.events.push({ kind: 'watcher', w });
  }
  onRefresh(w: Watcher, expires: number) {
    this.events.push({ kind: 'refresh', w, expires });
    this.refreshHook?.(w, expires);
  }
  onFetch(req: WatcherRequest) {
    this.events.push({ kind: 'fetch', req });
    return this.fetchDoc(req);
  }
  onUnsubscribe(w: Watcher) {
    this.events.push({ kind: 'unsubscribe', w });
    return this.finalDoc;
  }
  onExpire(w: Watcher) {
    this.events.push({ kind: 'expire', w });
    return this.finalDoc;
  }
  onGone(w: Watcher, why: GoneReason) {
    this.events.push({ kind: 'gone', w, why });
  }
  of<K extends SvcEvent['kind']>(kind: K): Array<Extract<SvcEvent, { kind: K }>> {
    return this.events.filter((e): e is Extract<SvcEvent, { kind: K }> => e.kind === kind);
  }
  get watchers(): Watcher[] {
    return this.of('watcher').map((e) => e.w);
  }
}

interface Bed {
  dd: DrachtioDouble;
  link: SipLink;
  notifier: PresenceNotifier;
  svc: Recorder;
  logs: Array<Record<string, unknown>>;
}

const DEFAULTS: PresenceNotifierOptions = {
  minExpires: 1, maxExpires: 7200, defaultExpires: 3600, maxWatchers: 100, rateLimitMs: 200, decisionTimeoutMs: 1000, docTimeoutMs: 1000,
};

/** Double + SipLink + SipRouter + notifier, torn down when the test ends. */
async function bed(t: TestContext, opts: Partial<PresenceNotifierOptions> = {}): Promise<Bed> {
  const dd = await DrachtioDouble.start({ secret: SECRET });
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', format: 'json', stream: new Writable({
    write(chunk, _e, cb) {
      logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  }) });
  const metrics = new Metrics();
  const cfg = {
    mode: 'inbound', host: '127.0.0.1', port: dd.port, secret: SECRET, listenHost: '127.0.0.1', listenPort: 0,
    pingIntervalMs: 60000, reconnectMaxDelayMs: 200, startTimeoutMs: 3000,
  } as GatewayConfig['sip']['drachtio'];
  const link = new SipLink(cfg, log, metrics, new Health());
  const router = new SipRouter(link, ['127.0.0.1'], log, metrics, new InFlight());
  const notifier = new PresenceNotifier(link, { ...DEFAULTS, ...opts }, log.child({ module: 'presence' }), metrics);
  const svc = new Recorder();
  notifier.setHandlers(svc);
  router.handle('SUBSCRIBE', notifier.handler);
  t.after(async () => {
    // Link first: its 'down' drops every watcher, so close() sends nothing nobody answers.
    await link.stop();
    await notifier.close();
    await dd.stop();
  });
  await link.start();
  await dd.waitForRoute('subscribe');
  return { dd, link, notifier, svc, logs };
}

interface SubOptions {
  callId?: string;
  tag?: string;
  expires?: string;
  event?: string | false;
  accept?: string;
  contact?: string | false;
  to?: string;
  headers?: Record<string, string>;
}

let seq = 0;

/** Romeo (SIP) subscribes to Juliet's presence (RFC 8048 Ex.11). */
function subscribe(o: SubOptions = {}): { raw: string; callId: string; tag: string; dialogId: string } {
  seq += 1;
  const callId = o.callId ?? `sub-${seq}-${Date.now()}@127.0.0.1`;
  const tag = o.tag ?? `romeo${seq}`;
  const headers: Record<string, string> = {};
  if (o.event !== false) headers.Event = o.event ?? 'presence';
  if (o.accept !== undefined) headers.Accept = o.accept;
  if (o.expires !== undefined) headers.Expires = o.expires;
  Object.assign(headers, o.headers);
  const raw = buildSipRequest({
    method: 'SUBSCRIBE', uri: JULIET, from: `"Romeo" <sip:romeo@example.net>;tag=${tag}`, to: o.to ?? `<${JULIET}>`,
    callId, peer: { port: 5072 }, contact: o.contact ?? ROMEO_CONTACT, headers,
  });
  return { raw, callId, tag, dialogId: `${callId};from-tag=${tag}` };
}

function nextNotify(dd: DrachtioDouble, timeoutMs = 2000): Promise<OutboundRequest> {
  return dd.nextRequest({ method: 'NOTIFY', timeoutMs });
}

function notifyCount(dd: DrachtioDouble): number {
  return dd.requests.filter((r) => r.method === 'NOTIFY').length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function srfKnows(link: SipLink, dialogId: string): boolean {
  return (link.srf as unknown as { findDialogById(id: string): unknown }).findDialogById(dialogId) !== undefined;
}

/** Subscribes and answers the first NOTIFY 200; returns the Watcher the service got. */
async function accepted(b: Bed, o: SubOptions = {}): Promise<{ w: Watcher; first: OutboundRequest; dialogId: string }> {
  const sub = subscribe(o);
  const res = await b.dd.inject(sub.raw).response();
  assert.equal(res.status, 202);
  const first = await nextNotify(b.dd);
  first.respond(200);
  const w = await b.dd.waitFor(() => b.svc.watchers.find((x) => x.dialogId === sub.dialogId), 'the watcher');
  return { w, first, dialogId: sub.dialogId };
}

describe('presence notifier: new subscriptions (RFC 8048 §5.3.1)', () => {
  it('C8 + C9: SUBSCRIBE without Expires → 202 with Expires <= 3600, pending NOTIFY, then an empty active NOTIFY with the dialog tags', async (t) => {
    const b = await bed(t);
    const sub = subscribe({ accept: 'application/pidf+xml', headers: { 'Accept-Language': 'de;q=0.5, en' } });
    const tx = b.dd.inject(sub.raw);
    const ok = await tx.response();
    assert.equal(ok.status, 202);
    assert.ok(Number(ok.get('expires')) <= 3600 && Number(ok.get('expires')) > 0, `Expires ${ok.get('expires')}`);
    assert.ok(ok.get('contact'), 'Contact on the 2xx to SUBSCRIBE');
    assert.deepEqual(b.svc.of('subscribe').map((e) => e.req), [{
      watcherUri: 'sip:romeo@example.net', targetUri: JULIET, expires: 3600, isFetch: false, callId: sub.callId, lang: 'en',
    }]);

    // RFC 6665 §4.2.1.1: a NOTIFY right away; pending until the XMPP user authorizes.
    const n1 = await nextNotify(b.dd);
    assert.match(n1.get('subscription-state') ?? '', /^pending;expires=(3600|359\d)$/);
    assert.equal(n1.body, '');
    n1.respond(200);
    const w = await b.dd.waitFor(() => b.svc.watchers[0], 'onWatcher');
    assert.equal(w.dialogId, sub.dialogId);
    assert.equal(w.watcherUri, 'sip:romeo@example.net');
    assert.equal(w.contactUri, 'sip:romeo@127.0.0.1:5072');
    assert.equal(b.notifier.size, 1);

    // C9: <presence type='subscribed'/> → empty NOTIFY active in the dialog.
    const outcome = w.notify({ state: 'active' });
    const n2 = await nextNotify(b.dd);
    assert.equal(n2.uri, 'sip:romeo@127.0.0.1:5072', 'Request-URI = the watcher\'s Contact');
    assert.equal(n2.get('event'), 'presence');
    assert.match(n2.get('subscription-state') ?? '', /^active;expires=\d+$/);
    assert.equal(n2.get('content-length'), '0');
    assert.equal(n2.get('content-type'), undefined);
    assert.equal(n2.get('call-id'), sub.callId);
    // RFC 6665 §4.4.1: To tag = the SUBSCRIBE's From tag; From = the 2xx's To with our tag.
    assert.equal(tagOf(n2.get('to')), sub.tag);
    assert.equal(n2.get('from'), ok.get('to'));
    assert.ok(tagOf(n2.get('from')));
    assert.ok(cseqOf(n2.message).seq > cseqOf(n1.message).seq);
    n2.respond(200);
    assert.equal(await outcome, 'ok');
  });

  it('C13: NOTIFY with a PIDF body to the watcher\'s Contact, Content-Type and Content-Language', async (t) => {
    const b = await bed(t);
    b.svc.decide = () => ({ accept: true, state: 'active', doc: OPEN, lang: 'en' });
    const sub = subscribe({ contact: '<sip:romeo@127.0.0.1:5072;transport=udp>' });
    assert.equal((await b.dd.inject(sub.raw).response()).status, 202);
    const n = await nextNotify(b.dd);
    assert.equal(n.uri, 'sip:romeo@127.0.0.1:5072;transport=udp');
    assert.equal(n.get('event'), 'presence');
    assert.match(n.get('subscription-state') ?? '', /^active;expires=\d+$/);
    assert.equal(n.get('content-type'), 'application/pidf+xml');
    assert.equal(n.get('content-language'), 'en');
    const parsed = parsePidf(n.body);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.entity, 'pres:juliet@example.com');
    assert.deepEqual(parsed.value.tuples.map((x) => [x.id, x.basic]), [['ID-yn0cl4bnw0yr3vym', 'open']]);
    n.respond(200);
  });

  it('refuses bad SUBSCRIBEs: 489 with Allow-Events, 423 with Min-Expires, 406, 400; clamps a huge Expires; passes the service\'s refusal on', async (t) => {
    const b = await bed(t, { minExpires: 60, maxExpires: 7200 });
    const status = async (o: SubOptions) => b.dd.inject(subscribe(o).raw).response();

    const wrongEvent = await status({ event: 'dialog' });
    assert.equal(wrongEvent.status, 489);
    assert.equal(wrongEvent.get('allow-events'), 'presence');
    assert.equal((await status({ event: false })).status, 489);
    assert.equal((await status({ event: 'presence.winfo' })).status, 489);
    const brief = await status({ expires: '10' });
    assert.equal(brief.status, 423);
    assert.equal(brief.get('min-expires'), '60');
    assert.equal((await status({ expires: 'soon' })).status, 400);
    assert.equal((await status({ accept: 'text/plain' })).status, 406);
    assert.equal((await status({ accept: 'application/pidf+xml;q=0, */*' })).status, 406);
    assert.equal((await status({ contact: false })).status, 400);
    assert.equal(b.svc.of('subscribe').length, 0, 'the service is not asked about invalid requests');

    b.svc.decide = () => ({ accept: true });
    const huge = await status({ expires: '999999', accept: 'application/*' });
    assert.equal(huge.status, 202);
    assert.equal(huge.get('expires'), '7200');
    assert.equal(b.svc.of('subscribe')[0]!.req.expires, 7200);
    const n = await nextNotify(b.dd);
    assert.ok(Number(/expires=(\d+)/.exec(n.get('subscription-state') ?? '')?.[1]) <= 7200);
    n.respond(200);

    b.svc.decide = () => ({ accept: false, status: 603, reason: 'Decline', headers: { 'Retry-After': '3600', 'Bad\r\nHeader': 'x' } });
    const declined = await status({});
    assert.equal(declined.status, 603);
    assert.equal(declined.reason, 'Decline');
    assert.equal(declined.get('retry-after'), '3600');
    assert.equal(b.notifier.size, 1);
  });

  it('a service that is slow to decide gets the SUBSCRIBE 408; one that throws, the router\'s 500', async (t) => {
    const b = await bed(t, { decisionTimeoutMs: 100 });
    b.svc.decide = () => new Promise<WatcherDecision>(() => undefined);
    assert.equal((await b.dd.inject(subscribe().raw).response()).status, 408);
    b.svc.decide = () => { throw new Error('service exploded'); };
    assert.equal((await b.dd.inject(subscribe().raw).response()).status, 500);
    assert.equal(b.notifier.size, 0);
    assert.equal(notifyCount(b.dd), 0);
  });

  it('caps the table at maxWatchers with 503 and Retry-After, and frees a slot when a subscription ends', async (t) => {
    const b = await bed(t, { maxWatchers: 2, rateLimitMs: 0 });
    const { w: first } = await accepted(b);
    await accepted(b);
    const full = await b.dd.inject(subscribe().raw).response();
    assert.equal(full.status, 503);
    assert.ok(Number(full.get('retry-after')) > 0);
    assert.equal(b.svc.of('subscribe').length, 2, 'the service is not asked when the table is full');

    const ended = first.terminate('noresource');
    const last = await nextNotify(b.dd);
    assert.equal(last.get('subscription-state'), 'terminated;reason=noresource');
    last.respond(200);
    await ended;
    assert.equal(b.notifier.size, 1);
    await accepted(b);
    assert.equal(b.notifier.size, 2);
  });
});

describe('presence notifier: ending subscriptions', () => {
  it('C10: terminate(rejected) → empty NOTIFY terminated;reason=rejected at once, outside the rate limit; the dialog is gone', async (t) => {
    const b = await bed(t, { rateLimitMs: 60_000 });
    const { w, dialogId } = await accepted(b);
    const ended = w.terminate('rejected');
    const n = await nextNotify(b.dd); // well within the 60 s window
    assert.equal(n.get('subscription-state'), 'terminated;reason=rejected');
    assert.equal(n.get('content-length'), '0');
    assert.equal(n.body, '');
    n.respond(200);
    await ended;
    assert.equal(w.alive, false);
    assert.equal(b.notifier.size, 0);
    assert.equal(b.dd.dialog(dialogId), undefined);
    assert.equal(srfKnows(b.link, dialogId), false);
    assert.equal(await w.notify({ state: 'active' }), 'gone');
    await w.terminate('rejected'); // idempotent
    assert.equal(notifyCount(b.dd), 2);
  });

  it('C11: in-dialog Expires: 0 → 2xx, then the service\'s closed PIDF with terminated;reason=timeout', async (t) => {
    const b = await bed(t, { rateLimitMs: 60_000 });
    b.svc.decide = () => ({ accept: true, state: 'active', doc: OPEN });
    b.svc.finalDoc = CLOSED;
    const { w, dialogId } = await accepted(b);
    const unsub = b.dd.injectInDialog(dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '0' } });
    const res = await unsub.response();
    assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
    const n = await nextNotify(b.dd);
    assert.equal(n.get('subscription-state'), 'terminated;reason=timeout');
    assert.equal(n.get('content-type'), 'application/pidf+xml');
    const parsed = parsePidf(n.body);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.tuples.map((x) => x.basic), ['closed']);
    assert.deepEqual(b.svc.of('unsubscribe').map((e) => e.w.dialogId), [w.dialogId]);
    assert.ok(b.svc.of('unsubscribe')[0]!.w === w, 'the same Watcher handle');
    n.respond(200);
    await b.dd.waitFor(() => b.notifier.size === 0 || undefined, 'the watcher to be forgotten');
    assert.equal(b.dd.dialog(dialogId), undefined);
    assert.equal(b.svc.of('gone').length, 0);
  });

  it('C12: a fetch (Expires: 0 in a new dialog) asks onFetch and sends one NOTIFY terminated with its document, or empty when it is late', async (t) => {
    const b = await bed(t, { docTimeoutMs: 150 });
    let calls = 0;
    b.svc.fetchDoc = async () => {
      calls += 1;
      if (calls === 1) {
        await sleep(20);
        return OPEN;
      }
      return new Promise<PresenceDoc | undefined>(() => undefined); // never answers
    };
    const sub = subscribe({ expires: '0' });
    const res = await b.dd.inject(sub.raw).response();
    assert.ok(res.status >= 200 && res.status < 300);
    assert.equal(res.get('expires'), '0');
    const n = await nextNotify(b.dd);
    assert.equal(n.get('subscription-state'), 'terminated;reason=timeout');
    const parsed = parsePidf(n.body);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.tuples[0]?.basic, 'open');
    n.respond(200);
    assert.deepEqual(b.svc.of('subscribe').map((e) => [e.req.isFetch, e.req.expires]), [[true, 0]]);
    assert.equal(b.svc.of('fetch').length, 1);
    assert.equal(b.svc.watchers.length, 0, 'a fetch is no Watcher');
    await b.dd.waitFor(() => (b.dd.dialog(sub.dialogId) === undefined && !srfKnows(b.link, sub.dialogId)) || undefined,
      'the fetch dialog to end on both sides');

    b.dd.inject(subscribe({ expires: '0' }).raw);
    const late = await nextNotify(b.dd);
    assert.equal(late.get('subscription-state'), 'terminated;reason=timeout');
    assert.equal(late.body, '');
    late.respond(200);
    assert.equal(b.notifier.size, 0);
  });

  it('a subscription that is not refreshed expires: the service\'s final document with terminated;reason=timeout', async (t) => {
    const b = await bed(t, { minExpires: 1 });
    b.svc.finalDoc = CLOSED;
    const { w, dialogId } = await accepted(b, { expires: '1' });
    assert.ok(w.expiresAt <= Date.now() + 1000);
    const n = await nextNotify(b.dd, 3000);
    assert.equal(n.get('subscription-state'), 'terminated;reason=timeout');
    assert.match(n.body, /<basic>closed<\/basic>/);
    assert.deepEqual(b.svc.of('expire').map((e) => e.w.dialogId), [w.dialogId]);
    assert.ok(b.svc.of('expire')[0]!.w === w, 'the same Watcher handle');
    n.respond(200);
    await b.dd.waitFor(() => b.notifier.size === 0 || undefined, 'the watcher to be forgotten');
    assert.equal(b.dd.dialog(dialogId), undefined);
  });

  it('close() ends every subscription with terminated;reason=deactivated', async (t) => {
    const b = await bed(t);
    const { w } = await accepted(b);
    const closing = b.notifier.close();
    const n = await nextNotify(b.dd);
    assert.equal(n.get('subscription-state'), 'terminated;reason=deactivated');
    n.respond(200);
    await closing;
    assert.equal(w.alive, false);
    assert.equal(b.notifier.size, 0);
    assert.equal((await b.dd.inject(subscribe().raw).response()).status, 503);
  });
});

describe('presence notifier: refresh and rate limit', () => {
  it('refresh → 200 with the clamped Expires, onRefresh, and the last state again unless the service sends its own', async (t) => {
    const b = await bed(t, { minExpires: 60, maxExpires: 7200, rateLimitMs: 50 });
    b.svc.decide = () => ({ accept: true, state: 'active', doc: OPEN });
    const { w, dialogId, first } = await accepted(b);
    assert.equal(first.get('content-type'), 'application/pidf+xml');

    const r1 = await b.dd.injectInDialog(dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '1800' } }).response();
    assert.equal(r1.status, 200);
    assert.equal(r1.get('expires'), '1800');
    assert.deepEqual(b.svc.of('refresh').map((e) => [e.w.dialogId, e.expires]), [[w.dialogId, 1800]]);
    assert.ok(Math.abs(w.expiresAt - (Date.now() + 1800_000)) < 5000);
    const again = await nextNotify(b.dd);
    assert.match(again.get('subscription-state') ?? '', /^active;expires=(1800|179\d)$/);
    assert.equal(again.body, first.body, 'RFC 8048 §5.3.2: the state the gateway has');
    again.respond(200);

    const brief = await b.dd.injectInDialog(dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '10' } }).response();
    assert.equal(brief.status, 423);
    assert.equal(brief.get('min-expires'), '60');

    b.svc.refreshHook = (x) => void x.notify({ state: 'active' }, noted('fresh'));
    const r2 = await b.dd.injectInDialog(dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '999999' } }).response();
    assert.equal(r2.status, 200);
    assert.equal(r2.get('expires'), '7200');
    const fresh = await nextNotify(b.dd);
    assert.match(fresh.body, /<note>fresh<\/note>/);
    fresh.respond(200);
    await sleep(150);
    assert.equal(notifyCount(b.dd), 3, 'no extra re-send when the service notified itself');
    assert.equal(b.svc.of('refresh').length, 2);
  });

  it('RFC 3856 §6.10: two quick changes → one NOTIFY after the window with the latest state', async (t) => {
    const b = await bed(t, { rateLimitMs: 200 });
    b.svc.decide = () => ({ accept: true, state: 'active' });
    const sent: number[] = [];
    b.dd.on('frame', (f: { direction: string; body?: string; at: number }) => {
      if (f.direction === 'app->server' && f.body?.startsWith('NOTIFY ')) sent.push(f.at);
    });
    const { w } = await accepted(b);
    const a = w.notify({ state: 'active' }, noted('first change'));
    const c = w.notify({ state: 'active' }, noted('second change'));
    const n = await nextNotify(b.dd);
    assert.match(n.body, /second change/);
    assert.doesNotMatch(n.body, /first change/);
    n.respond(200);
    assert.deepEqual(await Promise.all([a, c]), ['ok', 'ok']);
    assert.equal(sent.length, 2);
    assert.ok(sent[1]! - sent[0]! >= 190, `second NOTIFY ${sent[1]! - sent[0]!} ms after the first`);
    await sleep(300);
    assert.equal(notifyCount(b.dd), 2, 'the superseded state is never sent');
  });
});

describe('presence notifier: lost subscriptions', () => {
  it('NOTIFY answered 481 or 408 → gone; a later SUBSCRIBE in that dialog gets 481', async (t) => {
    const b = await bed(t, { rateLimitMs: 0 });
    const sub = subscribe();
    assert.equal((await b.dd.inject(sub.raw).response()).status, 202);
    (await nextNotify(b.dd)).respond(481);
    await b.dd.waitFor(() => b.svc.of('gone')[0], 'onGone');
    assert.deepEqual(b.svc.of('gone').map((e) => [e.w.dialogId, e.why]), [[sub.dialogId, 'notify-failed']]);
    assert.equal(b.notifier.size, 0);
    assert.equal(srfKnows(b.link, sub.dialogId), false);
    assert.ok(b.dd.dialog(sub.dialogId), 'drachtio-server still has the dialog');

    // RFC 6665 §4.1.2.2: the watcher refreshes a subscription the gateway no longer has.
    const refresh = b.dd.injectInDialog(sub.dialogId, { method: 'SUBSCRIBE', headers: { Event: 'presence', Expires: '3600' } });
    assert.equal((await refresh.response()).status, 481);
    assert.equal(b.svc.of('subscribe').length, 1, 'not taken for a new subscription');

    const { w } = await accepted(b);
    const outcome = w.notify({ state: 'active' });
    (await nextNotify(b.dd)).timeout();
    assert.equal(await outcome, 'gone');
    assert.equal(w.alive, false);
    assert.deepEqual(b.svc.of('gone').map((e) => e.why), ['notify-failed', 'notify-failed']);
    assert.equal(b.notifier.size, 0);
  });

  it('losing the drachtio connection drops every watcher with a link-down event; subscriptions work again after the reconnect', async (t) => {
    const b = await bed(t);
    const one = await accepted(b);
    const two = await accepted(b);
    assert.equal(b.notifier.size, 2);
    await b.dd.restart();
    await b.dd.waitFor(() => (b.svc.of('gone').length === 2 ? true : undefined), 'two onGone events');
    assert.deepEqual(b.svc.of('gone').map((e) => [e.w.dialogId, e.why]).sort(),
      [[one.dialogId, 'link-down'], [two.dialogId, 'link-down']].sort());
    assert.equal(b.notifier.size, 0);
    assert.equal(srfKnows(b.link, one.dialogId), false);
    assert.equal(srfKnows(b.link, two.dialogId), false);
    assert.equal(await one.w.notify({ state: 'active' }), 'gone');

    await b.dd.waitForRoute('subscribe', { timeoutMs: 3000 });
    await b.dd.waitFor(() => b.link.isUp || undefined, 'the link back up');
    await accepted(b);
    assert.equal(b.notifier.size, 1);
  });
  it('works on a bare srf too: its \'close\' drops the watchers', async (t) => {
    const log = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
    let notifier: PresenceNotifier | undefined;
    const { dd, srf } = await harness(t, { routes: ['subscribe'], handlers: (app) => app.subscribe((req, res) => {
      void notifier!.handler(req as SrfRequest, res as SrfResponse, log);
    }) });
    notifier = new PresenceNotifier(srf as unknown as SrfApp, DEFAULTS, log);
    t.after(() => notifier!.close());
    const svc = new Recorder();
    notifier.setHandlers(svc);
    const sub = subscribe();
    assert.equal((await dd.inject(sub.raw).response()).status, 202);
    (await nextNotify(dd)).respond(200);
    await dd.waitFor(() => svc.watchers[0], 'onWatcher');
    assert.equal(notifier.size, 1);
    await dd.restart();
    await dd.waitFor(() => svc.of('gone')[0], 'onGone');
    assert.deepEqual(svc.of('gone').map((e) => [e.w.dialogId, e.why]), [[sub.dialogId, 'link-down']]);
    assert.equal(notifier.size, 0);
  });
});
