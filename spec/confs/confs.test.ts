// Tests of the docker-compose demo's configuration files, run on this
// machine without a container engine:
//   * .ci/check-confs passes (static checks, kamailio -c, Prosody start-up);
//   * conf/gateway.docker.json is a complete, valid gateway configuration;
//   * conf/kamailio/kamailio.cfg, run for real on 127.0.0.1, routes the XMPP
//     users' SIP domain to drachtio and example.org by location;
//   * conf/prosody/prosody.cfg.lua, started through the image's entrypoint,
//     accepts the gateway's component with the demo secret and a demo user,
//     and routes messages between them.
// Needs kamailio (5.6), prosody (0.12) and openssl on PATH (Debian 12
// packages, installed by .ci/install-deps); without them the tests fail.
// Everything listens on 127.0.0.1 only, on ports the OS hands out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import net from 'node:net';
import { client, xml } from '@xmpp/client';
import { component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import { loadConfig, schemaLeaves } from '../../src/config/load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KAMAILIO_CFG = join(ROOT, 'conf/kamailio/kamailio.cfg');
const PROSODY_CFG = join(ROOT, 'conf/prosody/prosody.cfg.lua');
const PROSODY_ENTRYPOINT = join(ROOT, 'conf/prosody/docker-entrypoint.sh');
const GATEWAY_JSON = join(ROOT, 'conf/gateway.docker.json');

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = ['kamailio', 'prosody', 'prosodyctl', 'openssl'].filter((c) => !onPath(c));
if (missing.length > 0) {
  throw new Error(`not installed here: ${missing.join(', ')}; run sudo bash .ci/install-deps`);
}
const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------
// small process and network helpers

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT): Proc {
  // detached: a process group of its own, so stop() reaches forked children.
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      out += `\nspawn error: ${err.message}`;
      resolve(-1);
    });
    child.on('exit', (code) => resolve(code));
  });
  return { child, output: () => out, exited };
}

