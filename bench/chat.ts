// Chat-session benchmark (npm run bench:chat; not part of npm test): RFC 7573
// sessions (an INVITE dialog + an MSRP session each) through the gateway.
//
// One run starts a private Prosody with a second component domain,
// users.example.test, the drachtio test double (in this process), the gateway
// process (src/main.ts, log level warn, a fixed /metrics port) and, in this
// process, an XEP-0114 component on users.example.test that PLAYS THE XMPP
// USERS x{i}@users.example.test (no c2s logins: Prosody routes component to
// component), plus BENCH_MSRP_PEERS MSRP endpoints (src/msrp, a separate
// instance) that play the SIP clients' media side. The double plays the SIP
// signalling of every SIP user: s{i}@example.org (JID s{i}@<gateway domain>),
// called from XMPP, and w{i}@example.org, who calls x{i}.
//
//   1. X->S setup: x{i}@users/r sends a first <message type='chat'> with a body to
//      s{i}@gw; the INVITE at the double is answered 200 with an MSRP answer
//      (setup passive) from a peer session; the gateway connects and sends the
//      message as an MSRP SEND -> done when the peer session receives it.
//   2. S->X setup: the double injects an INVITE with an MSRP offer (setup active)
//      from sip:w{i}@example.org to sip:x{i}@users.example.test; on the 200 it ACKs,
//      the peer session connects and sends a first SEND (Failure-Report yes, the
//      RFC 4975 default) -> done when the component receives the chat message.
//   3. Throughput through the 2C open sessions, round robin over them:
//      XMPP -> MSRP (x{i} writes in its session; done at the peer session) and
//      MSRP -> XMPP (the peer session sends; done at the component), each alone,
//      then both at once; then both unloaded (one message at a time).
//   4. Memory: the gateway's RSS and live heap (after a forced full GC,
//      bench/heap-preload.mjs) before phase 1 and with all 2C sessions open,
//      per session; gateway_chat_sessions from /metrics confirms the count.
//   5. Teardown: BYE from the double for every even session (answered 200 by the
//      gateway, which sends <gone/> to XMPP), <gone/> from XMPP for every odd one
//      (the gateway's BYE is answered 200); then gateway_chat_sessions must be 0,
//      and memory is read again.
//
// The double indexes its dialogs (spec/support/drachtio-double/dialogs.ts): its
// scans made this process the bottleneck of the setups and the teardown at C = 5000.
//
// Phases are closed loops (bench/loop.ts) with a window in flight; the first
// BENCH_WARMUP setups (at most C/5) of phases 1 and 2, and a tenth of the
// messages of phase 3 (at most 2000), are a warm-up, reported apart. Latencies
// include Prosody's hop and this process (double + component + MSRP peers),
// which shares the 2 cores. The report names other benchmarks and test runs
// found running at the start and at the end (pgrep), and the load average.
//
// Environment: BENCH_SESSIONS (5000) sessions per direction (C), BENCH_WINDOW (200)
// setups / teardowns / messages in flight, BENCH_MESSAGES (20000) messages each way
// in phase 3 (0 skips it), BENCH_MSG_WINDOW (BENCH_WINDOW) for phase 3,
// BENCH_UNLOADED (200; 0 skips) messages each way at window 1, BENCH_MIXED (1; 0
// skips both-at-once), BENCH_WARMUP (200), BENCH_MSRP_PEERS (1) MSRP peer
// endpoints (each has its own port, so there is one TCP connection per peer
// endpoint and direction: 1 means every session shares one connection each way),
// BENCH_TIMEOUT_S (600) overall cap, BENCH_STALL_S (20), BENCH_CPU_PROF=<dir> (the
// gateway writes a V8 CPU profile there; bench/cpu-prof-preload.mjs,
// bench/profile-top.ts), BENCH_HEAP_SNAPSHOT=<dir> (a gateway heap snapshot at each
// memory reading; slow). It prints a table and, last, one JSON line; it exits 1
// when a phase fails or aborts, with the reason. Every process and temp dir is
// removed at the end, also after a failure or Ctrl-C.
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';

