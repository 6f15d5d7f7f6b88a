// IM benchmark (npm run bench:im; not part of npm test).
//
// One run starts a private Prosody, the drachtio test double and the gateway
// process (src/main.ts, logging at warn), and a trivial echo component on a
// second component domain of the same Prosody (bench/echo-component.ts, its
// own process like the gateway). Then, closed loop, N XMPP clients with W
// messages in flight each:
//   echo   client -> Prosody -> echo component -> Prosody -> client (round trips: the ceiling)
//   X->S   client -> Prosody -> gateway -> double (MESSAGE answered 200 at once); done when the double sees it
//   S->X   double -> gateway -> Prosody -> client; done when the stanza arrived and the 202 came back
//   mixed  X->S and S->X at the same time
// loaded (N clients, window W) with the echo measured before and after the
// gateway phases, then unloaded (1 client, W=1: latency without queueing). It prints a
// table and, last, one JSON line. docs/performance.md explains the figures.
//
// Environment: BENCH_CLIENTS (8), BENCH_MESSAGES per client (500), BENCH_WINDOW (20),
// BENCH_WARMUP messages before each loaded phase (200), BENCH_LATENCY_MESSAGES for the
// unloaded phases (300), BENCH_TIMEOUT_S overall cap (120), BENCH_STALL_S (10),
// BENCH_MIXED (1; 0 skips the mixed phase), BENCH_CPU_PROF=<dir> (the gateway writes a
// V8 CPU profile into <dir> when it exits, see bench/cpu-prof-preload.mjs; summarise
// with `npx tsx bench/profile-top.ts <file>`),
// BENCH_NODELAY=1 (diagnostic: the gateway's XMPP socket with TCP_NODELAY, see
// bench/nodelay-preload.mjs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

import { DRACHTIO_SECRET, PROXY_PEER, gatewayConfig, sipRequest } from '../spec/support/bed.js';
import { DrachtioDouble, type FrameRecord, type InboundTransaction } from '../spec/support/drachtio-double/index.js';
import { GatewayProcess, REPO_ROOT } from '../spec/support/gateway-process.js';
import { allocatePorts, connectClient, startProsody, type TestClient, type XmppServer } from '../spec/support/xmpp-servers/index.js';
import { ClosedLoop, percentile, type LoopResult } from './loop.js';
import { cpuSeconds, machineInfo, memoryMiB } from './proc.js';

// ---------------------------------------------------------------- parameters

function envInt(name: string, dflt: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return n;
}

const params = {
  clients: envInt('BENCH_CLIENTS', 8, 1),
  messagesPerClient: envInt('BENCH_MESSAGES', 500, 1),
  window: envInt('BENCH_WINDOW', 20, 1),
  warmup: envInt('BENCH_WARMUP', 200),
  latencyMessages: envInt('BENCH_LATENCY_MESSAGES', 300),
  timeoutS: envInt('BENCH_TIMEOUT_S', 120, 10),
  stallS: envInt('BENCH_STALL_S', 10, 1),
  mixed: envInt('BENCH_MIXED', 1) !== 0,
  /** Diagnostic: the gateway's XMPP component socket with TCP_NODELAY (bench/nodelay-preload.mjs). */
  nodelay: envInt('BENCH_NODELAY', 0) !== 0,
};
const cpuProfDir = process.env.BENCH_CPU_PROF ? resolvePath(process.env.BENCH_CPU_PROF) : undefined;

const ECHO_DOMAIN = 'echo.example.test';
const ECHO_SECRET = 'echo-bench-secret';
const PASSWORD = 'bench-pass';

const startedAt = performance.now();
const deadline = startedAt + params.timeoutS * 1000;
let abortReason: string | undefined;

// ---------------------------------------------------------------- the bed

let xmpp: XmppServer | undefined;
let dd: DrachtioDouble | undefined;
let gw: GatewayProcess | undefined;
let echo: ChildProcess | undefined;
let echoExited: Promise<void> | undefined;
/** The gateway's /healthz and /metrics port (fixed: at log level warn it does not log the port it picked). */
let httpPort = 0;
const clients: TestClient[] = [];

