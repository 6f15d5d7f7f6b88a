// A closed-loop load generator: each of `clients` senders keeps `window`
// messages in flight and sends the next one when one of its messages is
// done. A message is done once every mark it needs has been seen (for
// example 'arrival' at the SIP side, or both 'response' and 'stanza'), or
// when it fails. Marks are reported by sequence number from wherever they
// are observed (XMPP client, drachtio double); sequence numbers are unique
// across loops, so a mark for a message of a finished loop is ignored.
import { performance } from 'node:perf_hooks';

export interface LoopOptions {
  name: string;
  clients: number;
  perClient: number;
  window: number;
  /** Marks a message needs before it is done. */
  marks: readonly string[];
  /** Sends message `seq` for sender `client`; must not throw (report failures with ClosedLoop.fail). */
  send(client: number, seq: number): void;
  /** performance.now() after which the loop gives up. */
  deadline: number;
  /** Gives up when nothing completes for this long (ms). */
  stallMs: number;
  /** Checked periodically; a string aborts the loop with that reason. */
  abortReason?: () => string | undefined;
}

export interface LoopResult {
  name: string;
  clients: number;
  window: number;
  /** Messages the loop meant to send. */
  planned: number;
  sent: number;
  /** Done with every mark. */
  completed: number;
  failed: number;
  /** From the first send to the last completion. */
  durationMs: number;
  /** Completed (not failed) messages per second. */
  perSecond: number;
  /** Send -> mark, in ms, per mark, for completed messages. */
  latencies: Record<string, number[]>;
  failures: string[];
  aborted?: string;
}

interface Flight {
  client: number;
  t0: number;
  marks: Map<string, number>;
}

const owners = new Map<number, ClosedLoop>();
let nextSeq = 1;

export class ClosedLoop {
  private readonly flights = new Map<number, Flight>();
  private readonly sentBy: number[];
  private readonly latencies: Record<string, number[]> = {};
  private readonly failures: string[] = [];
  private sent = 0;
  private completed = 0;
  private failed = 0;
  private startedAt = 0;
  private lastDoneAt = 0;
  private finish: ((r: LoopResult) => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private over = false;

  constructor(private readonly opts: LoopOptions) {
    this.sentBy = new Array<number>(opts.clients).fill(0);
    for (const m of opts.marks) this.latencies[m] = [];
  }

  /** A mark for message `seq`, seen now (ignored for unknown or finished messages). */
  static mark(seq: number, mark: string, at = performance.now()): void {
    owners.get(seq)?.onMark(seq, mark, at);
  }

  /** Message `seq` failed (an error stanza, a SIP error, a send that threw); it frees its window slot. */
  static fail(seq: number, why: string): void {
    owners.get(seq)?.onFail(seq, why);
  }

  run(): Promise<LoopResult> {
    return new Promise<LoopResult>((resolve) => {
      this.finish = resolve;
      this.startedAt = performance.now();
      this.lastDoneAt = this.startedAt;
      this.watchdog = setInterval(() => this.check(), 100);
      for (let c = 0; c < this.opts.clients; c++) {
        for (let i = 0; i < this.opts.window && this.sentBy[c]! < this.opts.perClient; i++) this.sendNext(c);
      }
      this.maybeDone();
    });
  }

  private sendNext(client: number): void {
    const seq = nextSeq++;
    this.sentBy[client]! += 1;
    this.sent += 1;
    owners.set(seq, this);
    this.flights.set(seq, { client, t0: performance.now(), marks: new Map() });
    this.opts.send(client, seq);
  }

  private onMark(seq: number, mark: string, at: number): void {
    const f = this.flights.get(seq);
    if (!f || f.marks.has(mark) || !(mark in this.latencies)) return;
    f.marks.set(mark, at);
    if (f.marks.size < this.opts.marks.length) return;
    for (const [m, t] of f.marks) this.latencies[m]!.push(t - f.t0);
    this.completed += 1;
    this.done(seq, f, at);
  }

  private onFail(seq: number, why: string): void {
    const f = this.flights.get(seq);
    if (!f) return;
    this.failed += 1;
    if (this.failures.length < 10) this.failures.push(why);
    this.done(seq, f, performance.now());
  }

  private done(seq: number, f: Flight, at: number): void {
    this.flights.delete(seq);
    owners.delete(seq);
    this.lastDoneAt = Math.max(this.lastDoneAt, at);
    if (this.over) return;
    if (this.sentBy[f.client]! < this.opts.perClient) this.sendNext(f.client);
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.completed + this.failed >= this.opts.clients * this.opts.perClient) this.end();
  }

  private check(): void {
    const now = performance.now();
    const reason = this.opts.abortReason?.()
      ?? (now > this.opts.deadline ? 'time cap reached' : undefined)
      ?? (now - this.lastDoneAt > this.opts.stallMs ? `stalled: nothing completed for ${this.opts.stallMs} ms (${this.flights.size} in flight)` : undefined);
    if (reason) this.end(reason);
  }

  private end(aborted?: string): void {
    if (this.over) return;
    this.over = true;
    clearInterval(this.watchdog);
    for (const seq of this.flights.keys()) owners.delete(seq);
    const durationMs = Math.max(this.lastDoneAt - this.startedAt, 1e-3);
    const result: LoopResult = {
      name: this.opts.name,
      clients: this.opts.clients,
      window: this.opts.window,
      planned: this.opts.clients * this.opts.perClient,
      sent: this.sent,
      completed: this.completed,
      failed: this.failed,
      durationMs,
      perSecond: this.completed / (durationMs / 1000),
      latencies: this.latencies,
      failures: this.failures,
      ...(aborted ? { aborted } : {}),
    };
    this.finish?.(result);
  }
}

/** Nearest-rank percentile (q in 0..1) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