import { xml, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';

import { createLogger } from '../src/log/logger.js';
import { MsrpEndpoint } from '../src/msrp/endpoint.js';
import { buildMsrpSdp, parseMsrpSdp } from '../src/msrp/sdp.js';
import type { MsrpMessage, MsrpSession } from '../src/msrp/session.js';
import type { MsrpUri } from '../src/msrp/uri.js';
import { DRACHTIO_SECRET, PROXY_PEER, gatewayConfig } from '../spec/support/bed.js';
import {
  DrachtioDouble, buildSipRequest, tagOf, type InboundTransaction, type OutboundRequest, type SipMessage,
} from '../spec/support/drachtio-double/index.js';
import { GatewayProcess } from '../spec/support/gateway-process.js';
import { allocatePorts, type XmppServer } from '../spec/support/xmpp-servers/index.js';
import { cpuSnap as cpuOf } from './cpu.js';
import { Injected, serveDouble } from './double.js';
import { envDir, envInt } from './env.js';
import { gatewayEnv, gatewayHeap as heapOf, runLogs, type Heap } from './gateway.js';
import { ClosedLoop } from './loop.js';
import { metricLines, metricsSnap as metricsOf, tableEntries, waitHealthy } from './metrics.js';
import { runPhase as runPhaseIn, type LoopPhase, type LoopSpec, type PhaseContext } from './phases.js';
import { machineInfo, memoryMiB, otherBenchmarks } from './proc.js';
import { entriesText, fmt, loopJson, machineLine, mibText, notesLines, othersLine, phaseTable, type Mem } from './report.js';
import { BenchRun, runMain, sleep } from './run.js';
import { USERS_DOMAIN, startProsodyWithUsers, startUsersComponent, stanzaError, stopUsersComponent } from './xmpp.js';

// ---------------------------------------------------------------- parameters

const window = envInt('BENCH_WINDOW', 200, 1);
const params = {
  sessions: envInt('BENCH_SESSIONS', 5000, 1),
  window,
  messages: envInt('BENCH_MESSAGES', 20000),
  msgWindow: envInt('BENCH_MSG_WINDOW', window, 1),
  unloaded: envInt('BENCH_UNLOADED', 200),
  mixed: envInt('BENCH_MIXED', 1) !== 0,
  warmup: envInt('BENCH_WARMUP', 200),
  msrpPeers: envInt('BENCH_MSRP_PEERS', 1, 1),
  timeoutS: envInt('BENCH_TIMEOUT_S', 600, 10),
  stallS: envInt('BENCH_STALL_S', 20, 1),
};
const cpuProfDir = envDir('BENCH_CPU_PROF');
const heapSnapshotDir = envDir('BENCH_HEAP_SNAPSHOT');
/** Sessions per direction; session j < C was opened from XMPP (pair x{j}/s{j}), j >= C from SIP (pair w{j-C}/x{j-C}). */
const C = params.sessions;
const TOTAL = 2 * C;
/** Warm-up setups per direction: BENCH_WARMUP, at most a fifth of C. */
const WARM = Math.min(params.warmup, Math.floor(C / 5));
const maxSessions = TOTAL + 1000;
const maxPerUser = 4;

const HOME = 'example.org';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const ACCEPT_TYPES = ['text/plain', 'application/im-iscomposing+xml'];

const run = new BenchRun(params.timeoutS, params.stallS);
const loadAtStart = loadavg()[0] ?? NaN;

type Phase = 'start' | 'x2s' | 's2x' | 'traffic' | 'teardown' | 'done';
let phase: Phase = 'start';

// ---------------------------------------------------------------- the bed

let xmpp: XmppServer | undefined;
let dd: DrachtioDouble | undefined;
let gw: GatewayProcess | undefined;
let users: Component | undefined;
let httpPort = 0;
let gwDomain = '';
const peers: MsrpEndpoint[] = [];

/** Per session j (0..2C-1). */
const peerSession: (MsrpSession | undefined)[] = new Array<MsrpSession | undefined>(TOTAL);
/** The double's dialog id of session j, for BYE from SIP. */
const dialogOf: (string | undefined)[] = new Array<string | undefined>(TOTAL);
/** Loop sequence number of the setup / teardown of session j in flight (0: none). */
const setupSeq = new Float64Array(TOTAL);
const tearSeq = new Float64Array(TOTAL);
/** Whether we ended session j ourselves (its peer-session close is expected). */
const ending = new Uint8Array(TOTAL);
/** Call-ID -> session j, for the gateway's BYEs. */
const sessionByCallId = new Map<string, number>();

const seen = {
  invites: 0, reInvites: 0, byesFromGateway: 0, pagerMessages: 0, otherRequests: 0, sipFailures: 0,
  msrpMessages: 0, msrpSendErrors: 0, peerSessionsClosedUnexpectedly: 0,
  chatStanzas: 0, goneStanzas: 0, goneUnexpected: 0, errorStanzas: 0, otherStanzas: 0, sendErrors: 0,
};
const firstProblems: string[] = [];
function problem(what: string): void {
  if (firstProblems.length < 12) firstProblems.push(what);
}

const quiet = createLogger({ level: 'error', format: 'json', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

const seqOfBody = (text: string | undefined | null): number | undefined => {
  if (!text || text[0] !== 'b') return undefined;
  const n = Number(text.slice(1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

function usersSend(el: Element, seq?: number): void {
  users!.send(el).catch((err: Error) => {
    seen.sendErrors++;
    problem(`component send: ${err.message}`);
    if (seq) ClosedLoop.fail(seq, `component send: ${err.message}`);
  });
}

/** The XMPP user of session j and the gateway JID it talks to. */
function xmppPair(j: number): { user: string; peer: string } {
  return j < C
    ? { user: `x${j}@${USERS_DOMAIN}/r`, peer: `s${j}@${gwDomain}` }
    : { user: `x${j - C}@${USERS_DOMAIN}/r`, peer: `w${j - C}@${gwDomain}` };
}

// ---------------------------------------------------------------- the MSRP side of the SIP users

function pathOf(sdp: string): MsrpUri[] | string {
  const m = parseMsrpSdp(sdp);
  return m.ok ? m.value.path : `not an MSRP SDP: ${m.error}`;
}

/** A peer session for session j, with the SDP that offers or answers it. */
function newPeerSession(j: number, setup: 'active' | 'passive'): { session: MsrpSession; sdp: string } | string {
  const endpoint = peers[j % peers.length]!;
  const r = endpoint.createSession({ acceptTypes: ACCEPT_TYPES });
  if (!r.ok) return r.error;
  const session = r.value;
  session.on('message', (m: MsrpMessage) => {
    seen.msrpMessages++;
    const seq = seqOfBody(m.body.toString());
    if (seq !== undefined) ClosedLoop.mark(seq, 'msrp');
  });
  session.on('sendError', (e) => {
    seen.msrpSendErrors++;
    problem(`MSRP send error on session ${j}: ${e.code} ${e.reason}`);
  });
  session.on('closed', (why) => {
    if (ending[j] || phase === 'done') return;
    seen.peerSessionsClosedUnexpectedly++;
    problem(`peer MSRP session ${j} closed: ${why}`);
    const seq = setupSeq[j] || tearSeq[j];
    if (seq) ClosedLoop.fail(seq, `peer MSRP session closed: ${why}`);
  });
  peerSession[j] = session;
  return { session, sdp: buildMsrpSdp({ path: [session.localUri], acceptTypes: ACCEPT_TYPES, setup }) };
}

function closePeer(j: number): void {
  ending[j] = 1;
  peerSession[j]?.close('BYE');
  peerSession[j] = undefined;
}

// ---------------------------------------------------------------- the XMPP users (a component)

const FROM_RE = /^([sw])(\d+)@([^/]+)(?:\/.*)?$/;

function onUsersStanza(el: Element): void {
  if (el.name !== 'message') {
    seen.otherStanzas++;
    if (seen.otherStanzas <= 3) problem(`unexpected ${el.name} stanza: ${el.toString().slice(0, 200)}`);
    return;
  }
  if (el.attrs.type === 'error') {
    seen.errorStanzas++;
    const why = stanzaError(el);
    problem(`error for message ${String(el.attrs.id)}: ${why}`);
    const seq = seqOfBody(String(el.attrs.id ?? ''));
    if (seq !== undefined) ClosedLoop.fail(seq, why);
    return;
  }
  const body = el.getChildText('body');
  if (body !== null) {
    seen.chatStanzas++;
    const seq = seqOfBody(body);
    if (seq !== undefined) ClosedLoop.mark(seq, 'xmpp');
    return;
  }
  if (el.getChild('gone', NS_CHATSTATES)) {
    seen.goneStanzas++;
    const m = FROM_RE.exec(String(el.attrs.from ?? ''));
    const i = m && m[3] === gwDomain ? Number(m[2]) : -1;
    const j = m?.[1] === 's' ? i : i + C;
    if (i >= 0 && i < C && tearSeq[j]) ClosedLoop.mark(tearSeq[j]!, 'gone');
    else {
      seen.goneUnexpected++;
      problem(`unexpected <gone/> from ${String(el.attrs.from)}`);
    }
    return;
  }
  seen.otherStanzas++;
  if (seen.otherStanzas <= 3) problem(`unexpected message: ${el.toString().slice(0, 200)}`);
}

function startUsers(server: XmppServer): Promise<Component> {
  return startUsersComponent(server, onUsersStanza, {
    problem,
    offline: () => {
      if (phase !== 'done') run.abortReason ??= 'the users component went offline';
    },
  });
}

// ---------------------------------------------------------------- the SIP users (the drachtio double)

interface InjectedRequest { what: 'invite' | 'bye'; j: number; seq: number; tx: InboundTransaction }

/** Requests this process injected, until their final response. */
const injected = new Injected<InjectedRequest>();

function trackInjected(tx: InboundTransaction, what: 'invite' | 'bye', j: number, seq: number): void {
  const why = injected.track({ what, j, seq, tx }, what);
  if (why === undefined) return;
  seen.sipFailures++;
  problem(why);
  ClosedLoop.fail(seq, why);
}

/** The gateway's INVITE to s{i} (phase 1): 200 with the MSRP answer of a passive peer session. */
function onGatewayInvite(req: OutboundRequest): void {
  if (req.dialogId !== undefined) {
    seen.reInvites++;
    problem(`unexpected re-INVITE ${req.get('call-id')}`);
    req.respond(488);
    return;
  }
  seen.invites++;
  const m = /^sip:s(\d+)@/.exec(req.uri);
  const i = m ? Number(m[1]) : -1;
  if (!(i >= 0 && i < C)) {
    seen.otherRequests++;
    problem(`unexpected INVITE ${req.uri}`);
    req.respond(404);
    return;
  }
  const seq = setupSeq[i];
  if (seq) ClosedLoop.mark(seq, 'invite');
  const fail = (why: string): void => {
    problem(`session ${i}: ${why}`);
    if (seq) ClosedLoop.fail(seq, why);
  };
  const path = pathOf(req.body);
  if (typeof path === 'string') {
    req.respond(488);
    fail(`INVITE: ${path}`);
    return;
  }
  const peer = newPeerSession(i, 'passive');
  if (typeof peer === 'string') {
    req.respond(503);
    fail(`no peer session: ${peer}`);
    return;
  }
  // Passive: the gateway connects to us and binds the session with its first SEND.
  peer.session.connect(path, 'passive').then((r) => { if (!r.ok) fail(`peer session not bound: ${r.error}`); }, (e: Error) => fail(e.message));
  const callId = req.get('call-id') ?? '';
  dialogOf[i] = `${callId};from-tag=${tagOf(req.get('from'))}`;
  sessionByCallId.set(callId, i);
  req.respond(200, 'OK', { toTag: `s${i}t`, body: peer.sdp, contentType: 'application/sdp' });
}

function onGatewayBye(req: OutboundRequest): void {
  seen.byesFromGateway++;
  req.respond(200);
  const j = sessionByCallId.get(req.get('call-id') ?? '');
  if (j === undefined) {
    problem(`BYE for an unknown Call-ID ${req.get('call-id')}`);
    return;
  }
  sessionByCallId.delete(req.get('call-id') ?? '');
  if (tearSeq[j]) ClosedLoop.mark(tearSeq[j]!, 'bye');
  else if (phase !== 'done') problem(`unexpected BYE for session ${j}`);
  closePeer(j);
}

/** The final response to an INVITE or BYE this process injected. */
function onInjectedFinal(rec: InjectedRequest, status: number, reason: string, body: string): void {
  const { what, j, seq, tx } = rec;
  if (status !== 200) {
    seen.sipFailures++;
    problem(`${what} of session ${j} answered ${status} ${reason}`);
    ClosedLoop.fail(seq, `SIP ${status} ${reason}`);
    return;
  }
  if (what === 'bye') {
    ClosedLoop.mark(seq, 'response');
    closePeer(j);
    return;
  }
  ClosedLoop.mark(seq, 'answer');
  tx.ack();
  const session = peerSession[j];
  const path = pathOf(body);
  if (!session || typeof path === 'string') {
    ClosedLoop.fail(seq, typeof path === 'string' ? `200: ${path}` : 'no peer session');
    return;
  }
  // Active (RFC 4975 §5.4): connect (reusing the connection to the gateway's authority), bind, send.
  session.connect(path, 'active').then((r) => {
    if (!r.ok) {
      problem(`session ${j}: connect: ${r.error}`);
      ClosedLoop.fail(seq, `connect: ${r.error}`);
    }
  }, (e: Error) => ClosedLoop.fail(seq, e.message));
  const sent = session.send({ contentType: 'text/plain', body: `b${seq}`, failureReport: 'yes' });
  if (!sent.ok) ClosedLoop.fail(seq, `first SEND: ${sent.error}`);
}

/** Answers the gateway's requests and reads its final responses to what this process injected (bench/double.ts). */
function wireDouble(double: DrachtioDouble): void {
  serveDouble(double, {
    onRequest: (req) => {
      if (req.method === 'ACK') return;
      if (req.method === 'INVITE') onGatewayInvite(req);
      else if (req.method === 'BYE') onGatewayBye(req);
      else if (req.method === 'MESSAGE') {
        // Pager mode: a session could not carry the message.
        seen.pagerMessages++;
        req.respond(200);
        const seq = seqOfBody(req.body);
        problem(`MESSAGE (pager mode) to ${req.uri}: ${req.body.slice(0, 40)}`);
        if (seq !== undefined) ClosedLoop.fail(seq, 'went in pager mode (MESSAGE)');
      } else {
        seen.otherRequests++;
        problem(`unexpected ${req.method} ${req.uri}`);
        req.respond(200);
      }
    },
    onError: (req, err) => problem(`answering ${req.method}: ${err.message}`),
    injected,
    onFinal: (rec, final: SipMessage) => {
      try {
        onInjectedFinal(rec, final.status, final.reason, final.body);
      } catch (err) {
        problem(`after the ${final.status} to ${rec.what}: ${(err as Error).message}`);
        ClosedLoop.fail(rec.seq, (err as Error).message);
      }
    },
    trim: true,
  });
}

// ---------------------------------------------------------------- senders

let runTag = '';

const senders = {
  /** Phase 1: x{i}/r writes first to s{i}@gw. */
  x2sSetup: (i: number, seq: number) => {
    setupSeq[i] = seq;
    usersSend(xml('message', { from: `x${i}@${USERS_DOMAIN}/r`, to: `s${i}@${gwDomain}`, type: 'chat', id: `b${seq}` }, xml('body', {}, `b${seq}`)), seq);
  },
  /** Phase 2: w{i} calls x{i} with an MSRP offer. */
  s2xSetup: (i: number, seq: number) => {
    const j = C + i;
    setupSeq[j] = seq;
    const peer = newPeerSession(j, 'active');
    if (typeof peer === 'string') {
      ClosedLoop.fail(seq, `no peer session: ${peer}`);
      return;
    }
    const target = `sip:x${i}@${USERS_DOMAIN}`;
    const callId = `w${i}-${runTag}@127.0.0.1`;
    dialogOf[j] = `${callId};from-tag=w${i}t`;
    sessionByCallId.set(callId, j);
    const tx = dd!.inject(buildSipRequest({
      method: 'INVITE', uri: target, from: `<sip:w${i}@${HOME}>;tag=w${i}t`, to: `<${target}>`, callId, peer: PROXY_PEER,
      contact: `<sip:w${i}@127.0.0.1:5072>`, body: peer.sdp, contentType: 'application/sdp',
    }), PROXY_PEER);
    trackInjected(tx, 'invite', j, seq);
  },
  /** Phase 3: the XMPP user of session j writes in it. */
  toMsrp: (j: number, seq: number) => {
    const p = xmppPair(j);
    usersSend(xml('message', { from: p.user, to: p.peer, type: 'chat', id: `b${seq}` }, xml('body', {}, `b${seq}`)), seq);
  },
  /** Phase 3: the SIP user of session j writes in it. */
  toXmpp: (j: number, seq: number) => {
    const s = peerSession[j];
    if (!s) {
      ClosedLoop.fail(seq, `no peer session ${j}`);
      return;
    }
    const sent = s.send({ contentType: 'text/plain', body: `b${seq}`, failureReport: 'yes' });
    if (!sent.ok) ClosedLoop.fail(seq, `SEND: ${sent.error}`);
  },
  /** Phase 5: BYE from the SIP user of session j. */
  byeFromSip: (j: number, seq: number) => {
    tearSeq[j] = seq;
    ending[j] = 1;
    const dialogId = dialogOf[j];
    let tx: InboundTransaction;
    try {
      if (!dialogId) throw new Error('no dialog');
      tx = dd!.injectInDialog(dialogId, { method: 'BYE' });
    } catch (err) {
      ClosedLoop.fail(seq, `inject BYE: ${(err as Error).message}`);
      return;
    }
    trackInjected(tx, 'bye', j, seq);
  },
  /** Phase 5: <gone/> from the XMPP user of session j. */
  goneFromXmpp: (j: number, seq: number) => {
    tearSeq[j] = seq;
    ending[j] = 1;
    const p = xmppPair(j);
    usersSend(xml('message', { from: p.user, to: p.peer, type: 'chat', id: `g${seq}` }, xml('gone', { xmlns: NS_CHATSTATES })), seq);
  },
};

// ---------------------------------------------------------------- phases

const cpuSnap = () => cpuOf({ gateway: gw?.child.pid, prosody: xmpp?.pid });
const metricsSnap = () => metricsOf(httpPort);

const SESSIONS_METRIC = 'gateway_chat_sessions';
const COUNTER_RE = /^gateway_(xmpp_stanzas_total|sip_requests_total|sip_responses_total|chat_events_total|errors_total|im_messages_total)\{/;

const loopPhases: LoopPhase[] = [];
const phaseContext: PhaseContext = { run, cpu: cpuSnap, metrics: metricsSnap, counters: COUNTER_RE, gauge: SESSIONS_METRIC, phases: loopPhases };
const runPhase = (name: string, specs: LoopSpec[], warm: number, count: number, window: number): Promise<LoopPhase> =>
  runPhaseIn(phaseContext, name, specs, warm, count, window);

// ---------------------------------------------------------------- memory

interface MemPoint { label: string; sessions?: number; rss?: Mem; heap?: Heap; bench?: Mem }

async function memPoint(label: string): Promise<MemPoint> {
  const m = await metricsSnap();
  const p: MemPoint = { label };
  const s = m.get(SESSIONS_METRIC);
  if (s !== undefined) p.sessions = s;
  const rss = memoryMiB(gw?.child.pid ?? 0);
  if (rss) p.rss = rss;
  const heap = await heapOf(gw, heapSnapshotDir !== undefined);
  if (heap) p.heap = heap;
  const bench = memoryMiB(process.pid);
  if (bench) p.bench = bench;
  return p;
}

// ---------------------------------------------------------------- report

interface Teardown { zeroAfterS?: number; sessionsLeft?: number; tables?: Record<string, number>; peerStats?: { sessions: number; connections: number } }

interface Final {
  mem: MemPoint[];
  tablesOpen?: Record<string, number>;
  teardown?: Teardown;
  counters: string[];
  warnLines: string[];
  stderrLines: string[];
  prosodyProblems: string[];
  prosodyMem?: Mem;
  othersAtStart: string[];
  othersAtEnd: string[];
  error?: string;
}

function perSession(a: number | undefined, b: number | undefined, n: number): number | undefined {
  return a === undefined || b === undefined || n <= 0 ? undefined : ((b - a) * 1024) / n;
}

function report(final: Final): void {
  const m = machineInfo();
  const loadAtEnd = loadavg()[0] ?? NaN;
  const out: string[] = [];
  out.push('');
  out.push(`${machineLine('Chat-session benchmark', m)}; load average (1 min) ${fmt(loadAtStart, 2)} at the start, ${fmt(loadAtEnd, 2)} at the end`);
  out.push(othersLine(final.othersAtStart, final.othersAtEnd));
  out.push(`C=${C} sessions per direction (${TOTAL} in all; warm-up: the first ${WARM} of each), window ${params.window}; `
    + `phase 3: ${params.messages} messages each way, window ${params.msgWindow}${params.mixed ? ', then both at once' : ''}; `
    + `unloaded ${params.unloaded} each way; MSRP peer endpoints ${params.msrpPeers}; chat.maxSessions ${maxSessions}, maxPerUser ${maxPerUser}`);
  out.push('Latencies (ms) from the first action: X->S setup = message from x{i} -> INVITE at the double -> first SEND at the peer;');
  out.push('S->X setup = INVITE injected -> 200 at the double -> chat at the component; ->msrp / ->xmpp = message sent -> arrived;');
  out.push('teardown = BYE injected -> 200 and <gone/> at the component, or <gone/> sent -> BYE at the double. CPU = cores used during the measured part.');
  out.push('');
  out.push(...phaseTable(loopPhases, ['gateway', 'prosody', 'bench'], 'CPU cores gw/prosody/bench'));
  out.push('');
  for (const p of loopPhases.filter((x) => x.name.includes('setup'))) {
    out.push(`${p.name}: ${fmt((p.warm?.completed ?? 0) + p.loop.completed)} sessions up; gateway_chat_sessions after: ${fmt(p.gaugeAfter)}; `
      + `counters: ${entriesText(p.counters, ' ', ', ')}`);
  }
  const heap = (h?: Heap) => (h ? `heap ${fmt(h.heapUsed, 1)} + external ${fmt(h.external, 1)} MiB` : '-');
  out.push('memory (gateway RSS; live heap after a forced full GC; gateway_chat_sessions; this process):');
  for (const p of final.mem) {
    out.push(`  ${p.label.padEnd(28)} RSS ${mibText(p.rss)}, ${heap(p.heap)}, sessions ${fmt(p.sessions)}; bench RSS ${mibText(p.bench)}`);
  }
  const before = final.mem.find((p) => p.label === 'before phase 1');
  const open = final.mem.find((p) => p.label === `${TOTAL} sessions open`);
  const rssPer = perSession(before?.rss?.rss, open?.rss?.rss, TOTAL);
  const livePer = perSession(before?.heap ? before.heap.heapUsed + before.heap.external : undefined,
    open?.heap ? open.heap.heapUsed + open.heap.external : undefined, TOTAL);
  out.push(`  per session: RSS ${fmt(rssPer, 2)} KiB, live heap + external ${fmt(livePer, 2)} KiB (${fmt(TOTAL)} sessions)`);
  if (final.tablesOpen) out.push(`gateway tables with all sessions open: ${entriesText(final.tablesOpen)}`);
  const td = final.teardown;
  if (td) {
    out.push(`teardown: gateway_chat_sessions ${td.sessionsLeft === 0 ? `0 after ${fmt(td.zeroAfterS, 2)} s` : `still ${fmt(td.sessionsLeft)}`}; `
      + `tables ${entriesText(td.tables)}; `
      + `peer endpoints: ${td.peerStats ? `${td.peerStats.sessions} sessions, ${td.peerStats.connections} connections` : '-'}`);
  }
  out.push(...notesLines(seen, firstProblems, final, 'gateway counters at the end:'));
  out.push(`prosody RSS ${mibText(final.prosodyMem)}`);
  if (final.error) out.push(`ABORTED: ${final.error}`);
  out.push(`total wall time ${fmt(run.elapsedS(), 1)} s`);
  console.log(out.join('\n'));

  const json = {
    bench: 'chat',
    at: new Date().toISOString(),
    machine: m,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    otherBenchmarks: { start: final.othersAtStart, end: final.othersAtEnd },
    params: { ...params, warmup: WARM, maxSessions, maxPerUser },
    phases: loopPhases.map((p) => ({
      name: p.name, wallS: Math.round(p.wallS * 1000) / 1000, cpuSeconds: p.cpu, gatewayCounters: p.counters, sessionsAfter: p.gaugeAfter ?? null,
      ...(p.warm ? { warmup: loopJson(p.warm) } : {}), loop: loopJson(p.loop),
    })),
    memory: {
      points: final.mem,
      rssKibPerSession: rssPer !== undefined ? Math.round(rssPer * 100) / 100 : null,
      liveKibPerSession: livePer !== undefined ? Math.round(livePer * 100) / 100 : null,
      prosodyMiB: final.prosodyMem ?? null,
    },
    tablesOpen: final.tablesOpen ?? null,
    teardown: final.teardown ?? null,
    seen,
    problems: firstProblems,
    gatewayWarnLines: final.warnLines.length,
    gatewayStderrLines: final.stderrLines.length,
    wallS: Math.round(run.elapsedS() * 10) / 10,
    error: final.error ?? null,
  };
  console.log(JSON.stringify(json));
}

// ---------------------------------------------------------------- main

const tables = async (): Promise<Record<string, number>> => tableEntries(await metricsSnap(), /chat/);

/** Last resort when this process exits without stopAll(): no gateway and no temp dir may outlive it. */
function emergencyStop(): void {
  const child = gw?.child;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const dir = (gw as unknown as { dir?: string } | undefined)?.dir;
  if (dir) rmSync(dir, { recursive: true, force: true });
}

async function stopAll(): Promise<void> {
  phase = 'done';
  await stopUsersComponent(users);
  // The gateway ends what is left with BYE on SIGTERM; the double still answers them.
  await gw?.stop('SIGTERM', 20000).catch(() => undefined);
  await Promise.race([Promise.allSettled(peers.map((p) => p.close())), sleep(5000)]);
  await dd?.stop().catch(() => undefined);
  await xmpp?.stop().catch(() => undefined);
}

async function main(): Promise<number> {
  run.arm(60, () => {
    emergencyStop();
    void xmpp?.kill();
  });
  process.on('exit', emergencyStop);

  const final: Final = { mem: [], counters: [], warnLines: [], stderrLines: [], prosodyProblems: [], othersAtStart: otherBenchmarks({ warn: true }), othersAtEnd: [] };
  return run.execute({
    measure: async () => {
      process.stderr.write('bench: starting Prosody, the drachtio double, the gateway, the users component and the MSRP peers ...\n');
      runTag = Date.now().toString(36);
      xmpp = await startProsodyWithUsers();
      gwDomain = xmpp.componentDomain;
      dd = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
      wireDouble(dd);
      [httpPort] = (await allocatePorts(1)) as [number];
      const env = gatewayEnv({ heap: true, heapSnapshotDir, cpuProfDir });
      gw = GatewayProcess.spawn(gatewayConfig(xmpp, dd, {
        log: { level: 'warn', format: 'json' },
        http: { host: '127.0.0.1', port: httpPort },
        domains: { xmppToSip: [{ xmpp: USERS_DOMAIN, sip: USERS_DOMAIN }] },
        chat: { modes: [{ sip: HOME, mode: 'session' }], maxSessions, maxPerUser, inactivityMs: 24 * 3600 * 1000 },
        msrp: { listenHost: '127.0.0.1', port: 0 },
        shutdown: { graceMs: 5000 },
      }), { env });
      users = await startUsers(xmpp);
      for (let k = 0; k < params.msrpPeers; k++) {
        const p = new MsrpEndpoint({
          logger: quiet, listenAddress: '127.0.0.1', port: 0, keepaliveIntervalMs: 0, acceptTypes: ACCEPT_TYPES,
          maxSessions: TOTAL + 100, maxConnections: TOTAL + 100,
        });
        await p.start();
        peers.push(p);
      }
      await waitHealthy(gw, httpPort, 30000);
      await dd.waitForRoute('invite', { timeoutMs: 10000 });
      // Settle: the gateway's start-up work is done, its heap has grown to its working size.
      await sleep(1500);
      final.mem.push(await memPoint('before phase 1'));

      const gwAlive = setInterval(() => {
        if (gw?.child.exitCode !== null && phase !== 'done') run.abortReason ??= `gateway exited (${gw?.child.exitCode}):\n${gw?.tail()}`;
      }, 200);
      try {
        const measured = C - WARM;
        phase = 'x2s';
        await runPhase('X->S setup', [{ name: 'X->S setup', marks: ['invite', 'msrp'], items: (k) => k, send: senders.x2sSetup }], WARM, measured, params.window);
        phase = 's2x';
        await runPhase('S->X setup', [{ name: 'S->X setup', marks: ['answer', 'xmpp'], items: (k) => k, send: senders.s2xSetup }], WARM, measured, params.window);
        // Let the last ACKs and SENDs settle before reading memory.
        await sleep(2000);
        final.mem.push(await memPoint(`${TOTAL} sessions open`));
        final.tablesOpen = await tables();
        const openNow = final.mem.at(-1)?.sessions;
        if (openNow !== TOTAL) throw new Error(`gateway_chat_sessions is ${openNow} with all sessions set up, expected ${TOTAL}`);

        phase = 'traffic';
        // Messages go round robin over all sessions, alternating the two kinds: j = 0, C, 1, C+1, ...
        const spread = (offset: number) => (k: number): number => {
          const n = (k + offset) % TOTAL;
          return (n & 1) === 0 ? n >> 1 : C + (n >> 1);
        };
        const M = params.messages;
        if (M > 0) {
          const warm = Math.min(2000, Math.floor(M / 10));
          await runPhase('XMPP->MSRP', [{ name: 'XMPP->MSRP', marks: ['msrp'], items: spread(0), send: senders.toMsrp }], warm, M, params.msgWindow);
          await runPhase('MSRP->XMPP', [{ name: 'MSRP->XMPP', marks: ['xmpp'], items: spread(0), send: senders.toXmpp }], warm, M, params.msgWindow);
          if (params.mixed) {
            await runPhase('both at once', [
              { name: 'XMPP->MSRP', marks: ['msrp'], items: spread(0), send: senders.toMsrp },
              { name: 'MSRP->XMPP', marks: ['xmpp'], items: spread(1), send: senders.toXmpp },
            ], 0, M, params.msgWindow);
          }
        }
        if (params.unloaded > 0) {
          const n = params.unloaded;
          await runPhase('unloaded XMPP->MSRP', [{ name: 'unloaded XMPP->MSRP', marks: ['msrp'], items: spread(2), send: senders.toMsrp }], Math.min(20, n), n, 1);
          await runPhase('unloaded MSRP->XMPP', [{ name: 'unloaded MSRP->XMPP', marks: ['xmpp'], items: spread(3), send: senders.toXmpp }], Math.min(20, n), n, 1);
        }
        if (M > 0 || params.unloaded > 0) {
          await sleep(1000);
          final.mem.push(await memPoint('after phase 3'));
        }

        phase = 'teardown';
        const half = Math.floor(TOTAL / 2);
        await runPhase('teardown: BYE from SIP (even sessions)', [{ name: 'BYE from SIP', marks: ['response', 'gone'], items: (k) => 2 * k, send: senders.byeFromSip }], 0, half, params.window);
        await runPhase('teardown: <gone/> from XMPP (odd sessions)', [{ name: '<gone/> from XMPP', marks: ['bye'], items: (k) => 2 * k + 1, send: senders.goneFromXmpp }], 0, TOTAL - half, params.window);
        const t0 = performance.now();
        const td: Teardown = {};
        for (;;) {
          const s = (await metricsSnap()).get(SESSIONS_METRIC);
          if (s !== undefined) td.sessionsLeft = s;
          if (s === 0) {
            td.zeroAfterS = (performance.now() - t0) / 1000;
            break;
          }
          if (performance.now() - t0 > 15000) break;
          await sleep(100);
        }
        await sleep(2000);
        td.tables = await tables();
        td.peerStats = peers.map((p) => p.stats()).reduce((a, s) => ({ sessions: a.sessions + s.sessions, connections: a.connections + s.connections }), { sessions: 0, connections: 0 });
        final.teardown = td;
        final.mem.push(await memPoint('after teardown'));
        if (td.sessionsLeft !== 0) throw new Error(`teardown: gateway_chat_sessions is still ${td.sessionsLeft} 15 s after the last session ended`);
      } finally {
        clearInterval(gwAlive);
      }
      if (seen.peerSessionsClosedUnexpectedly > 0) throw new Error(`${seen.peerSessionsClosedUnexpectedly} peer MSRP sessions closed unexpectedly`);
    },
    collect: async () => {
      final.counters = metricLines(await metricsSnap(), (k) => COUNTER_RE.test(k) || k === SESSIONS_METRIC);
      Object.assign(final, runLogs(gw ? [gw] : [], xmpp));
      const pm = memoryMiB(xmpp?.pid ?? 0);
      if (pm) final.prosodyMem = pm;
      final.othersAtEnd = otherBenchmarks();
    },
    stop: stopAll,
    report: (error) => {
      if (error) final.error = error;
      report(final);
    },
    cpuProfDir,
  });
}

runMain(main);
