// Measured phases: closed loops run at once, with the CPU each process used
// and the gateway counters that moved meanwhile. `measure` is the common part;
// `runPhase` is the phase of bench/presence.ts and bench/chat.ts (one sender,
// a window, items chosen by index, a warm-up reported apart).
import { performance } from 'node:perf_hooks';

import { cpuDelta, type CpuSnap } from './cpu.js';
import type { LoopResult } from './loop.js';
import { counterDeltas, type Metrics } from './metrics.js';
import type { BenchRun } from './run.js';

export interface Measured<T> {
  result: T;
  wallS: number;
  /** CPU seconds per process during the run. */
  cpu: Record<string, number>;
  /** The gateway's metrics before and after. */
  before: Metrics;
  after: Metrics;
}

export async function measure<T>(run: () => Promise<T>, cpu: () => CpuSnap, metrics: () => Promise<Metrics>): Promise<Measured<T>> {
  const before = await metrics();
  const c0 = cpu();
  const t0 = performance.now();
  const result = await run();
  const wallS = (performance.now() - t0) / 1000;
  const used = cpuDelta(c0, cpu());
  const after = await metrics();
  return { result, wallS, cpu: used, before, after };
}

export interface LoopSpec {
  name: string;
  marks: readonly string[];
  /** The item (pair or session index) the k-th message of the loop is about. */
  items: (k: number) => number;
  send: (item: number, seq: number) => void;
}

export interface LoopPhase {
  name: string;
  warm?: LoopResult;
  loop: LoopResult;
  wallS: number;
  cpu: Record<string, number>;
  /** Gateway counters that moved during the measured part (from /metrics). */
  counters: Record<string, number>;
  /** The gauge of PhaseContext.gauge at the end of the phase. */
  gaugeAfter?: number;
}

export interface PhaseContext {
  run: BenchRun;
  cpu: () => CpuSnap;
  metrics: () => Promise<Metrics>;
  /** The counters reported per phase. */
  counters: RegExp;
  /** A gauge read at the end of each phase (for example gateway_chat_sessions). */
  gauge?: string;
  /** Every phase, in order, for the report. */
  phases: LoopPhase[];
}

/** One closed loop (bench/loop.ts) whose k-th message goes to item `items(k)`. */
function closedLoop(run: BenchRun, name: string, spec: LoopSpec, from: number, count: number, window: number): Promise<LoopResult> {
  let k = from;
  return run.loop({
    name, clients: 1, perClient: count, window, marks: spec.marks,
    send: (_client: number, seq: number) => spec.send(spec.items(k++), seq),
  }).run();
}

/**
 * A warm-up of `warm` messages per loop, then `count` measured, the loops of
 * `specs` at once. Throws when a loop aborts or a message fails; the phase is
 * recorded first, one entry per loop (the warm-up with the first).
 */
export async function runPhase(ctx: PhaseContext, name: string, specs: LoopSpec[], warm: number, count: number, window: number): Promise<LoopPhase> {
  process.stderr.write(`bench: ${name} (${warm ? `${warm} warm-up + ` : ''}${count}, window ${window}) ...\n`);
  let warmResult: LoopResult | undefined;
  if (warm > 0) {
    const ws = await Promise.all(specs.map((s) => closedLoop(ctx.run, `${s.name} warm-up`, s, 0, warm, window)));
    warmResult = ws[0]!;
    const bad = ws.find((w) => w.aborted || w.failed > 0);
    if (bad) throw new Error(`${name} warm-up: ${bad.aborted ?? `${bad.failed} failed`}; failures: ${bad.failures.join('; ') || 'none'}`);
  }
  // After a warm-up, the measured loops continue with the next items.
  const m = await measure(() => Promise.all(specs.map((s) => closedLoop(ctx.run, s.name, s, warm, count, window))), ctx.cpu, ctx.metrics);
  const counters = counterDeltas(m.before, m.after, ctx.counters);
  const gauge = ctx.gauge === undefined ? undefined : m.after.get(ctx.gauge);
  let first: LoopPhase | undefined;
  m.result.forEach((loop, n) => {
    const r: LoopPhase = {
      name: specs.length > 1 ? `${name}: ${loop.name}` : name, ...(warmResult && n === 0 ? { warm: warmResult } : {}),
      loop, wallS: m.wallS, cpu: m.cpu, counters, ...(gauge !== undefined ? { gaugeAfter: gauge } : {}),
    };
    ctx.phases.push(r);
    first ??= r;
  });
  for (const loop of m.result) {
    if (loop.aborted) throw new Error(`${name}: ${loop.aborted}; failures: ${loop.failures.join('; ') || 'none'}`);
    if (loop.failed > 0) throw new Error(`${name}: ${loop.failed} failed; first: ${loop.failures.join('; ')}`);
  }
  return first!;
}