/** S->X transactions in flight: the double's transaction id -> message sequence number. */
const s2xByTxn = new Map<string, { seq: number; tx: InboundTransaction }>();
let sendErrors = 0;

function seqOf(text: string | undefined | null): number | undefined {
  const m = /^b(\d+)$/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

function stanzaErrorText(el: Element): string {
  const err = el.getChild('error');
  const cond = err?.children.find((c) => typeof c !== 'string' && c.name !== 'text');
  return `stanza error ${typeof cond === 'object' && cond ? cond.name : 'unknown'}`;
}

async function startEcho(server: XmppServer): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolvePath(REPO_ROOT, 'bench', 'echo-component.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ECHO_SERVICE: `xmpp://127.0.0.1:${server.componentPort}`,
      ECHO_DOMAIN,
      ECHO_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  echo = child;
  echoExited = new Promise((res) => child.once('exit', () => res()));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo component not ready in 20 s: ${stderr.join('\n')}`)), 20000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo component exited (${code}): ${stderr.join('\n')}`));
    });
  });
}

/** The double answers every MESSAGE the gateway sends with 200 at once, and reports S->X final responses. */
function wireDouble(double: DrachtioDouble): void {
  let cursor = 0;
  let scheduled = false;
  const responseTxns: string[] = [];
  const drain = (): void => {
    scheduled = false;
    const reqs = double.requests;
    while (cursor < reqs.length) {
      const req = reqs[cursor++]!;
      if (req.method !== 'MESSAGE' || req.auto) continue;
      req.respond(200);
      const seq = seqOf(req.body);
      if (seq !== undefined) ClosedLoop.mark(seq, 'arrival');
    }
    for (const txnId of responseTxns.splice(0)) {
      const rec = s2xByTxn.get(txnId);
      const final = rec?.tx.responses.find((r) => r.status >= 200);
      if (!rec || !final) continue;
      s2xByTxn.delete(txnId);
      if (final.status === 202) ClosedLoop.mark(rec.seq, 'response');
      else ClosedLoop.fail(rec.seq, `SIP ${final.status} ${final.reason}`);
    }
  };
  // Frames from the gateway are handled synchronously by the double after this
  // event; the microtask runs once the whole chunk has been processed.
  double.on('frame', (f: FrameRecord) => {
    if (f.direction !== 'app->server' || f.tokens[1] !== 'sip') return;
    if (f.body?.startsWith('SIP/2.0 ')) responseTxns.push(f.tokens[2] ?? '');
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(drain);
    }
  });
}

function wireClient(c: TestClient): void {
  c.xmpp.on('stanza', (el: Element) => {
    if (el.name !== 'message') return;
    if (el.attrs.type === 'error') {
      const seq = seqOf(String(el.attrs.id ?? ''));
      if (seq !== undefined) ClosedLoop.fail(seq, stanzaErrorText(el));
      return;
    }
    const seq = seqOf(el.getChildText('body'));
    if (seq !== undefined) ClosedLoop.mark(seq, 'stanza');
  });
}

// ---------------------------------------------------------------- senders

function xmppSend(client: number, seq: number, to: string): void {
  const c = clients[client]!;
  c.xmpp.send(xml('message', { to, id: `b${seq}`, type: 'chat' }, xml('body', {}, `b${seq}`))).catch((err: Error) => {
    sendErrors++;
    ClosedLoop.fail(seq, `client send: ${err.message}`);
  });
}

const senders = {
  echo: (client: number, seq: number) => xmppSend(client, seq, `echo${client + 1}@${ECHO_DOMAIN}`),
  x2s: (client: number, seq: number) => xmppSend(client, seq, `user${client + 1}@${xmpp!.componentDomain}`),
  s2x: (client: number, seq: number) => {
    const tx = dd!.inject(sipRequest('MESSAGE', {
      uri: `sip:u${client + 1}@${xmpp!.domain}`,
      from: `<sip:sender${client + 1}@example.org>`,
      body: `b${seq}`,
    }), PROXY_PEER);
    const txnId = tx.txnId;
    if (!txnId || !tx.routed) {
      const final = tx.responses.find((r) => r.status >= 200);
      ClosedLoop.fail(seq, `double did not route the MESSAGE${final ? ` (${final.status})` : ''}`);
      return;
    }
    s2xByTxn.set(txnId, { seq, tx });
  },
};

