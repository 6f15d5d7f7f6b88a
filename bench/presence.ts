// Presence benchmark (npm run bench:presence; not part of npm test).
//
// One run starts a private Prosody with a second component domain,
// users.example.test, the drachtio test double (in this process) and the
// gateway process (src/main.ts, log level warn, a fixed /metrics port and a
// dataDir kept across the restart phase). This process connects its own
// XEP-0114 component on users.example.test that PLAYS THE XMPP USERS
// x{i}@users.example.test (no c2s logins: Prosody routes component to
// component), and the double plays every SIP user: the contacts
// s{i}@example.org (JID s{i}@<gateway domain>) and the watchers w{i}@example.org.
// S subscriptions are set up in each direction (x{i} watches s{i}, w{i} watches x{i}):
//
//   1. X->S establishment: `subscribe` from x{i} to s{i}@gw -> SUBSCRIBE at the double,
//      answered 202 + NOTIFY active with a one-tuple PIDF -> done when x{i} has
//      `subscribed` and the available presence of s{i}@gw/desk.
//   2. S->X establishment: SUBSCRIBE from w{i} to sip:x{i}@users.example.test -> 202,
//      pending NOTIFY, `subscribe` from w{i}@gw to x{i}, answered `subscribed` and an
//      available presence -> done when a NOTIFY with a PIDF reaches the double.
//   3. Steady-state latency on a sample of distinct pairs, loaded (a window of changes
//      in flight) and unloaded (one at a time): an XMPP presence change -> the NOTIFY
//      carrying its <status> as <note>; a NOTIFY in s{i}'s dialog -> the presence
//      carrying its <note> as <status> at x{i}.
//   4. Memory: the gateway's RSS before phase 1 and after phases 1+2, per subscription;
//      also its live heap after a forced full GC (bench/heap-preload.mjs, loaded
//      into the gateway through NODE_OPTIONS, answers SIGUSR2), and again after phase 3.
//   5. Restart: SIGTERM (the S watchers get terminated;reason=deactivated, answered 200),
//      a new gateway on the same dataDir; time until every X->S subscription is
//      re-established (presence at x{i} again) and every S->X pair was probed (each
//      probe answered with presence). Each is paced by presence.restoreRate (separate pacers).
//
// Phases 1-3 are closed loops (bench/loop.ts) with a window of requests in flight;
// the first BENCH_WARMUP subscriptions of phases 1 and 2 (and a tenth of the
// samples of phase 3) are a warm-up, reported apart. notifyIntervalMs is 0: the
// per-watcher NOTIFY rate limit (RFC 3856 §6.10, default 5 s) would otherwise
// merge the state changes of phase 3 and measure the timer, not the gateway.
// The double indexes its dialogs (spec/support/drachtio-double/dialogs.ts): the
// linear scan it had before made this process the bottleneck at S = 10 000.
//
// Environment: BENCH_S (10000) subscriptions per direction, BENCH_WINDOW (200) in
// flight in phases 1-2, BENCH_WARMUP (500), BENCH_SAMPLES (2000) per direction in
// phase 3 loaded, BENCH_LATENCY_WINDOW (50), BENCH_UNLOADED_SAMPLES (200; 0 skips),
// BENCH_RESTORE_RATE (1000) per second, BENCH_TIMEOUT_S (600) overall cap,
// BENCH_STALL_S (20), BENCH_RESTART (1; 0 skips phase 5). Diagnostics:
// BENCH_CPU_PROF=<dir> (each gateway process writes a V8 CPU profile there, see
// bench/cpu-prof-preload.mjs and bench/profile-top.ts), BENCH_HEAP_SNAPSHOT=<dir> (a
// heap snapshot at each memory reading; slow). It prints a table and, last, one JSON
// line; exit 1 when a phase fails or aborts. The report names other benchmarks and
// test runs found running at the start and at the end (pgrep), and the load average.
// Every process and temp dir is removed at the end, also after a failure or Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { xml, type Component } from '@xmpp/component';
import type { Element } from '@xmpp/xml';

import { DRACHTIO_SECRET, PROXY_PEER, gatewayConfig } from '../spec/support/bed.js';
import {
  DrachtioDouble, buildSipRequest, tagOf, type InboundTransaction, type OutboundRequest, type SipMessage,
} from '../spec/support/drachtio-double/index.js';
import { GatewayProcess } from '../spec/support/gateway-process.js';
import { allocatePorts, type XmppServer } from '../spec/support/xmpp-servers/index.js';
import { cpuDelta, cpuSnap as cpuOf } from './cpu.js';
import { Injected, serveDouble } from './double.js';
import { envDir, envInt } from './env.js';
import { gatewayEnv, gatewayHeap as heapOf, runLogs, type Heap } from './gateway.js';
import { ClosedLoop } from './loop.js';
import { metricLines, metricsSnap as metricsOf, tableEntries, waitHealthy } from './metrics.js';
import { runPhase, type LoopPhase, type PhaseContext } from './phases.js';
import { cpuSeconds, machineInfo, memoryMiB, otherBenchmarks } from './proc.js';
import { coresText, entriesText, fmt, loopJson, machineLine, mibText, notesLines, othersLine, phaseTable, type Mem } from './report.js';
import { BenchRun, runMain, sleep } from './run.js';
import { USERS_DOMAIN, startProsodyWithUsers, startUsersComponent, stanzaError, stopUsersComponent } from './xmpp.js';

