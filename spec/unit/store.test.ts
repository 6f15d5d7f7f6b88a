// The presence store: one contract suite run against every implementation (memory, SQLite), then
// what only the SQLite store promises (restart, migrations, bad data dirs, volume, WAL sharing).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createMemoryStore } from '../../src/core/store/memory.js';
import { DEFAULT_FILENAME, openSqliteStore } from '../../src/core/store/sqlite.js';
import { StoreClosedError, StoreConflictError, StoreOpenError } from '../../src/core/store/errors.js';
import type { Clock, PresenceStore, S2xInput, S2xRecord, X2sInput, X2sRecord } from '../../src/core/store/types.js';

const T0 = 1_700_000_000_000;
const EXPIRES = T0 + 3_600_000;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gw-store-'));
}

interface Impl {
  name: string;
  open(now: Clock): { store: PresenceStore; dispose(): void };
}

const impls: Impl[] = [
  { name: 'memory', open: (now) => ({ store: createMemoryStore({ now }), dispose() {} }) },
  {
    name: 'sqlite',
    open(now) {
      const dir = tempDir();
      return { store: openSqliteStore(dir, { now }), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
];

/** A store with a hand-driven clock, closed and removed after the test. */
function setup(t: TestContext, impl: Impl): { store: PresenceStore; clock: { t: number } } {
  const clock = { t: T0 };
  const { store, dispose } = impl.open(() => clock.t);
  t.after(async () => {
    await store.close();
    dispose();
  });
  return { store, clock };
}

const x2s = (over: Partial<X2sInput> = {}): X2sInput => ({
  xmppUser: 'juliet@example.com', sipContact: 'sip:romeo@example.net', state: 'subscribing', interested: true, ...over,
});
const s2x = (over: Partial<S2xInput> = {}): S2xInput => ({
  sipWatcher: 'sip:romeo@example.net', xmppUser: 'juliet@example.com', authorization: 'pending', ...over,
});
const x2sDialog = (id: string) => ({ dialogId: `${id};from-tag=L${id}`, callId: id, localTag: `L${id}`, expiresAt: EXPIRES });
const s2xDialog = (id: string) => ({ dialogId: `${id};from-tag=R${id}`, callId: id, remoteTag: `R${id}`, localTag: `L${id}`, expiresAt: EXPIRES });

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}
const x2sKeys = (rs: X2sRecord[]): string[] => rs.map((r) => `${r.xmppUser} ${r.sipContact}`).sort();
const s2xKeys = (rs: S2xRecord[]): string[] => rs.map((r) => `${r.sipWatcher} ${r.xmppUser}`).sort();

for (const impl of impls) {
  describe(`PresenceStore contract: ${impl.name}`, () => {
    test('X2S: get, upsert stamping updatedAt, delete', async (t) => {
      const { store, clock } = setup(t, impl);
      assert.equal(await store.getX2s('juliet@example.com', 'sip:romeo@example.net'), undefined);
      await store.putX2s({ ...x2s(), updatedAt: 1 }); // updatedAt comes from the store's clock
      assert.deepEqual(await store.getX2s('juliet@example.com', 'sip:romeo@example.net'), { ...x2s(), updatedAt: T0 });
      clock.t += 5;
      const full: X2sInput = x2s({ state: 'active', interested: false, dialog: { ...x2sDialog('c1'), remoteTag: 'N1' }, retryAt: T0 + 60_000 });
      await store.putX2s(full);
      assert.deepEqual(await store.getX2s('juliet@example.com', 'sip:romeo@example.net'), { ...full, updatedAt: T0 + 5 });
      await store.putX2s(x2s({ state: 'pending' })); // the dialog and retryAt go with the upsert
      const back = await store.getX2s('juliet@example.com', 'sip:romeo@example.net');
      assert.deepEqual(back, { ...x2s({ state: 'pending' }), updatedAt: T0 + 5 });
      assert.ok(back && !('dialog' in back) && !('retryAt' in back));
      assert.equal(await store.deleteX2s('juliet@example.com', 'sip:romeo@example.net'), true);
      assert.equal(await store.deleteX2s('juliet@example.com', 'sip:romeo@example.net'), false);
      assert.equal(await store.getX2s('juliet@example.com', 'sip:romeo@example.net'), undefined);
    });

    test('records are copies, and keys are kept exactly as given', async (t) => {
      const { store } = setup(t, impl);
      const input = x2s({ dialog: x2sDialog('c1') });
      await store.putX2s(input);
      input.state = 'active';
      if (input.dialog) input.dialog.expiresAt = 1;
      const read = await store.getX2s(input.xmppUser, input.sipContact);
      assert.ok(read?.dialog);
      read.interested = false;
      read.dialog.callId = 'changed';
      for (const listed of [...await store.listX2sByUser(input.xmppUser), ...await all(store.listX2s())]) {
        listed.state = 'pending';
        if (listed.dialog) listed.dialog.localTag = 'changed';
      }
      const found = await store.findX2sByDialog(x2sDialog('c1').dialogId);
      if (found?.dialog) found.dialog.expiresAt = 2;
      assert.deepEqual(await store.getX2s(input.xmppUser, input.sipContact), { ...x2s({ dialog: x2sDialog('c1') }), updatedAt: T0 });
      await store.putX2s(x2s({ xmppUser: 'Juliet@example.com' }));
      assert.equal(await store.countX2sByUser('juliet@example.com'), 1);
      assert.equal(await store.countX2sByUser('Juliet@example.com'), 1);
      assert.equal((await store.getX2s('Juliet@example.com', 'sip:romeo@example.net'))?.dialog, undefined);
    });

    test('X2S: by user, counts, list filters and pages', async (t) => {
      const { store } = setup(t, impl);
      await store.putX2s(x2s({ sipContact: 'sip:a@x', state: 'active' }));
      await store.putX2s(x2s({ sipContact: 'sip:b@x', state: 'active', interested: false }));
      await store.putX2s(x2s({ sipContact: 'sip:c@x', state: 'pending' }));
      await store.putX2s(x2s({ xmppUser: 'nurse@example.com', sipContact: 'sip:a@x', state: 'active' }));
      await store.putX2s(x2s({ xmppUser: 'nurse@example.com', sipContact: 'sip:d@x', state: 'subscribing', interested: false }));
      assert.deepEqual(x2sKeys(await store.listX2sByUser('juliet@example.com')),
        ['juliet@example.com sip:a@x', 'juliet@example.com sip:b@x', 'juliet@example.com sip:c@x']);
      assert.deepEqual(await store.listX2sByUser('nobody@example.com'), []);
      assert.equal(await store.countX2sByUser('juliet@example.com'), 3);
      assert.equal(await store.countX2sByUser('nurse@example.com'), 2);
      assert.equal(await store.countX2sByUser('nobody@example.com'), 0);
      assert.equal((await all(store.listX2s())).length, 5);
      assert.equal((await all(store.listX2s({ pageSize: 2 }))).length, 5);
      assert.deepEqual(x2sKeys(await all(store.listX2s({ state: 'active', pageSize: 1 }))),
        ['juliet@example.com sip:a@x', 'juliet@example.com sip:b@x', 'nurse@example.com sip:a@x']);
      assert.deepEqual(x2sKeys(await all(store.listX2s({ interested: false }))),
        ['juliet@example.com sip:b@x', 'nurse@example.com sip:d@x']);
      assert.deepEqual(x2sKeys(await all(store.listX2s({ state: 'active', interested: true, pageSize: 2 }))),
        ['juliet@example.com sip:a@x', 'nurse@example.com sip:a@x']);
      await assert.rejects(all(store.listX2s({ pageSize: 0 })), TypeError);
    });

    test('X2S: writing while listing neither fails nor skips untouched records', async (t) => {
      const { store } = setup(t, impl);
      const users = Array.from({ length: 9 }, (_, i) => `u${i}@example.com`);
      await store.putX2sMany(users.map((u) => x2s({ xmppUser: u })));
      const seen: string[] = [];
      for await (const r of store.listX2s({ pageSize: 2 })) {
        seen.push(r.xmppUser);
        await store.deleteX2s(r.xmppUser, r.sipContact); // already yielded
        await store.putX2s({ ...r, state: 'active' }); // rewrites it
        await store.putX2s(x2s({ xmppUser: `new-${r.xmppUser}` })); // may or may not be seen
      }
      assert.deepEqual(seen.filter((u) => !u.startsWith('new-')).sort(), users);
    });

    test('X2S: dialog lookup follows the record; a dialog id held by another key is refused', async (t) => {
      const { store } = setup(t, impl);
      const d1 = x2sDialog('c1');
      await store.putX2s(x2s({ dialog: d1 }));
      assert.equal((await store.findX2sByDialog(d1.dialogId))?.sipContact, 'sip:romeo@example.net');
      assert.equal(await store.findX2sByDialog('c1'), undefined);
      await store.putX2s(x2s({ dialog: d1, state: 'active' })); // same key, same dialog: fine
      const other = x2s({ sipContact: 'sip:mercutio@example.net', dialog: d1 });
      await assert.rejects(store.putX2s(other), StoreConflictError);
      assert.equal(await store.getX2s(other.xmppUser, other.sipContact), undefined);
      const d2 = x2sDialog('c2'); // a new dialog replaces the old one in the index
      await store.putX2s(x2s({ dialog: d2 }));
      assert.equal(await store.findX2sByDialog(d1.dialogId), undefined);
      assert.equal((await store.findX2sByDialog(d2.dialogId))?.dialog?.callId, 'c2');
      await store.putX2s(other); // d1 is free again
      assert.equal((await store.findX2sByDialog(d1.dialogId))?.sipContact, 'sip:mercutio@example.net');
      await store.deleteX2s(other.xmppUser, other.sipContact);
      assert.equal(await store.findX2sByDialog(d1.dialogId), undefined);
    });

    test('putX2sMany and putS2xMany are all or nothing', async (t) => {
      const { store } = setup(t, impl);
      await store.putX2s(x2s({ dialog: x2sDialog('c1') }));
      await assert.rejects(store.putX2sMany([
        x2s({ sipContact: 'sip:a@x' }), x2s({ sipContact: 'sip:b@x', dialog: x2sDialog('c1') }),
      ]), StoreConflictError);
      await assert.rejects(store.putX2sMany([x2s({ sipContact: 'sip:a@x' }), x2s({ sipContact: '' })]), TypeError);
      assert.equal(await store.countX2sByUser('juliet@example.com'), 1);
      await store.putX2sMany([x2s({ sipContact: 'sip:a@x' }), x2s({ sipContact: 'sip:a@x', state: 'active' })]);
      assert.equal((await store.getX2s('juliet@example.com', 'sip:a@x'))?.state, 'active');
      await assert.rejects(store.putS2xMany([
        s2x({ sipWatcher: 'sip:a@x', dialog: s2xDialog('d') }), s2x({ sipWatcher: 'sip:b@x', dialog: s2xDialog('d') }),
      ]), StoreConflictError);
      assert.equal(await store.getS2x('sip:a@x', 'juliet@example.com'), undefined);
      await store.putS2xMany([s2x({ sipWatcher: 'sip:a@x' }), s2x({ sipWatcher: 'sip:b@x' })]);
      assert.equal(await store.countS2xByWatcher('sip:a@x'), 1);
    });

    test('invalid input is refused with a TypeError and changes nothing', async (t) => {
      const { store } = setup(t, impl);
      const bad: unknown[] = [
        { ...x2s(), state: 'active ' }, x2s({ xmppUser: '' }), { ...x2s(), interested: 1 },
        x2s({ dialog: { ...x2sDialog('c'), expiresAt: 1.5 } }), x2s({ dialog: { ...x2sDialog('c'), remoteTag: '' } }),
        x2s({ retryAt: Number.NaN }),
      ];
      for (const b of bad) await assert.rejects(store.putX2s(b as X2sInput), TypeError, JSON.stringify(b));
      await assert.rejects(store.putS2x({ ...s2x(), authorization: 'both' } as unknown as S2xInput), TypeError);
      await assert.rejects(store.putS2x(s2x({ dialog: { ...s2xDialog('d'), remoteTag: '' } })), TypeError);
      for (const ttl of [0, -1, 0.5, Number.POSITIVE_INFINITY]) {
        await assert.rejects(store.putPresence('romeo@sip.example.com', 'phone', '{}', ttl), TypeError, String(ttl));
      }
      await assert.rejects(store.putPresence('', 'phone', '{}', 1000), TypeError);
      assert.equal((await all(store.listX2s())).length + (await all(store.listS2x())).length, 0);
      assert.deepEqual(await store.getPresence('romeo@sip.example.com'), []);
    });

    test('S2X: get, upsert, delete, dialog lookup and conflict', async (t) => {
      const { store, clock } = setup(t, impl);
      assert.equal(await store.getS2x('sip:romeo@example.net', 'juliet@example.com'), undefined);
      await store.putS2x(s2x());
      assert.deepEqual(await store.getS2x('sip:romeo@example.net', 'juliet@example.com'), { ...s2x(), updatedAt: T0 });
      clock.t += 7;
      const granted = s2x({ authorization: 'granted', dialog: { ...s2xDialog('c1'), watcherContact: 'sip:romeo@192.0.2.1:5060' } });
      await store.putS2x(granted);
      assert.deepEqual(await store.getS2x('sip:romeo@example.net', 'juliet@example.com'), { ...granted, updatedAt: T0 + 7 });
      assert.deepEqual(await store.findS2xByDialog(s2xDialog('c1').dialogId), { ...granted, updatedAt: T0 + 7 });
      await assert.rejects(store.putS2x(s2x({ xmppUser: 'nurse@example.com', dialog: s2xDialog('c1') })), StoreConflictError);
      assert.equal(await store.getS2x('sip:romeo@example.net', 'nurse@example.com'), undefined);
      await store.putS2x(s2x({ authorization: 'denied' }));
      assert.equal(await store.findS2xByDialog(s2xDialog('c1').dialogId), undefined);
      assert.equal((await store.getS2x('sip:romeo@example.net', 'juliet@example.com'))?.authorization, 'denied');
      assert.equal(await store.deleteS2x('sip:romeo@example.net', 'juliet@example.com'), true);
      assert.equal(await store.deleteS2x('sip:romeo@example.net', 'juliet@example.com'), false);
      assert.equal(await store.getS2x('sip:romeo@example.net', 'juliet@example.com'), undefined);
    });

    test('S2X: watchers of a user, count per watcher, list filter and pages', async (t) => {
      const { store } = setup(t, impl);
      await store.putS2x(s2x({ sipWatcher: 'sip:a@x', authorization: 'granted' }));
      await store.putS2x(s2x({ sipWatcher: 'sip:b@x', authorization: 'pending' }));
      await store.putS2x(s2x({ sipWatcher: 'sip:a@x', xmppUser: 'nurse@example.com', authorization: 'granted' }));
      await store.putS2x(s2x({ sipWatcher: 'sip:a@x', xmppUser: 'tybalt@example.com', authorization: 'denied' }));
      assert.deepEqual(s2xKeys(await store.listS2xByUser('juliet@example.com')), ['sip:a@x juliet@example.com', 'sip:b@x juliet@example.com']);
      assert.deepEqual(await store.listS2xByUser('sip:a@x'), []);
      assert.equal(await store.countS2xByWatcher('sip:a@x'), 3);
      assert.equal(await store.countS2xByWatcher('sip:b@x'), 1);
      assert.equal(await store.countS2xByWatcher('juliet@example.com'), 0);
      assert.equal((await all(store.listS2x({ pageSize: 1 }))).length, 4);
      assert.deepEqual(s2xKeys(await all(store.listS2x({ authorization: 'granted', pageSize: 1 }))),
        ['sip:a@x juliet@example.com', 'sip:a@x nurse@example.com']);
      assert.deepEqual(s2xKeys(await all(store.listS2x({ authorization: 'denied' }))), ['sip:a@x tybalt@example.com']);
    });

    test('presence cache: upsert per resource, TTL on the injected clock, delete, purge', async (t) => {
      const { store, clock } = setup(t, impl);
      const romeo = 'romeo@sip.example.com';
      await store.putPresence(romeo, 'phone', '{"show":"away"}', 1000);
      await store.putPresence(romeo, '', '{"bare":true}', 5000);
      clock.t += 100;
      await store.putPresence(romeo, 'phone', '{"show":"dnd"}', 1000); // replaces, restarts its TTL
      await store.putPresence('juliet@example.com', 'balcony', '{}', 50);
      const byResource = async () => (await store.getPresence(romeo)).sort((a, b) => a.resource.localeCompare(b.resource));
      assert.deepEqual(await byResource(), [
        { resource: '', json: '{"bare":true}', updatedAt: T0 },
        { resource: 'phone', json: '{"show":"dnd"}', updatedAt: T0 + 100 },
      ]);
      clock.t = T0 + 1099; // phone expires at T0 + 1100
      assert.equal((await store.getPresence(romeo)).length, 2);
      clock.t = T0 + 1100;
      assert.deepEqual(await byResource(), [{ resource: '', json: '{"bare":true}', updatedAt: T0 }]);
      assert.deepEqual(await store.getPresence('juliet@example.com'), []);
      assert.equal(await store.purgeExpiredPresence(), 2);
      assert.equal(await store.purgeExpiredPresence(), 0);
      clock.t = T0 + 1200;
      await store.putPresence(romeo, 'phone', '{}', 1000);
      await store.deletePresence(romeo, 'phone');
      assert.deepEqual((await store.getPresence(romeo)).map((e) => e.resource), ['']);
      await store.putPresence(romeo, 'phone', '{}', 1000);
      await store.deletePresence(romeo);
      assert.deepEqual(await store.getPresence(romeo), []);
      await store.deletePresence('nobody@example.com');
    });

    test('close is idempotent and every later call rejects with StoreClosedError', async (t) => {
      const { store } = setup(t, impl);
      await store.putX2s(x2s());
      await store.close();
      await store.close();
      await assert.rejects(store.getX2s('juliet@example.com', 'sip:romeo@example.net'), StoreClosedError);
      await assert.rejects(store.putS2x(s2x()), StoreClosedError);
      await assert.rejects(all(store.listX2s()), StoreClosedError);
      await assert.rejects(store.getPresence('romeo@sip.example.com'), StoreClosedError);
    });
  });
}

describe('SQLite store', () => {
  function dir(t: TestContext): string {
    const d = tempDir();
    t.after(() => fs.rmSync(d, { recursive: true, force: true }));
    return d;
  }

  test('creates a missing dataDir, and the data survives close and reopen (a restart)', async (t) => {
    const dataDir = path.join(dir(t), 'nested', 'data');
    const now = () => T0;
    const first = openSqliteStore(dataDir, { now });
    const rx = x2s({ state: 'active', dialog: { ...x2sDialog('c1'), remoteTag: 'N' }, retryAt: T0 + 1 });
    const rs = s2x({ authorization: 'granted', dialog: s2xDialog('c2') });
    await first.putX2s(rx);
    await first.putS2x(rs);
    await first.putPresence('romeo@sip.example.com', 'phone', '{"show":"chat"}', 60_000);
    await first.close();
    assert.ok(fs.existsSync(path.join(dataDir, DEFAULT_FILENAME)));
    const again = openSqliteStore(dataDir, { now });
    t.after(() => again.close());
    assert.deepEqual(await again.getX2s(rx.xmppUser, rx.sipContact), { ...rx, updatedAt: T0 });
    assert.deepEqual(await again.findS2xByDialog(s2xDialog('c2').dialogId), { ...rs, updatedAt: T0 });
    assert.deepEqual(await again.getPresence('romeo@sip.example.com'), [{ resource: 'phone', json: '{"show":"chat"}', updatedAt: T0 }]);
  });

  test('migrations run once: schema_version stays at v1 on reopen; a newer schema is refused', async (t) => {
    const dataDir = dir(t);
    for (let i = 0; i < 3; i++) {
      const s = openSqliteStore(dataDir, { now: () => T0 + i });
      await s.putX2s(x2s({ sipContact: `sip:c${i}@x` }));
      await s.close();
    }
    const raw = new Database(path.join(dataDir, DEFAULT_FILENAME));
    try {
      assert.deepEqual(raw.prepare('SELECT version, applied_at FROM schema_version').all(), [{ version: 1, applied_at: T0 }]);
      assert.deepEqual(raw.prepare('SELECT count(*) AS n FROM x2s').get(), { n: 3 });
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      raw.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(2, T0);
    } finally {
      raw.close();
    }
    assert.throws(() => openSqliteStore(dataDir), (err: unknown) =>
      err instanceof StoreOpenError && /schema version 2 is newer/.test(err.message) && err.message.includes(dataDir));
  });

  test('an unusable dataDir or database file gives a StoreOpenError naming it', (t) => {
    const base = dir(t);
    const garbage = path.join(base, 'garbage.db');
    fs.writeFileSync(garbage, 'this is not a database '.repeat(300));
    fs.mkdirSync(path.join(base, 'a-directory.db'));
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['dataDir under a file', () => openSqliteStore(path.join(garbage, 'sub')), /ENOTDIR/],
      ['corrupt file', () => openSqliteStore(base, { filename: 'garbage.db' }), /not a database/],
      ['file is a directory', () => openSqliteStore(base, { filename: 'a-directory.db' }), /unable to open/],
    ];
    for (const [name, open, cause] of cases) {
      assert.throws(open, (err: unknown) => err instanceof StoreOpenError && err.message.includes(base)
        && cause.test(err.message) && err.cause !== undefined, name);
    }
    assert.throws(() => openSqliteStore(base, { filename: '../elsewhere.db' }), TypeError);
    assert.ok(!fs.existsSync(path.join(base, 'elsewhere.db')));
  });

  test('10 000 X2S rows written in one transaction and listed page by page', async (t) => {
    const store = openSqliteStore(dir(t), { now: () => T0 });
    t.after(() => store.close());
    const rows = Array.from({ length: 10_000 }, (_, i) => x2s({
      xmppUser: `user${i % 100}@example.com`, sipContact: `sip:contact${i}@example.net`,
      state: i % 2 === 0 ? 'active' : 'pending', interested: i % 4 === 0, dialog: x2sDialog(`call-${i}`),
    }));
    await store.putX2sMany(rows);
    const listed = await all(store.listX2s());
    assert.equal(listed.length, 10_000);
    assert.equal(new Set(listed.map((r) => r.sipContact)).size, 10_000);
    assert.equal((await all(store.listX2s({ state: 'active', pageSize: 333 }))).length, 5000);
    assert.equal((await all(store.listX2s({ state: 'active', interested: true }))).length, 2500);
    assert.equal(await store.countX2sByUser('user7@example.com'), 100);
    assert.equal((await store.findX2sByDialog(x2sDialog('call-9999').dialogId))?.sipContact, 'sip:contact9999@example.net');
  });

  test('two connections and another process share one file (WAL)', async (t) => {
    const dataDir = dir(t);
    const a = openSqliteStore(dataDir);
    const b = openSqliteStore(dataDir);
    t.after(async () => { await a.close(); await b.close(); });
    await a.putX2s(x2s({ sipContact: 'sip:from-a@x' }));
    assert.equal((await b.getX2s('juliet@example.com', 'sip:from-a@x'))?.state, 'subscribing');
    await b.putS2x(s2x({ authorization: 'granted' }));
    assert.equal((await a.getS2x('sip:romeo@example.net', 'juliet@example.com'))?.authorization, 'granted');
    // Another process opens, reads and writes while both connections stay open.
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const child = `
      const { openSqliteStore } = await import(process.env.STORE_MODULE);
      const s = openSqliteStore(process.env.STORE_DIR);
      const seen = (await s.getX2s('juliet@example.com', 'sip:from-a@x'))?.sipContact;
      await s.putX2s({ xmppUser: 'juliet@example.com', sipContact: 'sip:from-child@x', state: 'active', interested: true });
      await s.close();
      console.log(JSON.stringify({ seen }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
      cwd: root,
      env: { ...process.env, STORE_DIR: dataDir, STORE_MODULE: pathToFileURL(path.join(root, 'src/core/store/sqlite.ts')).href },
      timeout: 10_000,
    });
    assert.deepEqual(JSON.parse(stdout), { seen: 'sip:from-a@x' });
    assert.equal((await a.getX2s('juliet@example.com', 'sip:from-child@x'))?.state, 'active');
    assert.equal(await b.countX2sByUser('juliet@example.com'), 2);
  });
});