async function stop(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.pid === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const group = -proc.child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10000).unref());
  if ((await Promise.race([proc.exited, timer])) === 'timeout') {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
    await proc.exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A port free for both UDP and TCP on 127.0.0.1 (Kamailio listens on both). */
async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const { port } = udp.address();
    const tcpFree = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    udp.close();
    if (tcpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

// ---------------------------------------------------------------------------
// a minimal SIP toolkit: enough to talk to Kamailio over UDP

interface SipMessage {
  firstLine: string;
  headers: Array<[string, string]>;
  body: string;
  raw: string;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

function parseSip(data: Buffer): SipMessage {
  const raw = data.toString('utf8');
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const [firstLine = '', ...lines] = head.split('\r\n');
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  return { firstLine, headers, body, raw };
}

const headerValues = (m: SipMessage, name: string): string[] =>
  m.headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => v);
const header = (m: SipMessage, name: string): string | undefined => headerValues(m, name)[0];
const statusOf = (m: SipMessage): number => Number(/^SIP\/2\.0 (\d{3})/.exec(m.firstLine)?.[1] ?? NaN);

let seq = 0;

interface RequestOptions {
  method: string;
  uri: string;
  from: string;
  to: string;
  /** host:port written into Via (and Contact); defaults to the sending socket's. */
  viaHostPort?: string;
  contact?: string;
  maxForwards?: number;
  extra?: string[];
  body?: string;
}

class SipEndpoint {
  private readonly queue: Array<{ msg: SipMessage; from: dgram.RemoteInfo }> = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: dgram.Socket, readonly port: number) {
    socket.on('message', (data, from) => {
      this.queue.push({ msg: parseSip(data), from });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(): Promise<SipEndpoint> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SipEndpoint(socket, socket.address().port);
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  send(msg: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /** The next message accepted by `match` (others are dropped), within timeoutMs. */
  async next(match: (m: SipMessage) => boolean, timeoutMs = 3000): Promise<{ msg: SipMessage; from: dgram.RemoteInfo }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = this.queue.shift();
      if (item) {
        if (match(item.msg)) return item;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SIP message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Nothing accepted by `match` arrives within ms. */
  async nothing(match: (m: SipMessage) => boolean, ms: number): Promise<void> {
    await assert.rejects(this.next(match, ms), /no matching SIP message/);
  }

  request(o: RequestOptions): { text: string; callId: string; branch: string } {
    seq += 1;
    const via = o.viaHostPort ?? this.hostPort;
    const callId = `confs-${process.pid}-${seq}@127.0.0.1`;
    const branch = `z9hG4bK-confs-${process.pid}-${seq}`;
    const body = o.body ?? '';
    const lines = [
      `${o.method} ${o.uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${via};branch=${branch};rport`,
      `Max-Forwards: ${o.maxForwards ?? 70}`,
      `From: <${o.from}>;tag=t${seq}`,
      `To: <${o.to}>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${o.method}`,
      ...(o.contact ? [`Contact: <${o.contact}>`] : []),
      ...(o.extra ?? []),
      ...(body ? ['Content-Type: text/plain'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return { text: lines.join('\r\n'), callId, branch };
  }

  /** Answers a received request (to the address it came from, as Via says with rport). */
  async reply(req: { msg: SipMessage; from: dgram.RemoteInfo }, code: number, reason: string): Promise<void> {
    const m = req.msg;
    const to = header(m, 'to') ?? '';
    const lines = [
      `SIP/2.0 ${code} ${reason}`,
      ...headerValues(m, 'via').map((v) => `Via: ${v}`),
      `From: ${header(m, 'from') ?? ''}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=ua${seq}`}`,
      `Call-ID: ${header(m, 'call-id') ?? ''}`,
      `CSeq: ${header(m, 'cseq') ?? ''}`,
      'Content-Length: 0',
      '',
      '',
    ];
    await this.send(lines.join('\r\n'), req.from.port);
  }

  close(): void {
    this.socket.close();
  }
}

// ---------------------------------------------------------------------------

describe('.ci/check-confs', () => {
  it('exits 0', { timeout: 120000 }, async () => {
    const proc = start('bash', ['.ci/check-confs']);
    const code = await proc.exited;
    assert.equal(code, 0, `.ci/check-confs failed:\n${proc.output()}`);
  });
});

describe('conf/gateway.docker.json', () => {
  const raw = JSON.parse(readFileSync(GATEWAY_JSON, 'utf8')) as Record<string, unknown>;

  it('is accepted by the gateway configuration loader', () => {
    const cfg = loadConfig({ file: GATEWAY_JSON, env: {} });
    assert.equal(cfg.sip.drachtio.mode, 'inbound');
    assert.equal(cfg.http.host, '0.0.0.0');
    assert.equal(cfg.http.port, 8080);
    assert.equal(cfg.dataDir, '/var/lib/gateway');
    assert.equal(cfg.domains.homeSipDomain, 'example.org');
    assert.equal(cfg.xmpp.componentDomain, 'sip.example.com');
  });

  it('sets every configuration key explicitly', () => {
    for (const { path } of schemaLeaves()) {
      let node: unknown = raw;
      for (const key of path) {
        assert.ok(node !== null && typeof node === 'object' && key in node, `missing key ${path.join('.')}`);
        node = (node as Record<string, unknown>)[key];
      }
    }
  });

  it('lets GW_XMPP_SECRET and GW_DRACHTIO_SECRET override the demo secrets', () => {
    const cfg = loadConfig({ file: GATEWAY_JSON, env: { GW_XMPP_SECRET: 'x-op', GW_DRACHTIO_SECRET: 'd-op' } });
    assert.equal(cfg.xmpp.secret, 'x-op');
    assert.equal(cfg.sip.drachtio.secret, 'd-op');
  });
});

describe('conf/kamailio/kamailio.cfg on 127.0.0.1', () => {
  let kamailio: Proc | undefined;
  let workDir = '';
  let port = 0;
  let drachtio: SipEndpoint; // stands in for drachtio-server
  let phone: SipEndpoint; // a softphone
  let other: SipEndpoint; // a second softphone / the sender

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'confs-kamailio-'));
    drachtio = await SipEndpoint.open();
    phone = await SipEndpoint.open();
    other = await SipEndpoint.open();
    port = await freeSipPort();
    kamailio = start('kamailio', [
      '-DD', '-E', '-f', KAMAILIO_CFG, '-w', workDir, '-Y', workDir, '-m', '32', '-M', '8',
      '-A', 'LISTEN_ADDR=127.0.0.1',
      '-A', `SIP_PORT=${port}`,
      '-A', `DRACHTIO_URI="sip:127.0.0.1:${drachtio.port}"`,
      '-A', 'CHILDREN=1',
    ]);
    // Ready when it answers OPTIONS addressed to itself.
    const deadline = Date.now() + 15000;
    for (;;) {
      if (kamailio.child.exitCode !== null) throw new Error(`kamailio exited:\n${kamailio.output()}`);
      const { text, callId } = other.request({
        method: 'OPTIONS', uri: `sip:127.0.0.1:${port}`, from: 'sip:probe@example.org', to: `sip:127.0.0.1:${port}`,
      });
      await other.send(text, port);
      try {
        const { msg } = await other.next((m) => header(m, 'call-id') === callId, 300);
        assert.equal(statusOf(msg), 200, msg.raw);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`kamailio did not answer OPTIONS: ${String(err)}\n${kamailio.output()}`);
      }
    }
  });

  after(async () => {
    await stop(kamailio);
    for (const ep of [drachtio, phone, other]) ep?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('sends a MESSAGE for an XMPP user (sip:alice@example.com) to drachtio, and its answer back', async () => {
    const { text, callId } = other.request({
      method: 'MESSAGE', uri: 'sip:alice@example.com', from: 'sip:bob@example.org', to: 'sip:alice@example.com', body: 'hello alice',
    });
    await other.send(text, port);
    const got = await drachtio.next((m) => header(m, 'call-id') === callId);
    assert.equal(got.msg.firstLine, 'MESSAGE sip:alice@example.com SIP/2.0');
    assert.equal(got.from.port, port, 'relayed by Kamailio from its SIP port');
    assert.equal(header(got.msg, 'max-forwards'), '69');
    assert.match(header(got.msg, 'via') ?? '', new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${port};`));
    assert.equal(got.msg.body, 'hello alice');
    await drachtio.reply(got, 200, 'OK');
    const answer = await other.next((m) => header(m, 'call-id') === callId);
    assert.equal(statusOf(answer.msg), 200);
  });

  it('record-routes a SUBSCRIBE for an XMPP user on its way to drachtio', async () => {
    const { text, callId } = other.request({
      method: 'SUBSCRIBE', uri: 'sip:alice@example.com', from: 'sip:bob@example.org', to: 'sip:alice@example.com',
      contact: `sip:bob@${other.hostPort}`, extra: ['Event: presence', 'Expires: 600'],
    });
    await other.send(text, port);
    const got = await drachtio.next((m) => header(m, 'call-id') === callId);
    assert.match(header(got.msg, 'record-route') ?? '', new RegExp(`sip:127\\.0\\.0\\.1:${port};.*lr`));
    await drachtio.reply(got, 200, 'OK');
    await other.next((m) => header(m, 'call-id') === callId);
  });

  it('answers 404 for an example.org user who is not registered', async () => {
    const { text, callId } = other.request({
      method: 'MESSAGE', uri: 'sip:nobody@example.org', from: 'sip:alice@example.com', to: 'sip:nobody@example.org', body: 'anyone?',
    });
    await other.send(text, port);
    const { msg } = await other.next((m) => header(m, 'call-id') === callId);
    assert.equal(statusOf(msg), 404, msg.raw);
    await drachtio.nothing((m) => header(m, 'call-id') === callId, 300);
  });

  it('registers an example.org user and delivers to the registered contact', async () => {
    const reg = phone.request({
      method: 'REGISTER', uri: 'sip:example.org', from: 'sip:bob@example.org', to: 'sip:bob@example.org',
      contact: `sip:bob@${phone.hostPort}`, extra: ['Expires: 300'],
    });
    await phone.send(reg.text, port);
    const regAnswer = await phone.next((m) => header(m, 'call-id') === reg.callId);
    assert.equal(statusOf(regAnswer.msg), 200, regAnswer.msg.raw);
    assert.match(header(regAnswer.msg, 'contact') ?? '', new RegExp(`sip:bob@127\\.0\\.0\\.1:${phone.port}`));

    // e.g. the gateway (through drachtio) writing to bob
    const msg = drachtio.request({
      method: 'MESSAGE', uri: 'sip:bob@example.org', from: 'sip:alice@example.com', to: 'sip:bob@example.org',
      extra: [`Route: <sip:127.0.0.1:${port};lr>`], body: 'hi bob',
    });
    await drachtio.send(msg.text, port);
    const got = await phone.next((m) => header(m, 'call-id') === msg.callId);
    assert.equal(got.msg.firstLine, `MESSAGE sip:bob@127.0.0.1:${phone.port} SIP/2.0`);
    assert.equal(header(got.msg, 'route'), undefined, 'the preloaded Route to the proxy is consumed');
    assert.equal(got.msg.body, 'hi bob');
    await phone.reply(got, 200, 'OK');
    const answer = await drachtio.next((m) => header(m, 'call-id') === msg.callId);
    assert.equal(statusOf(answer.msg), 200);
  });

  it('delivers to where a REGISTER really came from when its Via says otherwise (NAT, docker port publishing)', async () => {
    // `phone` claims to be at other's address; Kamailio must remember phone's.
    const reg = phone.request({
      method: 'REGISTER', uri: 'sip:example.org', from: 'sip:carol@example.org', to: 'sip:carol@example.org',
      viaHostPort: other.hostPort, contact: `sip:carol@${other.hostPort}`, extra: ['Expires: 300'],
    });
    await phone.send(reg.text, port);
    const regAnswer = await phone.next((m) => header(m, 'call-id') === reg.callId);
    assert.equal(statusOf(regAnswer.msg), 200, regAnswer.msg.raw);

    const msg = drachtio.request({
      method: 'MESSAGE', uri: 'sip:carol@example.org', from: 'sip:alice@example.com', to: 'sip:carol@example.org', body: 'hi carol',
    });
    await drachtio.send(msg.text, port);
    const got = await phone.next((m) => header(m, 'call-id') === msg.callId);
    assert.equal(got.msg.body, 'hi carol');
    await phone.reply(got, 200, 'OK');
    await drachtio.next((m) => header(m, 'call-id') === msg.callId);
    await other.nothing((m) => header(m, 'call-id') === msg.callId, 200);
  });

  it('refuses to register addresses of the XMPP users\' domain', async () => {
    const reg = phone.request({
      method: 'REGISTER', uri: 'sip:example.org', from: 'sip:alice@example.com', to: 'sip:alice@example.com',
      contact: `sip:alice@${phone.hostPort}`,
    });
    await phone.send(reg.text, port);
    const { msg } = await phone.next((m) => header(m, 'call-id') === reg.callId);
    assert.equal(statusOf(msg), 403, msg.raw);
  });

  it('is not an open relay: other domains get 403', async () => {
    const { text, callId } = other.request({
      method: 'MESSAGE', uri: 'sip:someone@elsewhere.test', from: 'sip:bob@example.org', to: 'sip:someone@elsewhere.test', body: 'x',
    });
    await other.send(text, port);
    const { msg } = await other.next((m) => header(m, 'call-id') === callId);
    assert.equal(statusOf(msg), 403, msg.raw);
  });

  it('answers 483 when Max-Forwards is exhausted', async () => {
    const { text, callId } = other.request({
      method: 'MESSAGE', uri: 'sip:alice@example.com', from: 'sip:bob@example.org', to: 'sip:alice@example.com', maxForwards: 0, body: 'x',
    });
    await other.send(text, port);
    const { msg } = await other.next((m) => header(m, 'call-id') === callId);
    assert.equal(statusOf(msg), 483, msg.raw);
    await drachtio.nothing((m) => header(m, 'call-id') === callId, 300);
  });
});

describe('conf/prosody/prosody.cfg.lua through the image entrypoint on 127.0.0.1', () => {
  const gw = loadConfig({ file: GATEWAY_JSON, env: {} });
  let prosody: Proc | undefined;
  let workDir = '';
  let c2sPort = 0;
  let compPort = 0;

  // The demo accounts: the default of PROSODY_DEMO_USERS in docker-compose.yml,
  // which must be the entrypoint's default as well.
  const composeDefault = /PROSODY_DEMO_USERS-([^}"]*)\}/.exec(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))?.[1];
  const entrypointDefault = /PROSODY_DEMO_USERS-([^}]*)\}/.exec(readFileSync(PROSODY_ENTRYPOINT, 'utf8'))?.[1];
  const alicePassword = /(?:^|\s)alice:(\S+)/.exec(composeDefault ?? '')?.[1];

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'confs-prosody-'));
    const dir = join(workDir, 'prosody');
    mkdirSync(join(dir, 'data'), { recursive: true });
    // unchanged copies: everything instance-specific comes from the environment
    copyFileSync(PROSODY_CFG, join(dir, 'prosody.cfg.lua'));
    copyFileSync(PROSODY_ENTRYPOINT, join(dir, 'docker-entrypoint.sh'));
    let wrap: string[] = [];
    if (isRoot) {
      // Prosody refuses to run as root: use the Debian package's prosody user.
      const uid = Number(spawnSync('id', ['-u', 'prosody']).stdout.toString().trim());
      const gid = Number(spawnSync('id', ['-g', 'prosody']).stdout.toString().trim());
      assert.ok(uid > 0 && gid > 0, 'no prosody user to run Prosody as');
      chmodSync(workDir, 0o711);
      for (const p of [dir, join(dir, 'data'), join(dir, 'prosody.cfg.lua'), join(dir, 'docker-entrypoint.sh')]) chownSync(p, uid, gid);
      wrap = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
    }
    c2sPort = await freeTcpPort();
    compPort = await freeTcpPort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    // the shipped defaults are under test: no secret, no account list
    delete env['PROSODY_COMPONENT_SECRET'];
    delete env['PROSODY_DEMO_USERS'];
    Object.assign(env, {
      PROSODY_CONFIG: join(dir, 'prosody.cfg.lua'),
      PROSODY_DATA_PATH: join(dir, 'data'),
      PROSODY_CERT_DIR: join(dir, 'data', 'certs'),
      PROSODY_C2S_INTERFACE: '127.0.0.1',
      PROSODY_C2S_PORT: String(c2sPort),
      PROSODY_COMPONENT_INTERFACE: '127.0.0.1',
      PROSODY_COMPONENT_PORT: String(compPort),
    });
    const [cmd = 'sh', ...args] = [...wrap, 'sh', join(dir, 'docker-entrypoint.sh')];
    prosody = start(cmd, args, env, dir);
    const deadline = Date.now() + 30000;
    while (!((await tcpOpen(c2sPort)) && (await tcpOpen(compPort)))) {
      if (prosody.child.exitCode !== null) throw new Error(`prosody exited:\n${prosody.output()}`);
      if (Date.now() > deadline) throw new Error(`prosody did not open its ports:\n${prosody.output()}`);
      await sleep(100);
    }
  });

  after(async () => {
    await stop(prosody);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('has the same demo accounts in docker-compose.yml and the entrypoint', () => {
    assert.ok(composeDefault, 'docker-compose.yml sets no default for PROSODY_DEMO_USERS');
    assert.equal(entrypointDefault, composeDefault);
    assert.ok(alicePassword, 'no demo account alice');
  });

  it('refuses the component with a wrong secret', { timeout: 20000 }, async () => {
    const comp = component({ service: `xmpp://127.0.0.1:${compPort}`, domain: gw.xmpp.componentDomain, password: 'wrong' });
    comp.reconnect.stop();
    comp.on('error', () => {});
    await assert.rejects(comp.start());
    await comp.stop().catch(() => {});
  });

  it('accepts the gateway\'s component with the demo secret and routes messages both ways to a demo user', { timeout: 30000 }, async () => {
    const comp = component({ service: `xmpp://127.0.0.1:${compPort}`, domain: gw.xmpp.componentDomain, password: gw.xmpp.secret });
    comp.on('error', () => {});
    const toComponent = new Promise<Element>((resolve) => {
      comp.on('stanza', (stanza: Element) => {
        if (stanza.is('message')) resolve(stanza);
      });
    });
    const alice = client({
      service: `xmpp://127.0.0.1:${c2sPort}`, domain: 'example.com', resource: 'confs', username: 'alice', password: alicePassword ?? '',
    });
    alice.on('error', () => {});
    const toAlice = new Promise<Element>((resolve) => {
      alice.on('stanza', (stanza: Element) => {
        if (stanza.is('message') && stanza.getChildText('body') !== null) resolve(stanza);
      });
    });
    // The entrypoint's certificate is self-signed: let this test's client accept it.
    const previous = process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
    process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
    try {
      await comp.start();
      await alice.start();
      await alice.send(xml('presence'));
      await alice.send(xml('message', { to: `bob@${gw.xmpp.componentDomain}`, type: 'chat' }, xml('body', {}, 'hello bob')));
      const inbound = await toComponent;
      assert.match(inbound.attrs['from'] as string, /^alice@example\.com\/confs$/);
      assert.equal(inbound.attrs['to'], `bob@${gw.xmpp.componentDomain}`);
      assert.equal(inbound.getChildText('body'), 'hello bob');

      await comp.send(xml('message', { from: `bob@${gw.xmpp.componentDomain}`, to: 'alice@example.com/confs', type: 'chat' }, xml('body', {}, 'hello alice')));
      const outbound = await toAlice;
      assert.equal(outbound.attrs['from'], `bob@${gw.xmpp.componentDomain}`);
      assert.equal(outbound.getChildText('body'), 'hello alice');
    } finally {
      if (previous === undefined) delete process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
      else process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = previous;
      await alice.stop().catch(() => {});
      await comp.stop().catch(() => {});
    }
  });
});