// ---------------------------------------------------------------- parameters

const params = {
  subscriptions: envInt('BENCH_S', 10000, 1),
  window: envInt('BENCH_WINDOW', 200, 1),
  warmup: envInt('BENCH_WARMUP', 500),
  samples: envInt('BENCH_SAMPLES', 2000),
  latencyWindow: envInt('BENCH_LATENCY_WINDOW', 50, 1),
  unloadedSamples: envInt('BENCH_UNLOADED_SAMPLES', 200),
  restoreRate: envInt('BENCH_RESTORE_RATE', 1000, 1),
  timeoutS: envInt('BENCH_TIMEOUT_S', 600, 10),
  stallS: envInt('BENCH_STALL_S', 20, 1),
  restart: envInt('BENCH_RESTART', 1) !== 0,
  notifyIntervalMs: 0,
};
const cpuProfDir = envDir('BENCH_CPU_PROF');
const heapSnapshotDir = envDir('BENCH_HEAP_SNAPSHOT');
const S = params.subscriptions;
const WARM = Math.min(params.warmup, Math.max(0, S - 1));
const maxSubscriptions = 2 * S + 1000;

const HOME = 'example.org';
const PIDF = 'application/pidf+xml';

const run = new BenchRun(params.timeoutS, params.stallS);
/** The machine is shared: the 1-minute load average at the start and at the end of the run. */
const loadAtStart = loadavg()[0] ?? NaN;

type Phase = 'setup' | 'x2s' | 's2x' | 'steady' | 'shutdown' | 'restart' | 'done';
let phase: Phase = 'setup';

// ---------------------------------------------------------------- the bed

let xmpp: XmppServer | undefined;
let dd: DrachtioDouble | undefined;
let gw: GatewayProcess | undefined;
let users: Component | undefined;
let dataDir: string | undefined;
let httpPort = 0;
let gwDomain = '';
let gwConfig: Record<string, unknown> = {};
/** Every gateway process of the run (the restart makes a second one), for the report. */
const gateways: GatewayProcess[] = [];

/** Loop sequence number per pair index, per establishment direction (0: none in flight). */
const x2sSeq = new Float64Array(S);
const s2xSeq = new Float64Array(S);
/** The double's dialog id of the gateway's (latest) SUBSCRIBE to s{i}. */
const x2sDialog: (string | undefined)[] = new Array<string | undefined>(S);
/** Restart phase: when x{i} got s{i}'s presence again / when w{i}'s probe of x{i} arrived (performance.now(), 0: not yet). */
const restartPresenceAt = new Float64Array(S);
const restartProbeAt = new Float64Array(S);
let restartPresence = 0;
let restartProbes = 0;
let restartSubscribes = 0;

/** Counts of what the two sides saw, for the report. */
const seen = {
  subscribes: 0, refreshes: 0, unsubscribes: 0, notifies: 0, notifiesEmpty: 0, notifiesTerminated: 0, deactivated: 0,
  notifiesRepeated: 0, otherRequests: 0, subscribeStanzas: 0, probes: 0, unavailable: 0, unsubscribed: 0, presenceErrors: 0, unexpectedStanzas: 0,
  sendErrors: 0, sipFailures: 0,
};
const firstProblems: string[] = [];
function problem(what: string): void {
  if (firstProblems.length < 10) firstProblems.push(what);
}

// ---------------------------------------------------------------- helpers

/** A one-tuple PIDF for SIP contact s{i}: tuple ID-desk (resource "desk"), open, with a note. */
function pidf(i: number, note: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:s${i}@${HOME}">`
    + `<tuple id="ID-desk"><status><basic>open</basic></status><note>${note}</note></tuple></presence>`;
}