type Direction = keyof typeof senders;
const MARKS: Record<Direction, readonly string[]> = { echo: ['stanza'], x2s: ['arrival'], s2x: ['response', 'stanza'] };

// ---------------------------------------------------------------- phases

interface CpuSnap {
  gateway?: number;
  prosody?: number;
  echo?: number;
  bench: number;
}

function cpuSnap(): CpuSnap {
  const u = process.cpuUsage();
  return {
    gateway: cpuSeconds(gw?.child.pid ?? 0),
    prosody: cpuSeconds(xmpp?.pid ?? 0),
    echo: cpuSeconds(echo?.pid ?? 0),
    bench: (u.user + u.system) / 1e6,
  };
}

function cpuDelta(a: CpuSnap, b: CpuSnap): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['gateway', 'prosody', 'echo', 'bench'] as const) {
    const x = a[k];
    const y = b[k];
    if (x !== undefined && y !== undefined) out[k] = y - x;
  }
  return out;
}

interface PhaseResult {
  phase: string;
  loops: LoopResult[];
  wallS: number;
  /** CPU seconds per process during the measured part. */
  cpu: Record<string, number>;
  /** Stanzas the gateway sent to the XMPP server during the measured part, by kind (from /metrics). */
  stanzasOut: { message: number; iq: number };
}

/** The gateway's counters from /metrics (name{labels} -> value); empty when it does not answer. */
async function metricsSnap(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(3000) });
    for (const line of (await res.text()).split('\n')) {
      const m = /^(gateway_[a-z_]+\{[^}]*\}) (\S+)$/.exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
  } catch {
    // counted as zero
  }
  return out;
}

const OUT_MESSAGE = 'gateway_xmpp_stanzas_total{direction="out",kind="message"}';
const OUT_IQ = 'gateway_xmpp_stanzas_total{direction="out",kind="iq"}';

const results: PhaseResult[] = [];

function loop(name: string, dir: Direction, clientCount: number, perClient: number, window: number): ClosedLoop {
  return new ClosedLoop({
    name, clients: clientCount, perClient, window, marks: MARKS[dir], send: senders[dir],
    deadline, stallMs: params.stallS * 1000, abortReason: () => abortReason,
  });
}

/** Runs a warm-up, then the measured loops (several at once for the mixed phase). */
async function phase(name: string, dirs: Direction[], clientCount: number, perClient: number, window: number, warmup: number): Promise<PhaseResult> {
  process.stderr.write(`bench: ${name} ...\n`);
  if (warmup > 0) {
    const per = Math.max(1, Math.ceil(warmup / clientCount));
    const warm = await Promise.all(dirs.map((d) => loop(`${name} warm-up`, d, clientCount, per, window).run()));
    const bad = warm.find((w) => w.aborted);
    if (bad) throw new Error(`${name} warm-up: ${bad.aborted}; failures: ${bad.failures.join('; ') || 'none'}`);
  }
  const countersBefore = await metricsSnap();
  const before = cpuSnap();
  const t0 = performance.now();
  const loops = await Promise.all(dirs.map((d) => loop(`${name} ${d}`, d, clientCount, perClient, window).run()));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuDelta(before, cpuSnap());
  const countersAfter = await metricsSnap();
  const delta = (k: string) => (countersAfter.get(k) ?? 0) - (countersBefore.get(k) ?? 0);
  const r: PhaseResult = { phase: name, loops, wallS, cpu, stanzasOut: { message: delta(OUT_MESSAGE), iq: delta(OUT_IQ) } };
  results.push(r);
  const aborted = loops.find((l) => l.aborted);
  if (aborted) throw new Error(`${name}: ${aborted.aborted}`);
  return r;
}

// ---------------------------------------------------------------- report

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function latencySummary(values: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  return { n: values.length, p50: percentile(values, 0.5), p90: percentile(values, 0.9), p99: percentile(values, 0.99), max: percentile(values, 1) };
}

