// What the benchmarks print: numbers, latency summaries, aligned tables, and
// the per-phase table and JSON of bench/presence.ts and bench/chat.ts.
import type { LoopResult } from './loop.js';
import { percentile } from './loop.js';
import type { LoopPhase } from './phases.js';
import type { MachineInfo } from './proc.js';

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export interface LatencySummary { n: number; p50: number; p90: number; p99: number; max: number }

export function latencySummary(values: number[]): LatencySummary {
  return { n: values.length, p50: percentile(values, 0.5), p90: percentile(values, 0.9), p99: percentile(values, 0.99), max: percentile(values, 1) };
}

/** Peak and current resident set of a process, in MiB (bench/proc.ts memoryMiB). */
export interface Mem { peak: number; rss: number }

export const mibText = (x?: Mem): string => (x ? `${fmt(x.rss, 1)} MiB (peak ${fmt(x.peak, 1)})` : '-');

/** `<title>: 2 x <CPU>, <memory>, Linux .., Node .., Prosody ..`. */
export function machineLine(title: string, m: MachineInfo): string {
  return `${title}: ${m.cpus} x ${m.model}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Prosody ${m.prosody}`;
}

/** The other benchmarks and test runs found at the start and at the end of the run (bench/proc.ts otherBenchmarks). */
export function othersLine(atStart: readonly string[], atEnd: readonly string[]): string {
  return `other benchmarks / test runs: at the start ${atStart.length ? atStart.join(' ; ') : 'none'}; `
    + `at the end ${atEnd.length ? atEnd.join(' ; ') : 'none'}`;
}

/** Rows padded to their column's width: the columns in `left` to the left, the others to the right. */
export function alignTable(rows: string[][], left: readonly number[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows.map((row) => row.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
}

/** Cores used per process: CPU seconds / wall seconds, `a / b / c`. */
export function coresText(cpu: Record<string, number>, keys: readonly string[], wallS: number): string {
  return keys.map((k) => fmt((cpu[k] ?? NaN) / wallS, 2)).join(' / ');
}

/** A loop in the JSON line of bench/presence.ts and bench/chat.ts. */
export function loopJson(l: LoopResult) {
  return {
    name: l.name, window: l.window, planned: l.planned, completed: l.completed, failed: l.failed,
    perSecond: Math.round(l.perSecond * 10) / 10, durationMs: Math.round(l.durationMs), aborted: l.aborted ?? null, failures: l.failures,
    latencyMs: Object.fromEntries(Object.entries(l.latencies).map(([k, v]) => [k, latencySummary(v)])),
  };
}

/**
 * The phase table of bench/presence.ts and bench/chat.ts: a row per latency
 * mark, the warm-up below its phase. "gw us/op" is the gateway's CPU over the
 * operations of every loop of the phase (they ran at once).
 */
export function phaseTable(phases: readonly LoopPhase[], coreKeys: readonly string[], coresHead: string): string[] {
  const head = ['phase', 'n', 'failed', 'per s', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'gw us/op', coresHead];
  const rows: string[][] = [head];
  for (const r of phases) {
    const l = r.loop;
    const cores = coresText(r.cpu, coreKeys, r.wallS);
    const ops = phases.filter((p) => p.wallS === r.wallS && p.cpu === r.cpu).reduce((a, p) => a + p.loop.completed, 0);
    const gwUs = r.cpu.gateway !== undefined && ops > 0 ? (r.cpu.gateway * 1e6) / ops : undefined;
    Object.entries(l.latencies).forEach(([mark, values], k) => {
      const s = latencySummary(values);
      const first = k === 0;
      rows.push([
        first ? `${r.name}${l.aborted ? ' (aborted)' : ''}` : '',
        first ? fmt(l.completed) : '', first ? fmt(l.failed) : '', first ? fmt(l.perSecond, 0) : '',
        `-> ${mark}`, fmt(s.p50, 2), fmt(s.p90, 2), fmt(s.p99, 2), fmt(s.max, 1),
        first ? fmt(gwUs) : '', first ? cores : '',
      ]);
    });
    if (r.warm) {
      const w = r.warm;
      const lat = Object.values(w.latencies).at(-1) ?? [];
      rows.push(['  (warm-up)', fmt(w.completed), fmt(w.failed), fmt(w.perSecond), `-> ${Object.keys(w.latencies).at(-1) ?? ''}`,
        fmt(percentile(lat, 0.5), 2), fmt(percentile(lat, 0.9), 2), fmt(percentile(lat, 0.99), 2), fmt(percentile(lat, 1), 1), '', '']);
    }
  }
  return alignTable(rows, [0, 4]);
}

/** A record as text: `k=v k=v` (tables) by default, `k v, k v` (counters) with kv ' ' and between ', '. */
export const entriesText = (r: Record<string, number> | undefined, kv = '=', between = ' '): string =>
  Object.entries(r ?? {}).map(([k, v]) => `${k}${kv}${v}`).join(between);

/** What bench/presence.ts and bench/chat.ts read at the end of a run (bench/gateway.ts runLogs for the logs). */
export interface RunNotes { counters: string[]; warnLines: string[]; stderrLines: string[]; prosodyProblems: string[] }

/** After the figures: what this process saw, the first problems, the gateway's counters, and what the processes logged. */
export function notesLines(seen: Record<string, number>, problems: readonly string[], notes: RunNotes, countersTitle: string): string[] {
  const out: string[] = [];
  out.push(`seen: ${Object.entries(seen).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (problems.length) out.push(`problems (first ${problems.length}): ${problems.join(' | ')}`);
  if (notes.counters.length) {
    out.push(countersTitle);
    for (const c of notes.counters) out.push(`  ${c}`);
  }
  const { warnLines, stderrLines, prosodyProblems } = notes;
  out.push(`gateway warn/error log lines: ${warnLines.length}${warnLines.length ? `; first: ${warnLines.slice(0, 5).join(' | ')}` : ''}`);
  if (stderrLines.length) out.push(`gateway stderr lines: ${stderrLines.length}; first: ${stderrLines.slice(0, 3).join(' | ')}`);
  if (prosodyProblems.length) out.push(`prosody warn/error log lines: ${prosodyProblems.length}; first: ${prosodyProblems.slice(0, 3).join(' | ')}`);
  return out;
}
