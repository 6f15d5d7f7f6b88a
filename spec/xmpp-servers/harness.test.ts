// The private XMPP servers the integration tests run against: each kind must
// start, route client <-> client and client -> component traffic, refuse a
// wrong component secret, survive kill/restart with its data, and stop
// without leaving processes behind.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { component, type Component } from '@xmpp/component';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

import {
  connectClient,
  livingGroupMembers,
  pidExists,
  xmppServerKinds,
  type TestClient,
  type XmppServer,
} from '../support/xmpp-servers/index.js';

const USERS = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob pw with spaces' },
];

const EXTRA = { domain: 'conf.example.test', secret: 'other secret' };

function bodyOf(el: Element): string | undefined {
  return el.getChildText('body') ?? undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface ComponentConn {
  comp: Component;
  errors: Error[];
  stanzas: Element[];
  stop(): Promise<void>;
}

function makeComponent(server: XmppServer, domain: string, password: string): ComponentConn {
  const comp = component({ service: `xmpp://${server.host}:${server.componentPort}`, domain, password });
  comp.reconnect.stop();
  const errors: Error[] = [];
  const stanzas: Element[] = [];
  comp.on('error', (err: Error) => errors.push(err));
  comp.on('stanza', (el: Element) => stanzas.push(el));
  return {
    comp,
    errors,
    stanzas,
    async stop() {
      comp.reconnect.stop();
      try {
        await withTimeout(comp.stop(), 5000, 'component stop');
      } catch {
        comp.socket?.destroy();
      }
    },
  };
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const { kind, start } of xmppServerKinds) {
  describe(`private ${kind}`, () => {
    let server: XmppServer | undefined;
    const clients: TestClient[] = [];
    const components: ComponentConn[] = [];

    const srv = (): XmppServer => {
      if (!server) throw new Error(`${kind} did not start`);
      return server;
    };
    const login = async (user: string, password: string, resource?: string): Promise<TestClient> => {
      const c = await connectClient(srv(), user, password, resource);
      clients.push(c);
      return c;
    };

    before(async () => {
      const t0 = performance.now();
      server = await start({ users: USERS, extraComponents: [EXTRA] });
      console.log(`# ${kind}: started with ${USERS.length} users in ${Math.round(performance.now() - t0)} ms`);
    });

    after(async () => {
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      await Promise.all(components.splice(0).map((c) => c.stop()));
      await server?.stop();
    });

    it('listens on loopback with distinct ports', () => {
      const s = srv();
      assert.equal(s.kind, kind);
      assert.equal(s.host, '127.0.0.1');
      assert.ok(s.c2sPort > 0 && s.componentPort > 0 && s.c2sPort !== s.componentPort);
      assert.ok(s.pid > 0 && pidExists(s.pid));
      assert.equal(s.componentDomain, `sip.${s.domain}`);
    });

    it('two clients log in and exchange messages', async () => {
      const t0 = performance.now();
      const alice = await login('alice', 'alice-pw', 'a1');
      const bob = await login('bob', 'bob pw with spaces', 'b1');
      console.log(`# ${kind}: two PLAIN logins in ${Math.round(performance.now() - t0)} ms`);
      assert.equal(alice.jid, `alice@${srv().domain}/a1`);
      assert.equal(bob.jid, `bob@${srv().domain}/b1`);

      await alice.send(xml('message', { to: bob.jid, type: 'chat', id: 'm1' }, xml('body', {}, 'hello bob')));
      const got = await bob.waitFor((el) => el.is('message') && bodyOf(el) === 'hello bob');
      assert.equal(got.attrs.from, alice.jid);

      await bob.send(xml('message', { to: alice.jid, type: 'chat' }, xml('body', {}, 'hi alice')));
      const back = await alice.waitFor((el) => el.is('message') && bodyOf(el) === 'hi alice');
      assert.equal(back.attrs.from, bob.jid);

      // iq helper: a server ping is answered with a result...
      const pong = await alice.iq(xml('iq', { type: 'get', to: srv().domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
      // ...and an unknown payload is rejected with the error stanza.
      await assert.rejects(
        alice.iq(xml('iq', { type: 'get', to: srv().domain }, xml('nothing', { xmlns: 'urn:example:none' }))),
        (err: Error & { stanza?: Element; condition?: string }) => {
          assert.equal(err.stanza?.attrs.type, 'error');
          assert.equal(err.condition, 'service-unavailable');
          return true;
        },
      );
      // a wrong password is refused
      await assert.rejects(connectClient(srv(), 'alice', 'wrong'), /not-authorized/);
      assert.deepEqual([...alice.errors, ...bob.errors], []);
    });

    it('a component authenticates and receives a message from a client', async () => {
      const s = srv();
      const conn = makeComponent(s, s.componentDomain, s.componentSecret);
      components.push(conn);
      const t0 = performance.now();
      await withTimeout(conn.comp.start(), 10000, 'component start');
      console.log(`# ${kind}: component handshake in ${Math.round(performance.now() - t0)} ms`);
      assert.equal(conn.comp.status, 'online');

      const alice = await login('alice', 'alice-pw', 'to-component');
      await alice.send(
        xml('message', { to: `someone@${s.componentDomain}`, type: 'chat' }, xml('body', {}, 'to the gateway')),
      );
      await waitUntil(
        () => conn.stanzas.some((el) => el.is('message') && bodyOf(el) === 'to the gateway'),
        5000,
        'component receives the message',
      );
      const msg = conn.stanzas.find((el) => el.is('message') && bodyOf(el) === 'to the gateway') as Element;
      assert.equal(msg.attrs.from, alice.jid);
      assert.equal(msg.attrs.to, `someone@${s.componentDomain}`);

      // and the way back
      await conn.comp.send(xml('message', { from: `someone@${s.componentDomain}/sip`, to: alice.jid, type: 'chat' }, xml('body', {}, 'from the gateway')));
      const back = await alice.waitFor((el) => el.is('message') && bodyOf(el) === 'from the gateway');
      assert.equal(back.attrs.from, `someone@${s.componentDomain}/sip`);
      assert.deepEqual(conn.errors, []);
    });

    it('refuses a component with a wrong secret', async () => {
      const s = srv();
      const conn = makeComponent(s, s.componentDomain, `${s.componentSecret}-wrong`);
      components.push(conn);
      let wentOnline = false;
      conn.comp.on('online', () => (wentOnline = true));
      await assert.rejects(withTimeout(conn.comp.start(), 10000, 'component start with wrong secret'), (err: Error & { condition?: string }) => {
        assert.equal(err.condition, 'not-authorized', `unexpected error ${err.message}`);
        return true;
      });
      assert.equal(wentOnline, false);
    });

    it('serves extra components, each with its own secret', async () => {
      const s = srv();
      const wrong = makeComponent(s, EXTRA.domain, s.componentSecret);
      components.push(wrong);
      await assert.rejects(withTimeout(wrong.comp.start(), 10000, 'extra component with the main secret'));
      const ok = makeComponent(s, EXTRA.domain, EXTRA.secret);
      components.push(ok);
      await withTimeout(ok.comp.start(), 10000, 'extra component start');
      const bob = await login('bob', 'bob pw with spaces', 'to-extra');
      // ejabberd registers the component's route a moment after the
      // handshake succeeds; a message sent in between bounces. Resend until
      // one arrives (bounded), which is what the assertion is about.
      const arrived = () => ok.stanzas.some((el) => el.is('message') && el.attrs.from === bob.jid && bodyOf(el) === 'to the extra component');
      for (let attempt = 0; attempt < 5 && !arrived(); attempt++) {
        await bob.send(xml('message', { to: `room@${EXTRA.domain}` }, xml('body', {}, 'to the extra component')));
        await waitUntil(arrived, 1000, 'extra component receives the message').catch(() => undefined);
      }
      assert.ok(arrived(), 'extra component receives the message');
    });

    it('kill() then restart(): same ports, users survive, logins work again', async () => {
      const s = srv();
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      await Promise.all(components.splice(0).map((c) => c.stop()));
      await s.addUser('carol', 'carol-pw'); // added at run time, must survive the crash too
      const ports = [s.c2sPort, s.componentPort];
      const oldPid = s.pid;

      await s.kill();
      assert.equal(s.pid, 0);
      assert.equal(pidExists(oldPid), false, 'killed server process is gone (and reaped)');
      assert.deepEqual(livingGroupMembers(oldPid), []);

      const t0 = performance.now();
      await s.restart();
      console.log(`# ${kind}: restart after kill in ${Math.round(performance.now() - t0)} ms`);
      assert.deepEqual([s.c2sPort, s.componentPort], ports);
      assert.ok(s.pid > 0 && s.pid !== oldPid);

      const alice = await login('alice', 'alice-pw', 'after-restart');
      const carol = await login('carol', 'carol-pw', 'after-restart');
      await alice.send(xml('message', { to: carol.jid, type: 'chat' }, xml('body', {}, 'still here')));
      await carol.waitFor((el) => el.is('message') && bodyOf(el) === 'still here');

      // a clean restart (stop + start) keeps the data as well
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      const t1 = performance.now();
      await s.restart();
      console.log(`# ${kind}: clean restart in ${Math.round(performance.now() - t1)} ms`);
      await login('bob', 'bob pw with spaces', 'after-clean-restart');
    });

    it('stop() leaves no process and removes the temp dir', async () => {
      const s = srv();
      await Promise.all(clients.splice(0).map((c) => c.stop()));
      const pid = s.pid;
      assert.ok(pid > 0);
      const t0 = performance.now();
      await s.stop();
      console.log(`# ${kind}: stop in ${Math.round(performance.now() - t0)} ms`);
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
      assert.deepEqual(livingGroupMembers(pid), [], 'nothing left in the process group');
      const { existsSync } = await import('node:fs');
      if (!process.env.KEEP_XMPP_DIR) assert.equal(existsSync(s.dir), false, 'temp dir removed');
      await s.stop(); // idempotent
      await assert.rejects(s.restart(), /stopped/);
    });
  });
}
