import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressMatcher, parseCidr } from '../../src/core/cidr.js';
import { Backoff } from '../../src/core/backoff.js';
import { Health } from '../../src/core/health.js';
import { InFlight } from '../../src/core/inflight.js';

test('parseCidr accepts addresses and blocks of both families and refuses the rest', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
  for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0.0/8/1', '1.2.3.4/x', '', '300.1.1.1']) {
    assert.equal(parseCidr(bad), null, bad);
  }
});

test('AddressMatcher matches inside blocks only, IPv4-mapped IPv6 as IPv4', () => {
  const m = new AddressMatcher(['127.0.0.0/8', '192.0.2.10', '2001:db8::/32']);
  assert.ok(m.matches('127.0.0.2'));
  assert.ok(m.matches('192.0.2.10'));
  assert.ok(!m.matches('192.0.2.11'));
  assert.ok(m.matches('2001:db8::1'));
  assert.ok(!m.matches('2001:db9::1'));
  assert.ok(m.matches('::ffff:127.0.0.1'));
  assert.ok(!m.matches('::ffff:10.0.0.1'));
  assert.ok(!m.matches('not-an-address'));
  assert.ok(!m.matches(''));
  assert.ok(!new AddressMatcher([]).matches('127.0.0.1'));
  assert.throws(() => new AddressMatcher(['nope']));
});

test('Backoff doubles, stays within [ceiling/2, ceiling], caps, and resets', () => {
  const low = new Backoff(100, 1000, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.next()), [50, 100, 200, 400, 500, 500]);
  const high = new Backoff(100, 1000, () => 0.999999);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => high.next()), [100, 200, 400, 800, 1000]);
  high.reset();
  assert.equal(high.next(), 100);
  const random = new Backoff(100, 1000);
  for (let i = 0; i < 50; i++) {
    const d = random.next();
    assert.ok(d >= 50 && d <= 1000, String(d));
  }
});

test('Health is ok only with both sides up and not draining', () => {
  const h = new Health();
  const changes: string[] = [];
  h.onChange((side, s) => changes.push(`${side}:${s.connected}`));
  assert.equal(h.healthy, false);
  assert.deepEqual(h.report().down, ['xmpp', 'sip']);
  h.set('xmpp', true);
  h.set('sip', true);
  assert.equal(h.healthy, true);
  assert.equal(h.report().status, 'ok');
  h.set('sip', false, 'lost');
  assert.deepEqual(h.report().down, ['sip']);
  assert.equal(h.report().sip.reason, 'lost');
  h.set('sip', true);
  h.startDraining();
  assert.equal(h.healthy, false);
  assert.equal(h.report().status, 'shutting-down');
  assert.deepEqual(changes, ['xmpp:true', 'sip:true', 'sip:false', 'sip:true']);
});

test('InFlight waits for tracked work, and gives up after the grace period', async () => {
  const f = new InFlight();
  assert.equal(await f.drain(10), true);
  let release!: () => void;
  const slow = new Promise<void>((r) => { release = r; });
  void f.track(slow);
  void f.track(Promise.reject(new Error('x'))).catch(() => undefined);
  assert.equal(await f.drain(20), false);
  release();
  assert.equal(await f.drain(1000), true);
  assert.equal(f.size, 0);
});

test('Pacer runs tasks in order and never faster than its rate, making up for slow ticks', async () => {
  const { Pacer } = await import('../../src/core/pacer.js');
  const { performance } = await import('node:perf_hooks');
  const rate = 200;
  const pacer = new Pacer(rate);
  const ran: number[] = [];
  const t0 = performance.now();
  let violations = 0;
  for (let i = 0; i < 60; i++) {
    pacer.add(() => {
      ran.push(i);
      // At any moment at most one task plus one per 1/rate seconds since the start.
      if (ran.length > Math.floor(((performance.now() - t0) * rate) / 1000) + 1) violations += 1;
      if (i === 5) { const until = performance.now() + 50; while (performance.now() < until) { /* a slow task */ } }
    });
  }
  assert.equal(pacer.pending, 60);
  await new Promise<void>((resolve) => { const poll = setInterval(() => { if (pacer.pending === 0) { clearInterval(poll); resolve(); } }, 5); });
  assert.deepEqual(ran, Array.from({ length: 60 }, (_, i) => i));
  assert.equal(violations, 0);
  pacer.close();
  pacer.add(() => ran.push(-1));
  assert.equal(pacer.pending, 0, 'closed: nothing is queued');
});

test('KeyedQueue runs one task at a time per key, in order, and forgets drained keys', async () => {
  const { KeyedQueue } = await import('../../src/core/keyed-queue.js');
  const q = new KeyedQueue();
  const log: string[] = [];
  const slow = (tag: string, ms: number) => async () => { log.push(`${tag}+`); await new Promise((r) => setTimeout(r, ms)); log.push(`${tag}-`); };
  const a1 = q.run('a', slow('a1', 20));
  const a2 = q.run('a', slow('a2', 1));
  const b1 = q.run('b', slow('b1', 1));
  const failed = q.run('a', () => { throw new Error('boom'); });
  await assert.rejects(failed, /boom/);
  await Promise.all([a1, a2, b1]);
  assert.ok(log.indexOf('a1-') < log.indexOf('a2+'), log.join(' '));
  assert.ok(log.indexOf('b1-') < log.indexOf('a1-'), 'keys run in parallel');
  await new Promise((r) => setImmediate(r));
  assert.equal(q.size, 0);
});
