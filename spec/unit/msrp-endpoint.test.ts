import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import {
  MsrpEndpoint, type MsrpEndpointOptions, MsrpParser, type MsrpFrame, type MsrpRequest, type MsrpResponse, type MsrpSession,
  type MsrpMessage, type MsrpUri, parseMsrpUri, serializeRequest, serializeResponse, type OutgoingRequest,
} from '../../src/msrp/index.js';
import { value } from '../support/result.js';

// ---------------------------------------------------------------------------
// Helpers

const WAIT_MS = 5000;
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug', format: 'json',
  stream: new Writable({ write(chunk: Buffer, _enc, cb) { logLines.push(chunk.toString()); cb(); } }),
});
const endpoints: MsrpEndpoint[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];

async function endpoint(opts: Partial<MsrpEndpointOptions> = {}): Promise<MsrpEndpoint> {
  const e = new MsrpEndpoint({ logger, listenAddress: '127.0.0.1', host: '127.0.0.1', port: 0, ...opts });
  await e.start();
  endpoints.push(e);
  return e;
}
function session(e: MsrpEndpoint, opts = {}): MsrpSession {
  return value(e.createSession(opts));
}
/** Waits for an event, failing (not hanging) after WAIT_MS. */
async function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return (await once(emitter, event, { signal: AbortSignal.timeout(WAIT_MS) })) as T;
}
/** A connected active/passive pair: `a` (active) on ea, `b` (passive) on eb. */
async function pair(ea: MsrpEndpoint, eb: MsrpEndpoint, aOpts = {}, bOpts = {}): Promise<[MsrpSession, MsrpSession]> {
  const a = session(ea, aOpts);
  const b = session(eb, bOpts);
  const [ra, rb] = await Promise.all([a.connect(b.path, 'active'), b.connect(a.path, 'passive')]);
  value(ra);
  value(rb);
  return [a, b];
}
const uri = (s: string): MsrpUri => value(parseMsrpUri(s));
/** Polls `pred` until it holds, failing after WAIT_MS. */
async function until(pred: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A hand-driven MSRP peer on a raw socket, to see exactly what goes over the wire. */
class RawPeer {
  readonly frames: MsrpFrame[] = [];
  readonly closed: Promise<void>;
  error: string | undefined;
  private readonly parser = new MsrpParser();
  private waiters: Array<() => void> = [];
  constructor(readonly socket: Socket, private readonly autoRespond = false) {
    sockets.push(socket);
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (d: Buffer) => {
      const r = this.parser.push(d);
      this.error ??= r.error;
      for (const f of r.frames) {
        this.frames.push(f);
        if (this.autoRespond && f.kind === 'request' && f.method === 'SEND' && f.failureReport !== 'no') this.respond(f, 200);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async connect(port: number): Promise<RawPeer> {
    const s = connect({ host: '127.0.0.1', port });
    await once(s, 'connect');
    return new RawPeer(s);
  }
  write(data: string | Buffer): void {
    this.socket.write(data);
  }
  send(r: OutgoingRequest): void {
    this.write(serializeRequest(r));
  }
  respond(r: MsrpRequest, code: number): void {
    this.write(serializeResponse({ tid: r.tid, code, comment: 'x', toPath: [r.fromPath[0] ?? uri('msrp://x.example:1;tcp')], fromPath: r.toPath }));
  }
  /** The first frame (from index `from`) that satisfies `pred`. */
  async frame(pred: (f: MsrpFrame) => boolean, from = 0): Promise<MsrpFrame> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const f = this.frames.slice(from).find(pred);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${this.frames.map((x) => x.tid).join(',')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  response(tid: string): Promise<MsrpResponse> {
    return this.frame((f) => f.kind === 'response' && f.tid === tid) as Promise<MsrpResponse>;
  }
}

/** A fake passive peer: a TCP server whose connections become RawPeers. */
async function fakePeer(autoRespond: boolean): Promise<{ port: number; peers: RawPeer[]; nextPeer: () => Promise<RawPeer> }> {
  const peers: RawPeer[] = [];
  const server = createServer((s) => peers.push(new RawPeer(s, autoRespond)));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const nextPeer = async (): Promise<RawPeer> => {
    const deadline = Date.now() + WAIT_MS;
    while (peers.length === 0) {
      if (Date.now() > deadline) throw new Error('nobody connected');
      await new Promise((r) => setTimeout(r, 10));
    }
    return peers[0] as RawPeer;
  };
  return { port, peers, nextPeer };
}

function sendTo(target: MsrpUri | string, from: string, extra: Partial<OutgoingRequest> & { tid: string }): OutgoingRequest {
  return { method: 'SEND', toPath: [typeof target === 'string' ? uri(target) : target], fromPath: [uri(from)], ...extra };
}
const RAW_FROM = 'msrp://127.0.0.1:9/rawpeer01;tcp';

after(async () => {
  for (const e of endpoints) await e.close();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

// ---------------------------------------------------------------------------

describe('MSRP endpoint over loopback TCP', { timeout: 30_000 }, () => {
  test('active/passive binding: the active side connects and at once sends a bodiless SEND (§5.4)', async () => {
    const fake = await fakePeer(true);
    const ea = await endpoint();
    const a = session(ea);
    const remote = `msrp://127.0.0.1:${fake.port}/passive01;tcp`;
    value(await a.connect(remote, 'active'));
    assert.equal(a.state, 'bound');
    const peer = await fake.nextPeer();
    const first = await peer.frame(() => true) as MsrpRequest;
    assert.equal(first.kind, 'request');
    assert.equal(first.method, 'SEND');
    assert.equal(first.body, null);
    assert.equal(first.contentType, undefined);
    assert.equal(first.failureReport, 'yes');
    assert.deepEqual(first.byteRange, { start: 1, end: 0, total: 0 });
    assert.deepEqual(first.toPath, [uri(remote)]);
    assert.deepEqual(first.fromPath, [a.localUri]);
    a.close();
  });

  test('two endpoints: binding both ways, then messages in both directions; a bodiless SEND is not a message', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const a = session(ea);
    const b = session(eb);
    const got: MsrpMessage[] = [];
    b.on('message', (m) => got.push(m));
    const [ra, rb] = await Promise.all([a.connect(b.path, 'active'), b.connect(a.path, 'passive')]);
    value(ra);
    value(rb);
    assert.equal(b.state, 'bound');
    assert.deepEqual(b.remotePath, [a.localUri]);
    const fromB = next<[MsrpMessage]>(a, 'message');
    value(b.send({ contentType: 'text/plain', body: 'Hi, Alice!  I\'m Bob!' }));
    const [m] = await fromB;
    assert.equal(m.body.toString(), 'Hi, Alice!  I\'m Bob!');
    assert.equal(m.contentType, 'text/plain');
    assert.equal(got.length, 0, 'the binding SEND was not surfaced');
    const fromA = next<[MsrpMessage]>(b, 'message');
    const id = value(a.send({ contentType: 'text/plain; charset=utf-8', body: "Hi, I'm Alice!", tid: 'd93kswow' }));
    const [m2] = await fromA;
    assert.equal(m2.messageId, id);
    assert.equal(m2.tid, 'd93kswow');
    assert.equal(m2.failureReport, 'no');
    assert.equal(m2.successReport, false);
  });

  test('a message larger than one chunk is reassembled; messages sent before binding wait for it', async () => {
    const [ea, eb] = [await endpoint({ chunkSize: 1000 }), await endpoint()];
    const a = session(ea);
    const b = session(eb);
    const body = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff));
    const id = value(a.send({ contentType: 'application/octet-stream', body, failureReport: 'yes' }));
    const got = next<[MsrpMessage]>(b, 'message');
    await Promise.all([a.connect(b.path, 'active'), b.connect(a.path, 'passive')]);
    const [m] = await got;
    assert.equal(m.messageId, id);
    assert.deepEqual(m.body, body);
    assert.equal(m.duplicate, false);
  });

  test('Success-Report: yes → the receiver sends a REPORT with Status 000 200 over the whole message (§7.1.3)', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const [a, b] = await pair(ea, eb);
    const received = next<[MsrpMessage]>(b, 'message');
    const reported = next<[{ messageId: string; code: number; namespace: string; byteRange?: unknown }]>(a, 'report');
    const body = 'x'.repeat(5000);
    const id = value(a.send({ contentType: 'text/plain', body, successReport: true, tid: 'bf9m36d5' }));
    const [m] = await received;
    assert.equal(m.successReport, true);
    const [r] = await reported;
    assert.equal(r.messageId, id);
    assert.equal(r.code, 200);
    assert.equal(r.namespace, '000');
    assert.deepEqual(r.byteRange, { start: 1, end: 5000, total: 5000 });
  });

  test('Failure-Report: no → no response at all; partial → no 200; yes or absent → 200 (§7.1.4, §7.2; E3)', async () => {
    const eb = await endpoint();
    const b = session(eb);
    const messages: MsrpMessage[] = [];
    b.on('message', (m) => messages.push(m));
    const peer = await RawPeer.connect(eb.port);
    peer.send(sendTo(b.localUri, RAW_FROM, { tid: 'bind0001', messageId: 'bindmsg1', failureReport: 'yes' }));
    assert.equal((await peer.response('bind0001')).code, 200);
    const text = (tid: string, fr?: 'yes' | 'no' | 'partial'): OutgoingRequest => sendTo(b.localUri, RAW_FROM, {
      tid, messageId: `m-${tid}`, byteRange: { start: 1, end: 44, total: 44 }, contentType: 'text/plain',
      body: Buffer.from('Neither, fair saint, if either thee dislike.'), ...(fr ? { failureReport: fr } : {}),
    });
    peer.send(text('di2fs53v', 'no'));
    peer.send(text('partial1', 'partial'));
    peer.send(text('absent01'));
    // TCP keeps order: once the last response is in, any response to the first two would have been seen.
    assert.equal((await peer.response('absent01')).code, 200);
    assert.deepEqual(peer.frames.map((f) => f.tid), ['bind0001', 'absent01']);
    assert.deepEqual(messages.map((m) => m.tid), ['di2fs53v', 'partial1', 'absent01']);
    assert.equal(messages[0]?.body.toString(), 'Neither, fair saint, if either thee dislike.');
  });

  test('413 when the message is over max-size: to the first chunk (E11) and the sender stops (§10.5)', async () => {
    const eb = await endpoint({ maxMessageBytes: 10_000 });
    const b = session(eb);
    b.on('message', () => assert.fail('no message expected'));
    const peer = await RawPeer.connect(eb.port);
    peer.send(sendTo(b.localUri, RAW_FROM, { tid: 'e11chunk', messageId: 'e11message', byteRange: { start: 1, end: 4096, total: 20_000_000 },
      contentType: 'text/plain', body: Buffer.alloc(4096, 0x41), flag: '+' }));
    const r = await peer.response('e11chunk');
    assert.equal(r.code, 413);
    assert.equal(r.comment, 'Message Too Large');

    // Endpoint to endpoint: the sender gets one sendError 413 for the message.
    const ea = await endpoint();
    const [a, b2] = await pair(ea, eb);
    b2.on('message', () => assert.fail('no message expected'));
    const failed = next<[{ messageId: string; code: number }]>(a, 'sendError');
    const id = value(a.send({ contentType: 'text/plain', body: Buffer.alloc(20_000, 0x42), failureReport: 'yes' }));
    const [err] = await failed;
    assert.deepEqual([err.messageId, err.code], [id, 413]);
  });

  test('a 413 stops the remaining chunks of a long message (§10.5)', async () => {
    const fake = await fakePeer(false);
    const ea = await endpoint();
    const a = session(ea);
    const connected = a.connect(`msrp://127.0.0.1:${fake.port}/stopme01;tcp`, 'active');
    const peer = await fake.nextPeer();
    const bind = await peer.frame(() => true) as MsrpRequest;
    peer.respond(bind, 200);
    value(await connected);
    const total = 1024 * 1024;
    const failed = next<[{ code: number }]>(a, 'sendError');
    value(a.send({ contentType: 'text/plain', body: Buffer.alloc(total, 0x43), failureReport: 'yes' }));
    const firstChunk = await peer.frame((f) => f.kind === 'request' && f.body !== null) as MsrpRequest;
    peer.respond(firstChunk, 413);
    assert.equal((await failed)[0].code, 413);
    // Give any chunk still in flight time to arrive, then count.
    await new Promise((r) => setTimeout(r, 200));
    const chunks = peer.frames.filter((f) => f.kind === 'request' && f.body !== null).length;
    assert.ok(chunks < total / 2048, `the sender stopped early (${chunks} of ${total / 2048} chunks sent)`);
  });

  test('a malformed peer loses only its own connection, with a logged reason', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const [a, b] = await pair(ea, eb);
    const bad = await RawPeer.connect(eb.port);
    bad.write('MSRP ab_cd SEND\r\n');
    await bad.closed;
    assert.ok(logLines.some((l) => l.includes('malformed') && l.includes('transaction id')), 'reason logged');
    const got = next<[MsrpMessage]>(b, 'message');
    value(a.send({ contentType: 'text/plain', body: 'still here' }));
    assert.equal((await got)[0].body.toString(), 'still here');
    // Hostile variants: garbage, a huge header, an oversized body.
    for (const junk of ['GET / HTTP/1.1\r\n\r\n', `MSRP abcd SEND\r\nTo-Path: ${'x'.repeat(40_000)}`, '\x00\x01\x02\x03\x04']) {
      const p = await RawPeer.connect(eb.port);
      p.write(junk);
      await p.closed;
    }
    assert.equal(b.state, 'bound');
  });

  test('mutated frames from many peers never crash the endpoint, which keeps serving', async () => {
    const [ea, eb] = [await endpoint(), await endpoint({ unboundTimeoutMs: 300 })];
    const [a, b] = await pair(ea, eb);
    const valid = serializeRequest(sendTo(b.localUri, RAW_FROM, { tid: 'fuzz0001', messageId: 'fuzzmsg1', byteRange: { start: 1, end: 5, total: 5 },
      contentType: 'text/plain', body: Buffer.from('hello') }));
    let seed = 99;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    const peers: RawPeer[] = [];
    for (let i = 0; i < 40; i++) {
      const bytes = Array.from(valid);
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      const p = await RawPeer.connect(eb.port);
      p.write(Buffer.from(bytes));
      peers.push(p);
    }
    await Promise.all(peers.map((p) => p.closed.then(() => undefined, () => undefined)));
    const got = next<[MsrpMessage]>(b, 'message');
    value(a.send({ contentType: 'text/plain', body: 'survived' }));
    assert.equal((await got)[0].body.toString(), 'survived');
  });

  test('a request for an unknown session gets 481 (§7.3); an active session whose peer answers 481 closes', async () => {
    const eb = await endpoint();
    const peer = await RawPeer.connect(eb.port);
    peer.send(sendTo(`msrp://127.0.0.1:${eb.port}/nosuchsession;tcp`, RAW_FROM, { tid: 'unknown1' }));
    const r = await peer.response('unknown1');
    assert.equal(r.code, 481);
    assert.deepEqual(r.toPath, [uri(RAW_FROM)]);
    // Right session-id, wrong host: §6.1 comparison, still 481.
    const b = session(eb);
    peer.send(sendTo(`msrp://localhost:${eb.port}/${b.sessionId};tcp`, RAW_FROM, { tid: 'unknown2' }));
    assert.equal((await peer.response('unknown2')).code, 481);

    const ea = await endpoint();
    const a = session(ea);
    const closed = next<[string]>(a, 'closed');
    value(await a.connect(`msrp://127.0.0.1:${eb.port}/wrongsession;tcp`, 'active'));
    assert.match((await closed)[0], /481/);
  });

  test('506 for a session already bound to another connection; 501 for an unknown method; 415 for an unlisted type', async () => {
    const eb = await endpoint();
    const b = session(eb, { acceptTypes: ['text/plain'] });
    const p1 = await RawPeer.connect(eb.port);
    p1.send(sendTo(b.localUri, RAW_FROM, { tid: 'bindit01' }));
    assert.equal((await p1.response('bindit01')).code, 200);
    const p2 = await RawPeer.connect(eb.port);
    p2.send(sendTo(b.localUri, RAW_FROM, { tid: 'hijack01' }));
    assert.equal((await p2.response('hijack01')).code, 506);
    p1.send({ ...sendTo(b.localUri, RAW_FROM, { tid: 'nickname' }), method: 'NICKNAME' });
    assert.equal((await p1.response('nickname')).code, 501);
    p1.send(sendTo(b.localUri, RAW_FROM, { tid: 'html0001', messageId: 'htmlmsg1', contentType: 'text/html', body: Buffer.from('<b>x</b>') }));
    assert.equal((await p1.response('html0001')).code, 415);
    p1.write(`MSRP badrange SEND\r\nTo-Path: ${b.path}\r\nFrom-Path: ${RAW_FROM}\r\nMessage-ID: mmmm\r\nByte-Range: 5-1/9\r\n-------badrange$\r\n`);
    assert.equal((await p1.response('badrange')).code, 400);
    assert.equal(b.state, 'bound');
  });

  test('403 on a sendonly session (§8.9), except for isComposing; a peer may bind a session before connect() is called', async () => {
    const eb = await endpoint();
    const b = session(eb, { direction: 'sendonly' });
    const p = await RawPeer.connect(eb.port);
    p.send(sendTo(b.localUri, RAW_FROM, { tid: 'early001' }));
    assert.equal((await p.response('early001')).code, 200);
    assert.equal(b.state, 'bound');
    value(await b.connect(RAW_FROM, 'passive'));
    assert.equal(b.role, 'passive');
    p.send(sendTo(b.localUri, RAW_FROM, { tid: 'text0001', messageId: 'textmsg1', contentType: 'text/plain', body: Buffer.from('hi') }));
    assert.equal((await p.response('text0001')).code, 403);
    p.send(sendTo(b.localUri, RAW_FROM, { tid: 'isco0001', messageId: 'iscomsg1', contentType: 'application/im-iscomposing+xml', body: Buffer.from('<x/>') }));
    assert.equal((await p.response('isco0001')).code, 200);
  });

  test('API misuse: bad send() input throws a TypeError; a closed session and an unstarted endpoint give error values', async () => {
    assert.throws(() => new MsrpEndpoint({ logger, chunkSize: 4096 }), RangeError);
    const unstarted = new MsrpEndpoint({ logger, listenAddress: '127.0.0.1', host: '127.0.0.1', port: 0 });
    assert.equal(unstarted.createSession().ok, false);
    await unstarted.close();
    const e = await endpoint();
    const s = session(e);
    assert.throws(() => s.send({ contentType: 'not a type', body: 'x' }), TypeError);
    assert.throws(() => s.send({ contentType: 'text/plain\r\nX: y', body: 'x' }), TypeError);
    assert.throws(() => s.send({ contentType: 'text/plain', body: 'x', messageId: 'no' }), TypeError);
    assert.throws(() => s.send({ contentType: 'text/plain', body: 'x', failureReport: 'maybe' as 'yes' }), TypeError);
    assert.equal((await s.connect('not a path', 'active')).ok, false);
    assert.equal((await s.connect('msrp://h.example/x1x1;tcp', 'active')).ok, false, 'no port');
    s.close();
    assert.equal(s.send({ contentType: 'text/plain', body: 'x' }).ok, false);
    assert.equal((await s.connect(`msrp://127.0.0.1:${e.port}/abcd;tcp`, 'active')).ok, false);
  });

  test('REPORTs are surfaced to the sender of the message and never answered (§7.1.2; E10)', async () => {
    const eb = await endpoint();
    const b = session(eb);
    const peer = await RawPeer.connect(eb.port);
    peer.send(sendTo(b.localUri, RAW_FROM, { tid: 'bind0002' }));
    await peer.response('bind0002');
    const id = value(b.send({ contentType: 'text/plain', body: 'What man art thou ...?', successReport: true, tid: 'bf9m36d5' }));
    const sent = await peer.frame((f) => f.tid === 'bf9m36d5') as MsrpRequest;
    assert.equal(sent.successReport, 'yes');
    assert.equal(sent.failureReport, 'no');
    assert.deepEqual(sent.byteRange, { start: 1, end: 22, total: 22 });
    const reported = next<[{ messageId: string; code: number; tid: string }]>(b, 'report');
    const report = (tid: string, messageId: string): OutgoingRequest => ({
      tid, method: 'REPORT', toPath: [b.localUri], fromPath: [uri(RAW_FROM)], messageId, byteRange: { start: 1, end: 22, total: 22 },
      status: { namespace: '000', code: 200, comment: 'OK' },
    });
    peer.send(report('unknown9', 'notoursmsg'));
    peer.send(report('hx74g336', id));
    peer.send(sendTo(b.localUri, RAW_FROM, { tid: 'fence001' }));
    const [r] = await reported;
    assert.deepEqual([r.messageId, r.code, r.tid], [id, 200, 'hx74g336']);
    await peer.response('fence001');
    assert.deepEqual(peer.frames.filter((f) => f.kind === 'response').map((f) => f.tid), ['bind0002', 'fence001']);
  });

  test('two sessions to the same authority share one connection (§5.4)', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const [a1, b1] = await pair(ea, eb);
    const [a2, b2] = await pair(ea, eb);
    assert.equal(ea.stats().connections, 1);
    assert.equal(eb.stats().connections, 1);
    assert.equal(a1.connection, a2.connection);
    const m1 = next<[MsrpMessage]>(b1, 'message');
    const m2 = next<[MsrpMessage]>(b2, 'message');
    value(a1.send({ contentType: 'text/plain', body: 'one' }));
    value(a2.send({ contentType: 'text/plain', body: 'two' }));
    assert.equal((await m1)[0].body.toString(), 'one');
    assert.equal((await m2)[0].body.toString(), 'two');
    // Closing one session keeps the connection for the other.
    a1.close();
    const m3 = next<[MsrpMessage]>(b2, 'message');
    value(a2.send({ contentType: 'text/plain', body: 'three' }));
    assert.equal((await m3)[0].body.toString(), 'three');
    assert.equal(ea.stats().connections, 1);
  });

  test('keepalive detects a dead peer and closes its sessions', async () => {
    const fake = await fakePeer(false);
    const ea = await endpoint({ keepaliveIntervalMs: 50, transactionTimeoutMs: 200 });
    const a = session(ea);
    const connected = a.connect(`msrp://127.0.0.1:${fake.port}/deadpeer;tcp`, 'active');
    const peer = await fake.nextPeer();
    peer.respond(await peer.frame(() => true) as MsrpRequest, 200); // then silence
    value(await connected);
    const [reason] = await next<[string]>(a, 'closed');
    assert.match(reason, /keepalive/);
    assert.ok(peer.frames.length >= 2, 'a keepalive SEND was sent');
    const probe = peer.frames[1] as MsrpRequest;
    assert.deepEqual([probe.method, probe.body, probe.failureReport], ['SEND', null, 'yes']);
    assert.equal(ea.stats().connections, 0);
  });

  test('Failure-Report: yes with no response → sendError 408 (§7.1.1, §10.4)', async () => {
    const fake = await fakePeer(false);
    const ea = await endpoint({ transactionTimeoutMs: 150, keepaliveIntervalMs: 0 });
    const a = session(ea);
    const connected = a.connect(`msrp://127.0.0.1:${fake.port}/silent01;tcp`, 'active');
    const peer = await fake.nextPeer();
    peer.respond(await peer.frame(() => true) as MsrpRequest, 200);
    value(await connected);
    const failed = next<[{ code: number; messageId: string }]>(a, 'sendError');
    const id = value(a.send({ contentType: 'text/plain', body: 'anyone?', failureReport: 'yes' }));
    const [e] = await failed;
    assert.deepEqual([e.code, e.messageId], [408, id]);
    assert.equal(a.state, 'bound', 'a lost message does not end the session');
  });

  test('timeouts: an accepted connection that never binds, a passive session nobody connects to', async () => {
    const eb = await endpoint({ unboundTimeoutMs: 100, bindTimeoutMs: 100 });
    const idle = await RawPeer.connect(eb.port);
    await idle.closed;
    const b = session(eb);
    const r = await b.connect(`msrp://127.0.0.1:9/nobody01;tcp`, 'passive');
    assert.equal(r.ok, false);
    assert.equal(b.state, 'closed');
    assert.equal(eb.stats().sessions, 0);
  });

  test('connection loss closes the sessions bound to it, with a reason (§5.4)', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const [a, b] = await pair(ea, eb);
    const closedA = next<[string]>(a, 'closed');
    b.connection?.close('test: pulled the cable');
    assert.match((await closedA)[0], /connection lost/);
    assert.equal(b.state, 'closed');
  });

  test('limits: sessions and connections', async () => {
    const eb = await endpoint({ maxSessions: 1, maxConnections: 1 });
    session(eb);
    assert.equal(eb.createSession().ok, false);
    const p1 = await RawPeer.connect(eb.port);
    const p2 = await RawPeer.connect(eb.port);
    await p2.closed;
    assert.equal(eb.stats().connections, 1);
    p1.socket.destroy();
  });

  test('a throwing application listener does not take the connection down', async () => {
    const [ea, eb] = [await endpoint(), await endpoint()];
    const [a, b] = await pair(ea, eb);
    b.once('message', () => { throw new Error('listener bug'); });
    value(a.send({ contentType: 'text/plain', body: 'first' }));
    const second = next<[MsrpMessage]>(b, 'message');
    await new Promise((r) => setTimeout(r, 50));
    value(a.send({ contentType: 'text/plain', body: 'second' }));
    assert.equal((await second)[0].body.toString(), 'second');
    assert.ok(logLines.some((l) => l.includes('listener bug')));
  });

  test('a listener throwing from a timer-driven event (sendError 408, closed) is logged, not fatal', async () => {
    const fake = await fakePeer(false);
    const ea = await endpoint({ transactionTimeoutMs: 100, keepaliveIntervalMs: 0, bindTimeoutMs: 100 });
    const a = session(ea);
    const connected = a.connect(`msrp://127.0.0.1:${fake.port}/throws01;tcp`, 'active');
    const peer = await fake.nextPeer();
    peer.respond(await peer.frame(() => true) as MsrpRequest, 200);
    value(await connected);
    a.on('sendError', () => { throw new Error('sendError listener bug'); });
    value(a.send({ contentType: 'text/plain', body: 'x', failureReport: 'yes' }));
    const b = session(ea);
    b.on('closed', () => { throw new Error('closed listener bug'); });
    void b.connect(RAW_FROM, 'passive');
    await until(() => logLines.some((l) => l.includes('sendError listener bug')) && logLines.some((l) => l.includes('closed listener bug')));
    assert.equal(b.state, 'closed');
  });

  test('msrps: TLS listener and TLS client (skipped without openssl)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'msrp-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
          '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      } catch {
        t.skip('openssl not available');
        return;
      }
      const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), ca: readFileSync(join(dir, 'cert.pem')) };
      const [ea, eb] = [await endpoint({ tls }), await endpoint({ tls })];
      assert.equal(eb.scheme, 'msrps');
      const [a, b] = await pair(ea, eb);
      assert.equal(a.localUri.scheme, 'msrps');
      const got = next<[MsrpMessage]>(b, 'message');
      value(a.send({ contentType: 'text/plain', body: 'over TLS' }));
      assert.equal((await got)[0].body.toString(), 'over TLS');
      // A client that does not trust the certificate cannot connect.
      const ec = await endpoint();
      const c = session(ec);
      const r = await c.connect(b.path, 'active');
      assert.equal(r.ok, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close() releases everything: no sockets, servers or timers keep the process alive', async () => {
    const [ea, eb] = [await endpoint({ keepaliveIntervalMs: 20 }), await endpoint()];
    const [a, b] = await pair(ea, eb);
    const closedB = next<[string]>(b, 'closed');
    await ea.close();
    assert.equal(a.state, 'closed');
    assert.match((await closedB)[0], /connection lost/);
    assert.deepEqual(ea.stats(), { sessions: 0, connections: 0 });
    assert.equal(ea.createSession().ok, false);
    for (const e of endpoints) await e.close();
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    await new Promise((r) => setTimeout(r, 50));
    const left = process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Timeout|Immediate/.test(r));
    assert.deepEqual(left, []);
  });
});
