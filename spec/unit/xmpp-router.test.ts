// The stanza router's own checks, with a real (unconnected) @xmpp/component
// entity whose sends are captured: what a server would normally filter out
// must still be refused properly if it ever arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { component, xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { StanzaRouter } from '../../src/xmpp/router.js';
import { Metrics } from '../../src/http/metrics.js';
import { InFlight } from '../../src/core/inflight.js';
import { createLogger } from '../../src/log/logger.js';
import type { XmppLink } from '../../src/xmpp/link.js';
import { Writable } from 'node:stream';

const DOMAIN = 'sip.example.com';

function setup() {
  const entity = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, password: 'x' });
  entity.reconnect.stop();
  entity.on('error', () => undefined);
  const sent: Element[] = [];
  const capture = async (el: Element) => { sent.push(el); };
  (entity as unknown as { send: typeof capture }).send = capture;
  const link = { entity, domain: DOMAIN, send: capture } as unknown as XmppLink;
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', stream: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) });
  const metrics = new Metrics();
  const inflight = new InFlight();
  const router = new StanzaRouter(link, log, metrics, inflight);
  const deliver = async (el: Element) => {
    entity.emit('element', el);
    await inflight.drain(1000);
    await new Promise((r) => setImmediate(r));
  };
  return { router, sent, deliver, metrics, logLines };
}

const cond = (el: Element | undefined) => el?.getChild('error')?.getChildElements().find((c) => c.name !== 'text')?.name;

test('a malformed to or from is refused with jid-malformed instead of crashing the parser', async () => {
  const { sent, deliver, metrics } = setup();
  // @xmpp/jid throws on "a@" inside the socket handler; the guard answers instead.
  await deliver(xml('message', { to: 'a@', from: 'alice@example.com/pc', id: 'm1', type: 'chat' }, xml('body', {}, 'x')));
  await deliver(xml('message', { to: `bob@${DOMAIN}`, from: 'bad"jid@example.com', id: 'm2' }));
  await deliver(xml('message', { to: `bo"b@${DOMAIN}`, from: 'alice@example.com/pc', id: 'm3' }));
  assert.deepEqual(sent.map((el) => [el.attrs.id, el.attrs.type, cond(el)]), [
    ['m1', 'error', 'jid-malformed'],
    ['m3', 'error', 'jid-malformed'],
  ]); // m2 cannot be answered: its sender's address is malformed
  const text = await metrics.registry.metrics();
  assert.match(text, /gateway_errors_total\{side="xmpp",kind="bad-stanza"\} 3/);
});

test('a stanza for another domain is item-not-found; unknown presence type and iq without id are bad-request', async () => {
  const { sent, deliver } = setup();
  await deliver(xml('message', { to: 'bob@elsewhere.example', from: 'alice@example.com/pc', id: 'd1' }));
  await deliver(xml('presence', { to: `bob@${DOMAIN}`, from: 'alice@example.com/pc', id: 'p1', type: 'bogus' }));
  await deliver(xml('iq', { to: DOMAIN, from: 'alice@example.com/pc', type: 'get' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.deepEqual(sent.map((el) => [el.name, el.attrs.id, cond(el)]), [
    ['message', 'd1', 'item-not-found'],
    ['presence', 'p1', 'bad-request'],
    ['iq', undefined, 'bad-request'],
  ]);
});

test('error stanzas are handed to the error hook and never answered', async () => {
  const { router, sent, deliver } = setup();
  const seen: string[] = [];
  router.on('error', (el) => { seen.push(String(el.attrs.id)); });
  for (const name of ['message', 'presence', 'iq']) {
    await deliver(xml(name, { to: `bob@${DOMAIN}`, from: 'alice@example.com/pc', id: `e-${name}`, type: 'error' },
      xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
  }
  // A malformed error stanza is not answered either.
  await deliver(xml('message', { to: 'a@', from: 'alice@example.com/pc', id: 'e-bad', type: 'error' }));
  assert.deepEqual(sent, []);
  // The iq caller takes errors to its own requests and passes unknown ids on.
  assert.deepEqual(seen, ['e-message', 'e-presence', 'e-iq']);
});

test('handlers receive valid stanzas; a throwing message handler yields internal-server-error', async () => {
  const { router, sent, deliver, logLines } = setup();
  const got: string[] = [];
  router.on('presence', (el) => { got.push(String(el.attrs.type ?? 'available')); });
  router.on('message', () => { throw new Error('boom'); });
  await deliver(xml('presence', { to: `bob@${DOMAIN}`, from: 'alice@example.com/pc' }));
  await deliver(xml('message', { to: `bob@${DOMAIN}`, from: 'alice@example.com/pc', id: 'h1', type: 'chat' }));
  assert.deepEqual(got, ['available']);
  assert.deepEqual(sent.map((el) => [el.attrs.id, cond(el), el.getChild('error')?.attrs.type]), [['h1', 'internal-server-error', 'wait']]);
  assert.ok(logLines.some((l) => l.includes('stanza handler failed') && l.includes('"stanzaId":"h1"') && l.includes('"dir":"X->S"')));
});
