// The frame of one benchmark run: its clock and overall cap, what aborts it
// (the cap, Ctrl-C, a process that went away), the closed loops it starts,
// and how the process ends.
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { ClosedLoop, type LoopOptions } from './loop.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BenchRun {
  readonly startedAt = performance.now();
  /** performance.now() after which loops give up. */
  readonly deadline: number;
  /** Set when the run must stop; loops and waits check it. */
  abortReason: string | undefined;
  private capTimer: NodeJS.Timeout | undefined;

  constructor(readonly timeoutS: number, private readonly stallS: number) {
    this.deadline = this.startedAt + timeoutS * 1000;
  }

  /**
   * The hard cap: loops give up at the deadline; if cleanup itself hangs
   * `killAfterS` seconds past it, `kill` runs and the process exits 3.
   * SIGINT and SIGTERM abort the run, which then cleans up as usual.
   */
  arm(killAfterS: number, kill: () => void): void {
    this.capTimer = setTimeout(() => { this.abortReason = `overall cap of ${this.timeoutS} s reached`; }, this.timeoutS * 1000);
    const killTimer = setTimeout(() => {
      console.error('bench: cleanup did not finish; killing the children');
      kill();
      setTimeout(() => process.exit(3), 2000);
    }, (this.timeoutS + killAfterS) * 1000);
    killTimer.unref();
    const onSignal = (): void => { this.abortReason = 'interrupted'; };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  /** The measurements are over: the cap no longer aborts (the kill timer still guards the cleanup). */
  disarm(): void {
    clearTimeout(this.capTimer);
  }

  /** A closed loop (bench/loop.ts) that gives up at the deadline, after stallS without progress, or when the run aborts. */
  loop(opts: Omit<LoopOptions, 'deadline' | 'stallMs' | 'abortReason'>): ClosedLoop {
    return new ClosedLoop({ ...opts, deadline: this.deadline, stallMs: this.stallS * 1000, abortReason: () => this.abortReason });
  }

  /**
   * Runs `measure`; then, also after a failure or an abort, `collect`s what
   * the report needs while the processes still run and `stop`s them all; then
   * `report`s, with the error if there was one. Resolves to the exit code: 1
   * when the measurements failed.
   */
  async execute(steps: {
    measure(): Promise<void>;
    collect(): Promise<void>;
    stop(): Promise<void>;
    report(error: string | undefined): void;
    cpuProfDir?: string | undefined;
  }): Promise<number> {
    let error: string | undefined;
    try {
      await steps.measure();
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    } finally {
      this.disarm();
      await steps.collect();
      process.stderr.write('bench: stopping everything ...\n');
      await steps.stop();
    }
    steps.report(error);
    reportCpuProfiles(steps.cpuProfDir);
    return error ? 1 : 0;
  }

  /** Seconds since the run started. */
  elapsedS(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
}

/** Names the CPU profiles the gateway wrote into `dir` (BENCH_CPU_PROF), on stderr. */
function reportCpuProfiles(dir: string | undefined): void {
  if (!dir) return;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  console.error(files.length
    ? `bench: gateway CPU profile${files.length > 1 ? 's' : ''} in ${dir}: ${files.join(', ')} (summary: npx tsx bench/profile-top.ts <file>)`
    : `bench: no CPU profile was written to ${dir}`);
}

/** Runs the benchmark and exits with its code (1 on an exception). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
