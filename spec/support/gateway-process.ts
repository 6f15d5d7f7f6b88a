// Runs the gateway as a real process (node + tsx + src/main.ts), the way an
// operator runs it, and reads its JSON log lines back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface LogLine {
  level: string;
  message: string;
  module?: string;
  [k: string]: unknown;
}

export class GatewayProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];

  private constructor(readonly child: ChildProcess, private readonly dir: string) {
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 'raw', message: text };
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.pred(line) ? (w.resolve(line), false) : true));
    });
    createInterface({ input: child.stderr! }).on('line', (text) => this.stderr.push(text));
  }

  /** Spawns the gateway with a config file holding `config` (JSON logs at debug level unless overridden). */
  static spawn(config: Record<string, unknown>, opts: { env?: Record<string, string>; args?: string[] } = {}): GatewayProcess {
    const dir = mkdtempSync(join(tmpdir(), 'gw-proc-'));
    const cfgPath = join(dir, 'gateway.json');
    const withDefaults = { log: { level: 'debug', format: 'json' }, dataDir: join(dir, 'data'), ...config };
    writeFileSync(cfgPath, JSON.stringify(withDefaults, null, 2));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'main.ts'), '--config', cfgPath, ...(opts.args ?? [])], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new GatewayProcess(child, dir);
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 10000, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last lines:\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => { clearTimeout(timer); resolve(l); } });
    });
  }

  waitForMessage(message: string | RegExp, timeoutMs = 10000): Promise<LogLine> {
    const test = (l: LogLine) => (typeof message === 'string' ? l.message === message : message.test(l.message));
    return this.waitForLog(test, timeoutMs, String(message));
  }

  /** Waits for the HTTP port from the "health and metrics listening" line. */
  async httpPort(timeoutMs = 10000): Promise<number> {
    const line = await this.waitForMessage('health and metrics listening', timeoutMs);
    return line.port as number;
  }

  async health(): Promise<{ status: number; body: { status: string; down: string[] } }> {
    const res = await fetch(`http://127.0.0.1:${await this.httpPort()}/healthz`);
    return { status: res.status, body: (await res.json()) as { status: string; down: string[] } };
  }

  /** Polls /healthz until it answers `status`. */
  async waitForHealth(status: 200 | 503, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 0;
    while (Date.now() < deadline) {
      try {
        last = (await this.health()).status;
        if (last === status) return;
      } catch {
        last = -1;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`/healthz stayed ${last}, expected ${status}; last lines:\n${this.tail()}`);
  }

  tail(n = 15): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-5)].join('\n');
  }

  /** Sends a signal and waits for exit; SIGKILLs after timeoutMs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }
}
