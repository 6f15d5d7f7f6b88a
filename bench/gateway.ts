// The gateway process of a benchmark: the diagnostic preloads it runs with,
// its live heap, and what it (and Prosody) logged.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';

import { REPO_ROOT, type GatewayProcess } from '../spec/support/gateway-process.js';
import type { XmppServer } from '../spec/support/xmpp-servers/index.js';
import { sleep } from './run.js';

export interface GatewayDiagnostics {
  /** bench/heap-preload.mjs: a full GC and a `BENCH_HEAP` line on SIGUSR2 (see gatewayHeap). */
  heap?: boolean;
  /** bench/cpu-prof-preload.mjs: a V8 CPU profile written into this directory on exit. */
  cpuProfDir?: string | undefined;
  /** With heap: a heap snapshot into this directory at each reading (slow). */
  heapSnapshotDir?: string | undefined;
  /** bench/nodelay-preload.mjs: TCP_NODELAY on the gateway's connection to this port. */
  nodelayPort?: number | undefined;
}

/** The environment that loads the preloads into the gateway (NODE_OPTIONS, as they run before tsx). */
export function gatewayEnv(d: GatewayDiagnostics): Record<string, string> {
  const env: Record<string, string> = {};
  const preloads: string[] = [];
  const preload = (file: string): void => { preloads.push(`--import=${resolvePath(REPO_ROOT, 'bench', file)}`); };
  if (d.heap) preload('heap-preload.mjs');
  if (d.heap && d.heapSnapshotDir) {
    mkdirSync(d.heapSnapshotDir, { recursive: true });
    env.BENCH_HEAP_SNAPSHOT_DIR = d.heapSnapshotDir;
  }
  if (d.cpuProfDir) {
    // Node 20 refuses --cpu-prof in NODE_OPTIONS: the preload drives the profiler instead.
    mkdirSync(d.cpuProfDir, { recursive: true });
    preload('cpu-prof-preload.mjs');
    env.BENCH_CPU_PROF_DIR = d.cpuProfDir;
  }
  if (d.nodelayPort !== undefined) {
    preload('nodelay-preload.mjs');
    env.BENCH_NODELAY_PORT = String(d.nodelayPort);
  }
  if (preloads.length) env.NODE_OPTIONS = preloads.join(' ');
  return env;
}

/** process.memoryUsage() of the gateway right after a full GC, in MiB. */
export interface Heap { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }

/** The gateway's memory after a full GC (bench/heap-preload.mjs); undefined when it does not answer. */
export async function gatewayHeap(g: GatewayProcess | undefined, snapshots: boolean): Promise<Heap | undefined> {
  if (!g) return undefined;
  const from = g.stderr.length;
  if (g.child.exitCode !== null || !g.child.kill('SIGUSR2')) return undefined;
  const until = performance.now() + (snapshots ? 120000 : 15000);
  while (performance.now() < until) {
    const line = g.stderr.slice(from).find((l) => l.startsWith('BENCH_HEAP '));
    if (line) {
      const m = JSON.parse(line.slice('BENCH_HEAP '.length)) as Record<string, number>;
      const mib = (k: string) => Math.round(((m[k] ?? NaN) / 2 ** 20) * 10) / 10;
      return { rss: mib('rss'), heapUsed: mib('heapUsed'), heapTotal: mib('heapTotal'), external: mib('external'), arrayBuffers: mib('arrayBuffers') };
    }
    await sleep(20);
  }
  return undefined;
}

/** The gateways' warn and error log lines, and stdout lines that are not JSON ('raw'). */
export function gatewayWarnLines(gateways: readonly GatewayProcess[]): string[] {
  return gateways.flatMap((g) => g.lines.filter((l) => l.level === 'warn' || l.level === 'error' || l.level === 'raw')
    .map((l) => `${l.level}: ${l.message}${l.err ? ` (${String(l.err).slice(0, 200)})` : ''}`));
}

/** What the gateways wrote on stderr, but for the heap readings. */
export function gatewayStderr(gateways: readonly GatewayProcess[]): string[] {
  return gateways.flatMap((g) => g.stderr.filter((l) => !l.startsWith('BENCH_HEAP ')));
}

/** Prosody's warn and error log lines. */
export function prosodyProblems(xmpp: XmppServer | undefined): string[] {
  if (!xmpp) return [];
  try {
    return readFileSync(join(xmpp.dir, 'prosody.log'), 'utf8').split('\n').filter((l) => /\t(warn|error)\t/.test(l));
  } catch {
    return [];
  }
}

/** The logs a report shows: the gateways' warn/error lines and stderr, Prosody's warnings. */
export function runLogs(gateways: readonly GatewayProcess[], xmpp: XmppServer | undefined): { warnLines: string[]; stderrLines: string[]; prosodyProblems: string[] } {
  return { warnLines: gatewayWarnLines(gateways), stderrLines: gatewayStderr(gateways), prosodyProblems: prosodyProblems(xmpp) };
}