function ceilingOf(prefix: string): number | undefined {
  const rates = results.filter((r) => r.phase.startsWith(prefix)).map((r) => r.loops[0]!.perSecond).filter((x) => x > 0);
  return rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : undefined;
}

function report(final: { gatewayMem?: { peak: number; rss: number }; gatewayMemStart?: { peak: number; rss: number }; prosodyMem?: { peak: number; rss: number }; echoMem?: { peak: number; rss: number }; counters: string[]; warnLines: string[]; error?: string }): void {
  const m = machineInfo();
  const ceiling = ceilingOf('loaded echo');
  const ceilingUnloaded = ceilingOf('unloaded echo');
  const out: string[] = [];
  out.push('');
  out.push(`IM benchmark: ${m.cpus} x ${m.model}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Prosody ${m.prosody}`);
  out.push(`N=${params.clients} clients x M=${params.messagesPerClient} messages, W=${params.window} in flight each, warm-up ${params.warmup}; unloaded phases: 1 client, W=1, ${params.latencyMessages} messages`
    + (params.nodelay ? '; gateway XMPP socket with TCP_NODELAY (diagnostic)' : '') + (cpuProfDir ? '; gateway under the CPU profiler' : ''));
  out.push('Latencies: echo = round trip client->Prosody->echo->Prosody->client; X->S = client send -> MESSAGE at the double (includes Prosody\'s hop);');
  out.push('S->X = inject at the double -> stanza at the client (includes Prosody\'s hop), and -> final response (202, after the barrier ping).');
  out.push('');
  const head = ['phase', 'msgs', 'failed', 'msgs/s', 'x ceiling', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'gw us/msg', 'CPU cores gw/prosody/echo/bench', 'gw->xmpp msg/iq'];
  const rows: string[][] = [head];
  for (const r of results) {
    const total = r.loops.reduce((a, l) => a + l.completed, 0);
    const cores = ['gateway', 'prosody', 'echo', 'bench'].map((k) => fmt((r.cpu[k] ?? NaN) / r.wallS, 2)).join(' / ');
    const gwUs = r.cpu.gateway !== undefined && total > 0 ? (r.cpu.gateway * 1e6) / total : undefined;
    r.loops.forEach((l, i) => {
      const dir = l.name.split(' ').pop() ?? '';
      const ref = r.phase.startsWith('loaded') ? ceiling : ceilingUnloaded;
      const ratio = dir !== 'echo' && ref ? l.perSecond / ref : undefined;
      Object.entries(l.latencies).forEach(([mark, values], j) => {
        const s = latencySummary(values);
        const first = j === 0;
        rows.push([
          first ? `${l.name}${l.aborted ? ' (aborted)' : ''}` : '',
          first ? fmt(l.completed) : '',
          first ? fmt(l.failed) : '',
          first ? fmt(l.perSecond) : '',
          first && ratio !== undefined ? fmt(ratio, 2) : '',
          `-> ${mark}`,
          fmt(s.p50, 2), fmt(s.p90, 2), fmt(s.p99, 2), fmt(s.max, 1),
          first && i === 0 ? fmt(gwUs) : '',
          first && i === 0 ? cores : '',
          first && i === 0 && r.cpu.gateway !== undefined ? `${r.stanzasOut.message}/${r.stanzasOut.iq}` : '',
        ]);
      });
    });
  }
  const widths = head.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) out.push(row.map((cell, c) => (c === 0 || c === 5 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  out.push('');
  out.push(`echo ceiling (loaded, mean of the echo phases): ${fmt(ceiling)} round trips/s`);
  const loadedRate = (phaseName: string) => results.find((r) => r.phase === phaseName)?.loops[0]?.perSecond;
  const x2s = loadedRate('loaded X->S');
  const s2x = loadedRate('loaded S->X');
  if (ceiling) {
    out.push(`gateway / ceiling: X->S ${fmt(x2s !== undefined ? x2s / ceiling : NaN, 2)}, S->X ${fmt(s2x !== undefined ? s2x / ceiling : NaN, 2)}`);
  }
  const mb = (x?: { peak: number; rss: number }) => (x ? `${fmt(x.peak, 1)} MiB peak (${fmt(x.rss, 1)} MiB now)` : '-');
  out.push(`gateway RSS: ${mb(final.gatewayMem)}; after start-up ${final.gatewayMemStart ? `${fmt(final.gatewayMemStart.rss, 1)} MiB` : '-'}`);
  out.push(`prosody RSS: ${mb(final.prosodyMem)}; echo component RSS: ${mb(final.echoMem)}`);
  if (final.counters.length) {
    out.push('gateway counters at the end:');
    for (const c of final.counters) out.push(`  ${c}`);
  }
  if (final.warnLines.length) {
    out.push(`gateway warn/error log lines: ${final.warnLines.length}; first: ${final.warnLines.slice(0, 3).join(' | ')}`);
  }
  if (sendErrors) out.push(`client send errors: ${sendErrors}`);
  if (final.error) out.push(`ABORTED: ${final.error}`);
  out.push(`total wall time ${fmt((performance.now() - startedAt) / 1000, 1)} s`);
  console.log(out.join('\n'));

  const json = {
    bench: 'im',
    at: new Date().toISOString(),
    machine: m,
    params,
    phases: results.map((r) => ({
      phase: r.phase,
      wallS: r.wallS,
      cpuSeconds: r.cpu,
      gatewayStanzasOut: r.stanzasOut,
      loops: r.loops.map((l) => ({
        name: l.name, clients: l.clients, window: l.window, planned: l.planned, completed: l.completed, failed: l.failed,
        perSecond: Math.round(l.perSecond), durationMs: Math.round(l.durationMs), aborted: l.aborted, failures: l.failures,
        latencyMs: Object.fromEntries(Object.entries(l.latencies).map(([k, v]) => [k, latencySummary(v)])),
      })),
    })),
    ceiling: ceiling && Math.round(ceiling),
    ratio: { x2s: ceiling && x2s !== undefined ? x2s / ceiling : null, s2x: ceiling && s2x !== undefined ? s2x / ceiling : null },
    gatewayRssMiB: final.gatewayMem ?? null,
    prosodyRssMiB: final.prosodyMem ?? null,
    error: final.error ?? null,
  };
  console.log(JSON.stringify(json));
}

// ---------------------------------------------------------------- main

async function gatewayCounters(): Promise<string[]> {
  if (!gw) return [];
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    return text.split('\n').filter((l) => /^gateway_(im_messages_total|xmpp_stanzas_total|sip_requests_total|sip_responses_total|errors_total)\{/.test(l));
  } catch {
    return [];
  }
}

async function waitHealthy(timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < until) {
    if (gw?.child.exitCode !== null) throw new Error(`gateway exited (${gw?.child.exitCode}):\n${gw?.tail()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(1000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway not healthy within ${timeoutMs} ms (${last}):\n${gw?.tail()}`);
}

async function stopAll(): Promise<void> {
  await Promise.allSettled(clients.map((c) => c.stop()));
  if (echo && echo.exitCode === null && echo.signalCode === null) {
    echo.kill('SIGTERM');
    const t = setTimeout(() => echo?.kill('SIGKILL'), 3000);
    await echoExited;
    clearTimeout(t);
  }
  await gw?.stop().catch(() => undefined);
  await dd?.stop().catch(() => undefined);
  await xmpp?.stop().catch(() => undefined);
}

async function main(): Promise<number> {
  // The hard cap: loops give up at the deadline; if cleanup itself hangs, kill and exit.
  const capTimer = setTimeout(() => { abortReason = `overall cap of ${params.timeoutS} s reached`; }, params.timeoutS * 1000);
  const killTimer = setTimeout(() => {
    console.error('bench: cleanup did not finish; killing the children');
    gw?.child.kill('SIGKILL');
    echo?.kill('SIGKILL');
    void xmpp?.kill();
    setTimeout(() => process.exit(3), 2000);
  }, (params.timeoutS + 30) * 1000);
  killTimer.unref();
  const onSignal = (): void => { abortReason = 'interrupted'; };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let error: string | undefined;
  let gatewayMemStart: { peak: number; rss: number } | undefined;
  const final: Parameters<typeof report>[0] = { counters: [], warnLines: [] };
  try {
    process.stderr.write('bench: starting Prosody, the drachtio double, the gateway and the echo component ...\n');
    const users = Array.from({ length: params.clients }, (_, i) => ({ name: `u${i + 1}`, password: PASSWORD }));
    xmpp = await startProsody({ users, extraComponents: [{ domain: ECHO_DOMAIN, secret: ECHO_SECRET }] });
    dd = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
    wireDouble(dd);
    const maxPending = Math.max(10000, params.clients * params.window * 4);
    const env: Record<string, string> = {};
    const nodeOptions: string[] = [];
    if (cpuProfDir) {
      // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload drives the profiler instead.
      mkdirSync(cpuProfDir, { recursive: true });
      nodeOptions.push(`--import=${resolvePath(REPO_ROOT, 'bench', 'cpu-prof-preload.mjs')}`);
      env.BENCH_CPU_PROF_DIR = cpuProfDir;
    }
    if (params.nodelay) {
      nodeOptions.push(`--import=${resolvePath(REPO_ROOT, 'bench', 'nodelay-preload.mjs')}`);
      env.BENCH_NODELAY_PORT = String(xmpp.componentPort);
    }
    if (nodeOptions.length) env.NODE_OPTIONS = nodeOptions.join(' ');
    [httpPort] = (await allocatePorts(1)) as [number];
    gw = GatewayProcess.spawn(gatewayConfig(xmpp, dd, {
      log: { level: 'warn', format: 'json' },
      im: { maxPending },
      http: { host: '127.0.0.1', port: httpPort },
    }), { env });
    await waitHealthy(30000);
    await dd.waitForRoute('message', { timeoutMs: 10000 });
    await startEcho(xmpp);
    for (let i = 0; i < params.clients; i++) {
      clients.push(await connectClient(xmpp, `u${i + 1}`, PASSWORD, 'bench', { presence: true, timeoutMs: 15000 }));
    }
    // A round trip through the server per client: its presence has been processed.
    await Promise.all(clients.map((c) => c.iq(xml('iq', { type: 'get', to: xmpp!.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 10000)));
    clients.forEach(wireClient);
    gatewayMemStart = memoryMiB(gw.child.pid ?? 0);

    const { clients: n, messagesPerClient: m, window: w, warmup } = params;
    await phase('loaded echo (before)', ['echo'], n, m, w, warmup);
    await phase('loaded X->S', ['x2s'], n, m, w, warmup);
    await phase('loaded S->X', ['s2x'], n, m, w, warmup);
    if (params.mixed) await phase('loaded mixed', ['x2s', 's2x'], n, m, w, warmup);
    await phase('loaded echo (after)', ['echo'], n, m, w, warmup);
    // Unloaded last, when every process is warm: latency without queueing.
    const lat = params.latencyMessages;
    if (lat > 0) {
      const warm = Math.min(50, lat);
      await phase('unloaded echo', ['echo'], 1, lat, 1, warm);
      await phase('unloaded X->S', ['x2s'], 1, lat, 1, warm);
      await phase('unloaded S->X', ['s2x'], 1, lat, 1, warm);
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(capTimer);
    if (gw) {
      final.gatewayMem = memoryMiB(gw.child.pid ?? 0);
      final.counters = await gatewayCounters();
      final.warnLines = gw.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.level}: ${l.message}`);
    }
    final.prosodyMem = memoryMiB(xmpp?.pid ?? 0);
    final.echoMem = memoryMiB(echo?.pid ?? 0);
    if (gatewayMemStart) final.gatewayMemStart = gatewayMemStart;
    process.stderr.write('bench: stopping everything ...\n');
    await stopAll();
  }
  if (error) final.error = error;
  report(final);
  if (cpuProfDir) {
    const files = readdirSync(cpuProfDir).filter((f) => f.endsWith('.cpuprofile'));
    console.error(files.length
      ? `bench: gateway CPU profile in ${cpuProfDir}: ${files.join(', ')} (summary: npx tsx bench/profile-top.ts <file>)`
      : `bench: no CPU profile was written to ${cpuProfDir}`);
  }
  return error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
