// The gateway's /metrics and /healthz, over HTTP on the port the benchmark
// gave it (at log level warn it does not log a port it picked itself).
import { performance } from 'node:perf_hooks';

import type { GatewayProcess } from '../spec/support/gateway-process.js';
import { sleep } from './run.js';

/** `name{labels}` (or a bare `name`) -> value. */
export type Metrics = Map<string, number>;

/** The gateway's metrics; empty when it does not answer. */
export async function metricsSnap(port: number): Promise<Metrics> {
  const out: Metrics = new Map();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    for (const line of (await res.text()).split('\n')) {
      const m = /^(gateway_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
  } catch {
    // counted as zero
  }
  return out;
}

/** The metrics matching `re` that moved between two snapshots, without the `gateway_` prefix. */
export function counterDeltas(before: Metrics, after: Metrics, re: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    if (!re.test(k)) continue;
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k.replace(/^gateway_/, '')] = d;
  }
  return out;
}

/** `name{labels} value` of the metrics whose key matches. */
export function metricLines(m: Metrics, match: RegExp | ((key: string) => boolean)): string[] {
  const test = typeof match === 'function' ? match : (k: string) => match.test(k);
  return [...m].filter(([k]) => test(k)).map(([k, v]) => `${k} ${v}`);
}

/** gateway_table_entries by table, for the tables whose name matches `re`. */
export function tableEntries(m: Metrics, re: RegExp): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) {
    const t = /^gateway_table_entries\{table="([^"]+)"\}$/.exec(k);
    if (t && re.test(t[1]!)) out[t[1]!] = v;
  }
  return out;
}

/** Polls /healthz until it answers 200; throws when the gateway exits or the time is up. */
export async function waitHealthy(gw: GatewayProcess, port: number, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < until) {
    if (gw.child.exitCode !== null) throw new Error(`gateway exited (${gw.child.exitCode}):\n${gw.tail()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`gateway not healthy within ${timeoutMs} ms (${last}):\n${gw.tail()}`);
}