const NOTE = /<(?:[A-Za-z0-9_-]+:)?note(?:\s[^>]*)?>([^<]*)</;
const markSeq = (text: string | undefined | null, prefix: string): number | undefined => {
  if (!text || text[0] !== prefix) return undefined;
  const n = Number(text.slice(1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

function usersSend(el: Element): void {
  users!.send(el).catch((err: Error) => {
    seen.sendErrors++;
    problem(`component send: ${err.message}`);
  });
}

// ---------------------------------------------------------------- the XMPP users (a component)

const JID_RE = /^([sw])(\d+)@([^/]+)(?:\/(.*))?$/;

function onUsersStanza(el: Element): void {
  if (el.name !== 'presence') {
    if (el.name === 'message' || el.attrs.type === 'error') seen.unexpectedStanzas++;
    return;
  }
  const type = el.attrs.type as string | undefined;
  const from = String(el.attrs.from ?? '');
  const m = JID_RE.exec(from);
  if (!m || m[3] !== gwDomain) {
    seen.unexpectedStanzas++;
    problem(`presence from ${from}`);
    return;
  }
  const i = Number(m[2]);
  if (!(i >= 0 && i < S)) return;
  if (type === 'error') {
    seen.presenceErrors++;
    const why = stanzaError(el);
    problem(`presence error from ${from}: ${why}`);
    if (m[1] === 's' && x2sSeq[i]) ClosedLoop.fail(x2sSeq[i]!, why);
    if (m[1] === 'w' && s2xSeq[i]) ClosedLoop.fail(s2xSeq[i]!, why);
    return;
  }
  if (m[1] === 's') {
    // About SIP contact s{i}, to x{i}.
    if (type === 'subscribed') {
      if (x2sSeq[i]) ClosedLoop.mark(x2sSeq[i]!, 'subscribed');
      return;
    }
    if (type === 'unsubscribed') {
      seen.unsubscribed++;
      problem(`unsubscribed from ${from}`);
      if (x2sSeq[i]) ClosedLoop.fail(x2sSeq[i]!, 'unsubscribed');
      return;
    }
    if (type === 'unavailable') {
      seen.unavailable++;
      return;
    }
    if (type !== undefined) return;
    const status = el.getChildText('status');
    const q = markSeq(status, 'q');
    if (q !== undefined) {
      ClosedLoop.mark(q, 'presence');
      return;
    }
    if (phase === 'x2s' && x2sSeq[i]) ClosedLoop.mark(x2sSeq[i]!, 'presence');
    else if ((phase === 'restart' || phase === 'shutdown') && restartPresenceAt[i] === 0 && status === 'r0') {
      restartPresenceAt[i] = performance.now();
      restartPresence++;
    }
    return;
  }
  // From watcher w{i}'s JID, to x{i}.
  const me = `x${i}@${USERS_DOMAIN}`;
  if (type === 'subscribe') {
    seen.subscribeStanzas++;
    // x{i} approves at once, and its server would then send its presence to the new subscriber.
    usersSend(xml('presence', { from: me, to: `w${i}@${gwDomain}`, type: 'subscribed' }));
    usersSend(xml('presence', { from: `${me}/r`, to: `w${i}@${gwDomain}` }, xml('status', {}, 'p0')));
    return;
  }
  if (type === 'probe') {
    seen.probes++;
    usersSend(xml('presence', { from: `${me}/r`, to: `w${i}@${gwDomain}` }, xml('status', {}, 'p1')));
    if (phase === 'restart' && restartProbeAt[i] === 0) {
      restartProbeAt[i] = performance.now();
      restartProbes++;
    }
    return;
  }
  if (type === 'unavailable') seen.unavailable++;
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

/** The last PIDF each S->X dialog got (by Call-ID), to count NOTIFYs that repeat it. */
const lastNotifyBody = new Map<string, string>();

interface InjectedRequest { what: 'subscribe' | 'notify'; i: number; seq?: number; tx: InboundTransaction }

/** Requests this process injected, until their final response. */
const injected = new Injected<InjectedRequest>();

function trackInjected(tx: InboundTransaction, what: 'subscribe' | 'notify', i: number, seq?: number): void {
  const why = injected.track({ what, i, ...(seq ? { seq } : {}), tx }, what);
  if (why === undefined) return;
  seen.sipFailures++;
  problem(why);
  if (seq) ClosedLoop.fail(seq, why);
}

/** A.12: NOTIFY active with the contact's PIDF in the dialog of the gateway's SUBSCRIBE to s{i}. */
function notifyFromContact(i: number, note: string, seq?: number): void {
  const dialogId = x2sDialog[i];
  if (!dialogId) {
    if (seq) ClosedLoop.fail(seq, `no dialog for s${i}`);
    return;
  }
  let tx: InboundTransaction;
  try {
    tx = dd!.injectInDialog(dialogId, {
      method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=3600' }, body: pidf(i, note), contentType: PIDF,
    });
  } catch (err) {
    if (seq) ClosedLoop.fail(seq, `inject NOTIFY: ${(err as Error).message}`);
    return;
  }
  trackInjected(tx, 'notify', i, seq);
}

function onGatewaySubscribe(req: OutboundRequest): void {
  const m = /^sip:s(\d+)@/.exec(req.uri);
  const i = m ? Number(m[1]) : -1;
  if (req.dialogId !== undefined) {
    // A refresh or an unsubscribe in the dialog (not expected within a run).
    if (req.get('expires') === '0') seen.unsubscribes++;
    else seen.refreshes++;
    req.respond(200, 'OK', { headers: { Expires: req.get('expires') ?? '3600' } });
    return;
  }
  if (!(i >= 0 && i < S) || req.get('expires') === '0') {
    seen.otherRequests++;
    problem(`unexpected SUBSCRIBE ${req.uri} Expires ${req.get('expires')}`);
    req.respond(404);
    return;
  }
  seen.subscribes++;
  if (phase === 'restart') restartSubscribes++;
  req.respond(202, 'Accepted', { headers: { Expires: '3600' } });
  x2sDialog[i] = `${req.get('call-id')};from-tag=${tagOf(req.get('from'))}`;
  notifyFromContact(i, phase === 'restart' || phase === 'shutdown' ? 'r0' : 'n0', phase === 'x2s' && x2sSeq[i] ? x2sSeq[i] : undefined);
}

function onGatewayNotify(req: OutboundRequest): void {
  req.respond(200);
  seen.notifies++;
  const state = req.get('subscription-state') ?? '';
  if (state.startsWith('terminated')) {
    seen.notifiesTerminated++;
    if (state === 'terminated;reason=deactivated') seen.deactivated++;
    return;
  }
  const body = req.body;
  const callId = req.get('call-id') ?? '';
  if (body === '') {
    seen.notifiesEmpty++;
    return;
  }
  // A NOTIFY with exactly the body of the previous one in its dialog tells the watcher nothing new.
  if (lastNotifyBody.get(callId) === body) seen.notifiesRepeated++;
  lastNotifyBody.set(callId, body);
  const note = NOTE.exec(body)?.[1];
  const m = markSeq(note, 'm');
  if (m !== undefined) {
    ClosedLoop.mark(m, 'notify');
    return;
  }
  const c = /^w(\d+)-/.exec(callId);
  const i = c ? Number(c[1]) : -1;
  if (phase === 's2x' && i >= 0 && i < S && s2xSeq[i]) ClosedLoop.mark(s2xSeq[i]!, 'notify');
}

/** The gateway's final response to a SUBSCRIBE or NOTIFY this process injected. */
function onInjectedFinal(rec: InjectedRequest, final: SipMessage): void {
  const ok = rec.what === 'subscribe' ? final.status === 202 || final.status === 200 : final.status === 200;
  if (!ok) {
    seen.sipFailures++;
    problem(`${rec.what} for pair ${rec.i} answered ${final.status} ${final.reason}`);
    if (rec.seq) ClosedLoop.fail(rec.seq, `SIP ${final.status} ${final.reason}`);
  } else if (rec.what === 'subscribe' && rec.seq) {
    ClosedLoop.mark(rec.seq, 'response');
  }
}

/** Answers the gateway's requests and reads its final responses to what this process injected (bench/double.ts). */
function wireDouble(double: DrachtioDouble): void {
  serveDouble(double, {
    onRequest: (req) => {
      if (req.method === 'SUBSCRIBE') onGatewaySubscribe(req);
      else if (req.method === 'NOTIFY') onGatewayNotify(req);
      else if (req.method !== 'ACK') {
        seen.otherRequests++;
        req.respond(200);
      }
    },
    onError: (req, err) => problem(`answering ${req.method}: ${err.message}`),
    injected,
    onFinal: onInjectedFinal,
    trim: true,
  });
}

// ---------------------------------------------------------------- senders

let runTag = '';

const senders = {
  /** Phase 1: x{i} subscribes to s{i}. */
  x2s: (i: number, seq: number) => {
    x2sSeq[i] = seq;
    usersSend(xml('presence', { from: `x${i}@${USERS_DOMAIN}`, to: `s${i}@${gwDomain}`, type: 'subscribe' }));
  },
  /** Phase 2: w{i} subscribes to x{i} (RFC 8048 Ex.11 shape). */
  s2x: (i: number, seq: number) => {
    s2xSeq[i] = seq;
    const target = `sip:x${i}@${USERS_DOMAIN}`;
    const tx = dd!.inject(buildSipRequest({
      method: 'SUBSCRIBE', uri: target, from: `<sip:w${i}@${HOME}>;tag=w${i}t`, to: `<${target}>`,
      callId: `w${i}-${runTag}@127.0.0.1`, peer: PROXY_PEER, contact: `<sip:w${i}@127.0.0.1:5072>`,
      headers: { Event: 'presence', Accept: PIDF, Expires: '3600' },
    }), PROXY_PEER);
    trackInjected(tx, 'subscribe', i, seq);
  },
  /** Phase 3: x{i} changes its presence; w{i}'s NOTIFY must carry the new status. */
  toNotify: (i: number, seq: number) => {
    usersSend(xml('presence', { from: `x${i}@${USERS_DOMAIN}/r`, to: `w${i}@${gwDomain}` }, xml('status', {}, `m${seq}`)));
  },
  /** Phase 3: s{i}'s notifier sends a NOTIFY; x{i} must get the new status. */
  toPresence: (i: number, seq: number) => notifyFromContact(i, `q${seq}`, seq),
};

// ---------------------------------------------------------------- phases

const cpuSnap = () => cpuOf({ gateway: gw?.child.pid, prosody: xmpp?.pid }, { machine: true });
const metricsSnap = () => metricsOf(httpPort);
const gatewayHeap = (g: GatewayProcess) => heapOf(g, heapSnapshotDir !== undefined);

const COUNTER_RE = /^gateway_(xmpp_stanzas_total|sip_requests_total|sip_responses_total|presence_events_total|errors_total)\{/;

const loopPhases: LoopPhase[] = [];
const phaseContext: PhaseContext = { run, cpu: cpuSnap, metrics: metricsSnap, counters: COUNTER_RE, phases: loopPhases };

/** A phase of one loop over the pairs from `first` on (wrapping at S). */
function runLoopPhase(name: string, marks: readonly string[], first: number, warm: number, count: number, window: number,
  send: (i: number, seq: number) => void): Promise<LoopPhase> {
  return runPhase(phaseContext, name, [{ name, marks, items: (k) => (first + k) % S, send }], warm, count, window);
}

interface RestartResult {
  /** SIGTERM -> the old process exited. */
  shutdownS: number;
  /** terminated;reason=deactivated NOTIFYs the double got on the way down (of S). */
  deactivated: number;
  /** New process spawned -> /healthz 200. */
  healthyS?: number;
  /** New process spawned -> every x{i} had s{i}'s presence again (a), and its count. */
  resubscribedS?: number;
  resubscribed: number;
  /** New process spawned -> every probe of x{i} from w{i}@gw arrived (b), and its count. */
  probedS?: number;
  probed: number;
  /** SUBSCRIBEs the double got from the new process. */
  subscribes: number;
  /** Lower bound set by the pacing: S / restoreRate each. */
  boundS: number;
  firstPresenceS?: number;
  firstProbeS?: number;
  cpu: Record<string, number>;
  wallS: number;
  /** Once a second from the spawn: what had arrived, the gateway's pacer queue and its CPU so far. */
  timeline: Array<{ t: number; presence: number; probes: number; subscribes: number; restoreQueue?: number; gwCpu?: number }>;
  aborted?: string;
}

let restartResult: RestartResult | undefined;

/** A gateway process on gwConfig (the same dataDir each time), with the heap preload. */
function spawnGateway(): GatewayProcess {
  const g = GatewayProcess.spawn(gwConfig, { env: gatewayEnv({ heap: true, heapSnapshotDir, cpuProfDir }) });
  gateways.push(g);
  return g;
}

async function restartPhase(): Promise<RestartResult> {
  process.stderr.write('bench: restart: SIGTERM, then a new gateway on the same dataDir ...\n');
  phase = 'shutdown';
  const deactivatedBefore = seen.deactivated;
  const t0 = performance.now();
  const old = gw!;
  await old.stop('SIGTERM', 60000);
  const shutdownS = (performance.now() - t0) / 1000;
  // Let the last frames of the old connection be handled.
  await sleep(200);
  const deactivated = seen.deactivated - deactivatedBefore;

  phase = 'restart';
  restartPresenceAt.fill(0);
  restartProbeAt.fill(0);
  restartPresence = 0;
  restartProbes = 0;
  restartSubscribes = 0;
  const t1 = performance.now();
  const cpuAtSpawn = cpuSnap();
  gw = spawnGateway();
  const r: RestartResult = {
    shutdownS, deactivated, resubscribed: 0, probed: 0, subscribes: 0, boundS: S / params.restoreRate, cpu: {}, wallS: 0, timeline: [],
  };
  let nextSample = t1 + 1000;
  const sample = async (): Promise<void> => {
    const m = await metricsSnap();
    const queue = m.get('gateway_table_entries{table="presence_restore_queue"}');
    const cpu = cpuSeconds(gw?.child.pid ?? 0);
    r.timeline.push({
      t: Math.round((performance.now() - t1) / 100) / 10, presence: restartPresence, probes: restartProbes, subscribes: restartSubscribes,
      ...(queue !== undefined ? { restoreQueue: queue } : {}), ...(cpu !== undefined ? { gwCpu: cpu } : {}),
    });
  };
  try {
    await waitHealthy(gw, httpPort, 60000);
    r.healthyS = (performance.now() - t1) / 1000;
    let lastProgress = performance.now();
    let lastCount = -1;
    for (;;) {
      const now = performance.now();
      const count = restartPresence + restartProbes;
      if (count !== lastCount) {
        lastCount = count;
        lastProgress = now;
      }
      if (restartPresence >= S && restartProbes >= S) break;
      if (run.abortReason) throw new Error(run.abortReason);
      if (now > run.deadline) throw new Error('time cap reached');
      if (gw.child.exitCode !== null) throw new Error(`gateway exited (${gw.child.exitCode}):\n${gw.tail()}`);
      if (now - lastProgress > params.stallS * 1000) {
        throw new Error(`stalled: nothing for ${params.stallS} s (presence again ${restartPresence}/${S}, probes ${restartProbes}/${S}, SUBSCRIBEs ${restartSubscribes})`);
      }
      if (now >= nextSample) {
        while (nextSample <= now) nextSample += 1000;
        await sample();
      }
      await sleep(20);
    }
    await sample();
  } catch (err) {
    r.aborted = (err as Error).message;
  } finally {
    const since = (arr: Float64Array): { last?: number; first?: number } => {
      let first = Infinity;
      let last = 0;
      for (const t of arr) {
        if (t === 0) continue;
        first = Math.min(first, t);
        last = Math.max(last, t);
      }
      return last === 0 ? {} : { first: (first - t1) / 1000, last: (last - t1) / 1000 };
    };
    const a = since(restartPresenceAt);
    const b = since(restartProbeAt);
    r.resubscribed = restartPresence;
    r.probed = restartProbes;
    r.subscribes = restartSubscribes;
    if (restartPresence >= S && a.last !== undefined) r.resubscribedS = a.last;
    if (restartProbes >= S && b.last !== undefined) r.probedS = b.last;
    if (a.first !== undefined) r.firstPresenceS = a.first;
    if (b.first !== undefined) r.firstProbeS = b.first;
    r.wallS = (performance.now() - t0) / 1000;
    // The new process's CPU is all since the spawn.
    r.cpu = cpuDelta({ ...cpuAtSpawn, gateway: 0 }, cpuSnap());
  }
  return r;
}

// ---------------------------------------------------------------- report

interface Final {
  memBefore?: Mem;
  memAfter?: Mem;
  memAfterRestart?: Mem;
  /** After a forced full GC (bench/heap-preload.mjs). */
  heapBefore?: Heap;
  heapAfter?: Heap;
  heapAfterRestart?: Heap;
  /** After phase 3 (state changes only, no new subscriptions), and how many changes that was. */
  heapAfterSteady?: Heap;
  steadyChanges?: number;
  prosodyMem?: Mem;
  benchMem?: Mem;
  tables?: Record<string, number>;
  tablesAfterRestart?: Record<string, number>;
  counters: string[];
  warnLines: string[];
  stderrLines: string[];
  prosodyProblems: string[];
  othersAtStart: string[];
  othersAtEnd: string[];
  error?: string;
}

function report(final: Final): void {
  const m = machineInfo();
  const out: string[] = [];
  out.push('');
  const loadAtEnd = loadavg()[0] ?? NaN;
  out.push(`${machineLine('Presence benchmark', m)}; load average (1 min) ${fmt(loadAtStart, 2)} at the start, ${fmt(loadAtEnd, 2)} at the end`);
  out.push(othersLine(final.othersAtStart, final.othersAtEnd));
  out.push(`S=${S} subscriptions per direction (warm-up: the first ${WARM} of each), window ${params.window}; steady state: ${params.samples} samples `
    + `per direction, window ${params.latencyWindow}; presence.notifyIntervalMs ${params.notifyIntervalMs}, restoreRate ${params.restoreRate}/s, `
    + `maxSubscriptions ${maxSubscriptions}`);
  out.push('X->S: x{i}@users watches s{i}@gw (gateway is the SIP subscriber); S->X: w{i}@example.org watches x{i} (gateway is the notifier).');
  out.push('Latencies include Prosody\'s hop(s) and this process (double + component). CPU = cores used during the measured part;');
  out.push('"all" = every process on the machine (/proc/stat), "steal" = time the hypervisor gave to other guests.');
  out.push('');
  out.push(...phaseTable(loopPhases, ['gateway', 'prosody', 'bench', 'machine', 'steal'], 'CPU cores gw/prosody/bench/all/steal'));
  out.push('');
  const est = loopPhases.filter((p) => p.name.includes('establishment'));
  for (const p of est) {
    const total = (p.warm?.completed ?? 0) + p.loop.completed;
    out.push(`${p.name}: ${fmt(total)} subscriptions established; ${fmt(p.loop.perSecond)}/s measured over ${fmt(p.loop.completed)} `
      + `(${fmt(p.loop.durationMs / 1000, 1)} s); gateway counters: ${entriesText(p.counters, ' ', ', ')}`);
  }
  const growth = final.memBefore && final.memAfter ? ((final.memAfter.rss - final.memBefore.rss) * 1024) / (2 * S) : undefined;
  out.push(`memory: gateway RSS before phase 1 ${mibText(final.memBefore)}, after phases 1+2 ${mibText(final.memAfter)}: `
    + `${fmt(growth, 2)} KiB per subscription (${fmt(2 * S)} subscriptions); after the restart (state restored) ${mibText(final.memAfterRestart)}`);
  const heap = (h?: Heap) => (h ? `heap used ${fmt(h.heapUsed, 1)} MiB, external ${fmt(h.external, 1)} MiB, RSS ${fmt(h.rss, 1)} MiB` : '-');
  const heapGrowth = final.heapBefore && final.heapAfter
    ? ((final.heapAfter.heapUsed + final.heapAfter.external - final.heapBefore.heapUsed - final.heapBefore.external) * 1024) / (2 * S) : undefined;
  out.push(`        after a forced full GC: before ${heap(final.heapBefore)}; after phases 1+2 ${heap(final.heapAfter)}: `
    + `${fmt(heapGrowth, 2)} KiB live (heap + external) per subscription;`);
  out.push(`        after phase 3 (${fmt(final.steadyChanges)} state changes, no new subscriptions) ${heap(final.heapAfterSteady)}; `
    + `after the restart ${heap(final.heapAfterRestart)}`);
  out.push(`        Prosody ${mibText(final.prosodyMem)}; this process (double + component) ${mibText(final.benchMem)}`);
  if (final.tables) out.push(`gateway tables after phase 2: ${entriesText(final.tables)}`);
  const rr = restartResult;
  if (rr) {
    out.push(`restart: SIGTERM -> exit ${fmt(rr.shutdownS, 2)} s, deactivated NOTIFYs answered ${fmt(rr.deactivated)}/${fmt(S)}; `
      + `new process -> healthy ${fmt(rr.healthyS, 2)} s`);
    out.push(`         (a) X->S re-established (presence at every x{i} again): ${rr.resubscribedS !== undefined ? `${fmt(rr.resubscribedS, 2)} s` : `not done (${fmt(rr.resubscribed)}/${fmt(S)})`}`
      + ` (first after ${fmt(rr.firstPresenceS, 2)} s; ${fmt(rr.subscribes)} SUBSCRIBEs)`);
    out.push(`         (b) S->X probes from every w{i}@gw at x{i}: ${rr.probedS !== undefined ? `${fmt(rr.probedS, 2)} s` : `not done (${fmt(rr.probed)}/${fmt(S)})`}`
      + ` (first after ${fmt(rr.firstProbeS, 2)} s)`);
    out.push(`         restoreRate ${params.restoreRate}/s bounds each at S/rate = ${fmt(rr.boundS, 1)} s (one pacer for the ${fmt(S)} resubscriptions, `
      + `another for the ${fmt(S)} probes, each at restoreRate); `
      + `CPU cores from spawn (gw/prosody/bench/all/steal): ${coresText(rr.cpu, ['gateway', 'prosody', 'bench', 'machine', 'steal'], Math.max(1e-3, rr.wallS - rr.shutdownS))}`);
    if (rr.timeline.length) {
      const step = Math.max(1, Math.ceil(rr.timeline.length / 12));
      const pts = rr.timeline.filter((_, k) => k % step === 0 || k === rr.timeline.length - 1);
      out.push(`         timeline (s from spawn: SUBSCRIBEs / presence again / probes / pacer queue / gateway CPU s): `
        + pts.map((p) => `${fmt(p.t, 1)}: ${p.subscribes}/${p.presence}/${p.probes}/${p.restoreQueue ?? '-'}/${fmt(p.gwCpu, 1)}`).join('  '));
    }
    if (rr.aborted) out.push(`         ABORTED: ${rr.aborted}`);
    if (final.tablesAfterRestart) out.push(`gateway tables after the restart: ${entriesText(final.tablesAfterRestart)}`);
  }
  out.push(...notesLines(seen, firstProblems, final, 'gateway counters at the end (second process when restarted):'));
  if (final.error) out.push(`ABORTED: ${final.error}`);
  out.push(`total wall time ${fmt(run.elapsedS(), 1)} s`);
  console.log(out.join('\n'));

  const json = {
    bench: 'presence',
    at: new Date().toISOString(),
    machine: m,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    otherBenchmarks: { start: final.othersAtStart, end: final.othersAtEnd },
    params: { ...params, warmup: WARM, maxSubscriptions },
    phases: loopPhases.map((p) => ({
      name: p.name, wallS: Math.round(p.wallS * 1000) / 1000, cpuSeconds: p.cpu, gatewayCounters: p.counters,
      ...(p.warm ? { warmup: loopJson(p.warm) } : {}), loop: loopJson(p.loop),
      gatewayUsPerOp: p.cpu.gateway !== undefined && p.loop.completed > 0 ? Math.round((p.cpu.gateway * 1e6) / p.loop.completed) : null,
    })),
    memory: {
      gatewayBeforeMiB: final.memBefore ?? null, gatewayAfterMiB: final.memAfter ?? null,
      kibPerSubscription: growth !== undefined ? Math.round(growth * 100) / 100 : null,
      gatewayHeapBeforeMiB: final.heapBefore ?? null, gatewayHeapAfterMiB: final.heapAfter ?? null,
      gatewayHeapAfterRestartMiB: final.heapAfterRestart ?? null,
      gatewayHeapAfterSteadyMiB: final.heapAfterSteady ?? null, steadyChanges: final.steadyChanges ?? null,
      liveKibPerSubscription: heapGrowth !== undefined ? Math.round(heapGrowth * 100) / 100 : null,
      gatewayAfterRestartMiB: final.memAfterRestart ?? null, prosodyMiB: final.prosodyMem ?? null, benchMiB: final.benchMem ?? null,
    },
    tables: final.tables ?? null,
    restart: restartResult ?? null,
    seen,
    problems: firstProblems,
    gatewayWarnLines: final.warnLines.length,
    gatewayStderrLines: final.stderrLines.length,
    error: final.error ?? null,
  };
  console.log(JSON.stringify(json));
}

// ---------------------------------------------------------------- main

const tables = async (): Promise<Record<string, number>> => tableEntries(await metricsSnap(), /presence/);

async function stopAll(): Promise<void> {
  phase = 'done';
  await stopUsersComponent(users);
  await gw?.stop('SIGTERM', 20000).catch(() => undefined);
  await dd?.stop().catch(() => undefined);
  await xmpp?.stop().catch(() => undefined);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

async function main(): Promise<number> {
  run.arm(60, () => {
    gw?.child.kill('SIGKILL');
    void xmpp?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const final: Final = { counters: [], warnLines: [], stderrLines: [], prosodyProblems: [], othersAtStart: otherBenchmarks({ warn: true }), othersAtEnd: [] };
  return run.execute({
    measure: async () => {
      process.stderr.write('bench: starting Prosody, the drachtio double, the gateway and the users component ...\n');
      runTag = Date.now().toString(36);
      xmpp = await startProsodyWithUsers();
      gwDomain = xmpp.componentDomain;
      dd = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
      wireDouble(dd);
      [httpPort] = (await allocatePorts(1)) as [number];
      dataDir = mkdtempSync(join(tmpdir(), 'bench-presence-'));
      gwConfig = gatewayConfig(xmpp, dd, {
        log: { level: 'warn', format: 'json' },
        http: { host: '127.0.0.1', port: httpPort },
        dataDir,
        domains: { xmppToSip: [{ xmpp: USERS_DOMAIN, sip: USERS_DOMAIN }] },
        presence: { notifyIntervalMs: params.notifyIntervalMs, restoreRate: params.restoreRate, maxSubscriptions },
        shutdown: { graceMs: 5000 },
      });
      gw = spawnGateway();
      users = await startUsers(xmpp);
      await waitHealthy(gw, httpPort, 30000);
      await dd.waitForRoute('subscribe', { timeoutMs: 10000 });
      // Settle: the gateway's start-up work is done, its heap has grown to its working size.
      await sleep(1500);
      final.memBefore = memoryMiB(gw.child.pid ?? 0);
      final.heapBefore = await gatewayHeap(gw);

      const gwAlive = (): void => {
        if (gw?.child.exitCode !== null && phase !== 'shutdown' && phase !== 'restart') run.abortReason ??= `gateway exited (${gw?.child.exitCode})`;
      };
      const aliveTimer = setInterval(gwAlive, 200);
      try {
        phase = 'x2s';
        await runLoopPhase('X->S establishment', ['subscribed', 'presence'], 0, WARM, S - WARM, params.window, senders.x2s);
        phase = 's2x';
        await runLoopPhase('S->X establishment', ['response', 'notify'], 0, WARM, S - WARM, params.window, senders.s2x);
        // Let queued store writes and NOTIFY answers finish before reading memory and tables.
        await sleep(2000);
        final.memAfter = memoryMiB(gw.child.pid ?? 0);
        final.heapAfter = await gatewayHeap(gw);
        final.tables = await tables();
        phase = 'steady';
        if (params.samples > 0) {
          const n = params.samples;
          const warm = Math.min(200, Math.floor(n / 10));
          // Distinct pairs per sample: the first phase-3 loop starts at pair 0, the other further on.
          await runLoopPhase('presence -> NOTIFY (S->X pairs)', ['notify'], 0, warm, n, params.latencyWindow, senders.toNotify);
          await runLoopPhase('NOTIFY -> presence (X->S pairs)', ['presence'], Math.floor(S / 2), warm, n, params.latencyWindow, senders.toPresence);
        }
        if (params.unloadedSamples > 0) {
          // One change at a time: the latency without queueing (pairs not used by the loaded samples while S allows).
          const n = params.unloadedSamples;
          const warm = Math.min(20, n);
          const first = params.samples + Math.min(200, Math.floor(params.samples / 10));
          await runLoopPhase('unloaded presence -> NOTIFY', ['notify'], first, warm, n, 1, senders.toNotify);
          await runLoopPhase('unloaded NOTIFY -> presence', ['presence'], Math.floor(S / 2) + first, warm, n, 1, senders.toPresence);
        }
        if (params.samples > 0 || params.unloadedSamples > 0) {
          await sleep(1000);
          final.heapAfterSteady = await gatewayHeap(gw);
          final.steadyChanges = loopPhases.filter((p) => !p.name.includes('establishment'))
            .reduce((a, p) => a + p.loop.completed + (p.warm?.completed ?? 0), 0);
        }
      } finally {
        clearInterval(aliveTimer);
      }
      if (params.restart) {
        restartResult = await restartPhase();
        await sleep(1000);
        final.memAfterRestart = memoryMiB(gw.child.pid ?? 0);
        final.heapAfterRestart = await gatewayHeap(gw);
        final.tablesAfterRestart = await tables();
        if (restartResult.aborted) throw new Error(`restart: ${restartResult.aborted}`);
      }
    },
    collect: async () => {
      final.counters = metricLines(await metricsSnap(), COUNTER_RE);
      Object.assign(final, runLogs(gateways, xmpp));
      final.prosodyMem = memoryMiB(xmpp?.pid ?? 0);
      final.benchMem = memoryMiB(process.pid);
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
