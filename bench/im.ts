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
import { resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';

import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

import { DRACHTIO_SECRET, PROXY_PEER, gatewayConfig, sipRequest } from '../spec/support/bed.js';
import { DrachtioDouble, type InboundTransaction, type OutboundRequest, type SipMessage } from '../spec/support/drachtio-double/index.js';
import { GatewayProcess, REPO_ROOT } from '../spec/support/gateway-process.js';
import { allocatePorts, connectClient, startProsody, type TestClient, type XmppServer } from '../spec/support/xmpp-servers/index.js';
import { cpuSnap as cpuOf } from './cpu.js';
import { Injected, serveDouble } from './double.js';
import { envDir, envInt } from './env.js';
import { gatewayEnv, gatewayWarnLines } from './gateway.js';
import { ClosedLoop, type LoopResult } from './loop.js';
import { metricLines, metricsSnap, waitHealthy } from './metrics.js';
import { measure } from './phases.js';
import { machineInfo, memoryMiB } from './proc.js';
import { alignTable, coresText, fmt, latencySummary, machineLine, type Mem } from './report.js';
import { BenchRun, runMain } from './run.js';
import { stanzaError } from './xmpp.js';

// ---------------------------------------------------------------- parameters

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
const cpuProfDir = envDir('BENCH_CPU_PROF');

const ECHO_DOMAIN = 'echo.example.test';
const ECHO_SECRET = 'echo-bench-secret';
const PASSWORD = 'bench-pass';

const run = new BenchRun(params.timeoutS, params.stallS);

// ---------------------------------------------------------------- the bed

let xmpp: XmppServer | undefined;
let dd: DrachtioDouble | undefined;
let gw: GatewayProcess | undefined;
let echo: ChildProcess | undefined;
let echoExited: Promise<void> | undefined;
/** The gateway's /healthz and /metrics port (fixed: at log level warn it does not log the port it picked). */
let httpPort = 0;
const clients: TestClient[] = [];

/** S->X transactions in flight, with their message sequence number. */
const s2xInjected = new Injected<{ seq: number; tx: InboundTransaction }>();
let sendErrors = 0;

function seqOf(text: string | undefined | null): number | undefined {
  const m = /^b(\d+)$/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
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
  serveDouble(double, {
    onRequest: (req: OutboundRequest) => {
      if (req.method !== 'MESSAGE') return;
      req.respond(200);
      const seq = seqOf(req.body);
      if (seq !== undefined) ClosedLoop.mark(seq, 'arrival');
    },
    injected: s2xInjected,
    onFinal: (rec, final: SipMessage) => {
      if (final.status === 202) ClosedLoop.mark(rec.seq, 'response');
      else ClosedLoop.fail(rec.seq, `SIP ${final.status} ${final.reason}`);
    },
  });
}

function wireClient(c: TestClient): void {
  c.xmpp.on('stanza', (el: Element) => {
    if (el.name !== 'message') return;
    if (el.attrs.type === 'error') {
      const seq = seqOf(String(el.attrs.id ?? ''));
      if (seq !== undefined) ClosedLoop.fail(seq, stanzaError(el));
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
    const notRouted = s2xInjected.track({ seq, tx }, 'MESSAGE');
    if (notRouted) ClosedLoop.fail(seq, notRouted);
  },
};

type Direction = keyof typeof senders;
const MARKS: Record<Direction, readonly string[]> = { echo: ['stanza'], x2s: ['arrival'], s2x: ['response', 'stanza'] };

// ---------------------------------------------------------------- phases

const cpuSnap = () => cpuOf({ gateway: gw?.child.pid, prosody: xmpp?.pid, echo: echo?.pid });

interface PhaseResult {
  phase: string;
  loops: LoopResult[];
  wallS: number;
  /** CPU seconds per process during the measured part. */
  cpu: Record<string, number>;
  /** Stanzas the gateway sent to the XMPP server during the measured part, by kind (from /metrics). */
  stanzasOut: { message: number; iq: number };
}

const OUT_MESSAGE = 'gateway_xmpp_stanzas_total{direction="out",kind="message"}';
const OUT_IQ = 'gateway_xmpp_stanzas_total{direction="out",kind="iq"}';

const results: PhaseResult[] = [];

function loop(name: string, dir: Direction, clientCount: number, perClient: number, window: number): ClosedLoop {
  return run.loop({ name, clients: clientCount, perClient, window, marks: MARKS[dir], send: senders[dir] });
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
  const m = await measure(() => Promise.all(dirs.map((d) => loop(`${name} ${d}`, d, clientCount, perClient, window).run())),
    cpuSnap, () => metricsSnap(httpPort));
  const delta = (k: string) => (m.after.get(k) ?? 0) - (m.before.get(k) ?? 0);
  const loops = m.result;
  const r: PhaseResult = { phase: name, loops, wallS: m.wallS, cpu: m.cpu, stanzasOut: { message: delta(OUT_MESSAGE), iq: delta(OUT_IQ) } };
  results.push(r);
  const aborted = loops.find((l) => l.aborted);
  if (aborted) throw new Error(`${name}: ${aborted.aborted}`);
  return r;
}

// ---------------------------------------------------------------- report

function ceilingOf(prefix: string): number | undefined {
  const rates = results.filter((r) => r.phase.startsWith(prefix)).map((r) => r.loops[0]!.perSecond).filter((x) => x > 0);
  return rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : undefined;
}

interface Final { gatewayMem?: Mem; gatewayMemStart?: Mem; prosodyMem?: Mem; echoMem?: Mem; counters: string[]; warnLines: string[]; error?: string }

function report(final: Final): void {
  const m = machineInfo();
  const ceiling = ceilingOf('loaded echo');
  const ceilingUnloaded = ceilingOf('unloaded echo');
  const out: string[] = [];
  out.push('');
  out.push(machineLine('IM benchmark', m));
  out.push(`N=${params.clients} clients x M=${params.messagesPerClient} messages, W=${params.window} in flight each, warm-up ${params.warmup}; unloaded phases: 1 client, W=1, ${params.latencyMessages} messages`
    + (params.nodelay ? '; gateway XMPP socket with TCP_NODELAY (diagnostic)' : '') + (cpuProfDir ? '; gateway under the CPU profiler' : ''));
  out.push('Latencies: echo = round trip client->Prosody->echo->Prosody->client; X->S = client send -> MESSAGE at the double (includes Prosody\'s hop);');
  out.push('S->X = inject at the double -> stanza at the client (includes Prosody\'s hop), and -> final response (202, after the barrier ping).');
  out.push('');
  const head = ['phase', 'msgs', 'failed', 'msgs/s', 'x ceiling', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'gw us/msg', 'CPU cores gw/prosody/echo/bench', 'gw->xmpp msg/iq'];
  const rows: string[][] = [head];
  for (const r of results) {
    const total = r.loops.reduce((a, l) => a + l.completed, 0);
    const cores = coresText(r.cpu, ['gateway', 'prosody', 'echo', 'bench'], r.wallS);
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
  out.push(...alignTable(rows, [0, 5]));
  out.push('');
  out.push(`echo ceiling (loaded, mean of the echo phases): ${fmt(ceiling)} round trips/s`);
  const loadedRate = (phaseName: string) => results.find((r) => r.phase === phaseName)?.loops[0]?.perSecond;
  const x2s = loadedRate('loaded X->S');
  const s2x = loadedRate('loaded S->X');
  if (ceiling) {
    out.push(`gateway / ceiling: X->S ${fmt(x2s !== undefined ? x2s / ceiling : NaN, 2)}, S->X ${fmt(s2x !== undefined ? s2x / ceiling : NaN, 2)}`);
  }
  const mb = (x?: Mem) => (x ? `${fmt(x.peak, 1)} MiB peak (${fmt(x.rss, 1)} MiB now)` : '-');
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
  out.push(`total wall time ${fmt(run.elapsedS(), 1)} s`);
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

const COUNTER_RE = /^gateway_(im_messages_total|xmpp_stanzas_total|sip_requests_total|sip_responses_total|errors_total)\{/;

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
  run.arm(30, () => {
    gw?.child.kill('SIGKILL');
    echo?.kill('SIGKILL');
    void xmpp?.kill();
  });

  const final: Final = { counters: [], warnLines: [] };
  return run.execute({
    measure: async () => {
      process.stderr.write('bench: starting Prosody, the drachtio double, the gateway and the echo component ...\n');
      const users = Array.from({ length: params.clients }, (_, i) => ({ name: `u${i + 1}`, password: PASSWORD }));
      xmpp = await startProsody({ users, extraComponents: [{ domain: ECHO_DOMAIN, secret: ECHO_SECRET }] });
      dd = await DrachtioDouble.start({ secret: DRACHTIO_SECRET });
      wireDouble(dd);
      const maxPending = Math.max(10000, params.clients * params.window * 4);
      const env = gatewayEnv({ cpuProfDir, nodelayPort: params.nodelay ? xmpp.componentPort : undefined });
      [httpPort] = (await allocatePorts(1)) as [number];
      gw = GatewayProcess.spawn(gatewayConfig(xmpp, dd, {
        log: { level: 'warn', format: 'json' },
        im: { maxPending },
        http: { host: '127.0.0.1', port: httpPort },
      }), { env });
      await waitHealthy(gw, httpPort, 30000);
      await dd.waitForRoute('message', { timeoutMs: 10000 });
      await startEcho(xmpp);
      for (let i = 0; i < params.clients; i++) {
        clients.push(await connectClient(xmpp, `u${i + 1}`, PASSWORD, 'bench', { presence: true, timeoutMs: 15000 }));
      }
      // A round trip through the server per client: its presence has been processed.
      await Promise.all(clients.map((c) => c.iq(xml('iq', { type: 'get', to: xmpp!.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })), 10000)));
      clients.forEach(wireClient);
      final.gatewayMemStart = memoryMiB(gw.child.pid ?? 0);

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
    },
    collect: async () => {
      if (gw) {
        final.gatewayMem = memoryMiB(gw.child.pid ?? 0);
        final.counters = metricLines(await metricsSnap(httpPort), COUNTER_RE);
        final.warnLines = gatewayWarnLines([gw]);
      }
      final.prosodyMem = memoryMiB(xmpp?.pid ?? 0);
      final.echoMem = memoryMiB(echo?.pid ?? 0);
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
