// Child-process plumbing for the private XMPP servers: spawning into an own
// process group, waiting for exit (never a shell in between, so no zombies
// left to PID 1), killing the whole group, and a last-resort cleanup when the
// test process exits without stopping its servers.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function keepDirs(): boolean {
  const v = process.env.KEEP_XMPP_DIR;
  return v !== undefined && v !== '' && v !== '0';
}

/** First executable called `name` in $PATH or in `extraDirs` (e.g. /usr/sbin, which a non-root PATH often lacks). */
export function findExecutable(name: string, extraDirs: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

// `setpriv --pdeathsig KILL` makes the kernel kill the server if the test
// process dies without running any cleanup (SIGKILL, OOM, runner timeout).
// The signal survives the exec chain (setpriv -> ejabberdctl -> erl ->
// erlexec -> beam.smp). It fires when the spawning *thread* exits; we always
// spawn from the main thread.
let pdeathsigPrefix: string[] | undefined;
function deathSignalPrefix(): string[] {
  if (pdeathsigPrefix) return pdeathsigPrefix;
  pdeathsigPrefix = [];
  const setpriv = findExecutable('setpriv', ['/usr/bin', '/bin']);
  if (setpriv && process.platform === 'linux') {
    const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
    if (probe.status === 0) pdeathsigPrefix = [setpriv, '--pdeathsig', 'KILL', '--'];
  }
  return pdeathsigPrefix;
}

// ---- last-resort cleanup registry -------------------------------------------------

const liveProcesses = new Set<ManagedProcess>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function emergencyCleanup(): void {
  for (const p of liveProcesses) p.killGroupSync();
  liveProcesses.clear();
  if (!keepDirs()) {
    for (const d of liveDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  }
  liveDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  emergencyCleanup();
  process.removeListener(signal, onSignal);
  // Re-raise with the default disposition unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
}

export function trackDir(dir: string): void {
  installHooks();
  liveDirs.add(dir);
}

/** Removes the temp dir (unless KEEP_XMPP_DIR) and forgets it. */
export function releaseDir(dir: string): void {
  liveDirs.delete(dir);
  if (!keepDirs()) rmSync(dir, { recursive: true, force: true });
}

// ---- /proc helpers -------------------------------------------------------------------

/** Pids of processes in process group `pgid` that are not zombies (Linux only; [] elsewhere). */
export function livingGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push(Number(e));
  }
  return out;
}

/** True while `pid` exists (a zombie counts). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- managed process --------------------------------------------------------------------

export interface SpawnOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr of the process are appended to this file. */
  outputFile: string;
}

export class ManagedProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | null = null;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid ?? 0;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        liveProcesses.delete(this);
        resolve(this.exitInfo);
      });
      child.once('error', (error) => {
        if (this.exitInfo) return;
        // spawn failure (no 'exit' follows when there is no pid)
        if (child.pid === undefined) {
          this.exitInfo = { code: null, signal: null, error };
          liveProcesses.delete(this);
          resolve(this.exitInfo);
        }
      });
    });
  }

  /** Spawns `command` directly (no shell) as leader of a new process group; output goes to a file. */
  static spawn(command: string, args: string[], opts: SpawnOptions): ManagedProcess {
    installHooks();
    const out = openSync(opts.outputFile, 'a');
    let child: ChildProcess;
    try {
      const prefix = deathSignalPrefix();
      const [cmd, ...rest] = prefix.length > 0 ? [...prefix, command, ...args] : [command, ...args];
      child = spawn(cmd as string, rest, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', out, out],
        detached: true, // own session and process group: we can signal the whole tree
      });
    } finally {
      closeSync(out);
    }
    // Do not keep the test process alive just because a server runs: if a test
    // forgets stop(), the process still ends and the 'exit' hook kills the group.
    child.unref();
    const p = new ManagedProcess(child);
    if (p.pid) liveProcesses.add(p);
    return p;
  }

  get running(): boolean {
    return this.exitInfo === null && this.pid !== 0;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (!this.pid) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: group already gone
    }
  }

  killGroupSync(): void {
    this.signalGroup('SIGKILL');
  }

  /** Waits for exit, keeping the event loop alive meanwhile; null on timeout. */
  async waitExit(timeoutMs: number): Promise<ExitInfo | null> {
    if (this.exitInfo) return this.exitInfo;
    this.child.ref();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.child.unref();
    }
  }

  /** After the leader exited: SIGKILL whatever is left in its group and wait until nothing living remains. */
  private async reapGroup(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.signalGroup('SIGKILL');
      const left = livingGroupMembers(this.pid);
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new Error(`processes of group ${this.pid} survived SIGKILL: ${left.join(', ')}`);
      await sleep(10);
    }
  }

  /** SIGTERM to the leader (the server itself), SIGKILL to the group after `timeoutMs`. */
  async terminate(timeoutMs = 10000): Promise<ExitInfo> {
    if (this.running) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    let info = await this.waitExit(timeoutMs);
    if (!info) {
      this.signalGroup('SIGKILL');
      info = await this.waitExit(5000);
      if (!info) throw new Error(`process ${this.pid} did not exit after SIGKILL`);
    }
    await this.reapGroup();
    return info;
  }

  /** SIGKILL to the whole group. */
  async kill(): Promise<ExitInfo> {
    this.signalGroup('SIGKILL');
    const info = await this.waitExit(5000);
    if (!info) throw new Error(`process ${this.pid} did not exit after SIGKILL`);
    await this.reapGroup();
    return info;
  }
}

// ---- readiness ---------------------------------------------------------------------------

export function tcpProbe(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export interface WaitReadyOptions {
  timeoutMs: number;
  /** Context for error messages (log tail). */
  describe: () => string;
  /** Checked on every round: an error aborts the wait at once. */
  failFast?: () => Error | null;
  /**
   * Must also be true before the server counts as ready. A port that accepts may
   * belong to somebody else, so servers confirm from their own log that they
   * bound exactly these ports.
   */
  confirmed?: () => boolean;
}

/**
 * Resolves once every port accepts a TCP connection and `confirmed()` holds.
 * Rejects when the process exits first, `failFast()` returns an error, or
 * `timeoutMs` passes.
 */
export async function waitForPorts(
  proc: ManagedProcess,
  host: string,
  ports: number[],
  opts: WaitReadyOptions,
): Promise<void> {
  const pending = new Set(ports);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const early = opts.failFast?.();
    if (early) throw early;
    if (!proc.running) {
      const info = proc.exitInfo;
      throw new Error(
        `server process exited before listening (code ${info?.code}, signal ${info?.signal}${info?.error ? `, ${info.error.message}` : ''})\n${opts.describe()}`,
      );
    }
    if (!opts.confirmed || opts.confirmed()) {
      for (const port of [...pending]) {
        if (await tcpProbe(host, port)) pending.delete(port);
      }
      if (pending.size === 0) return;
    }
    if (Date.now() > deadline) {
      const what = pending.size > 0 ? `listen on ${[...pending].join(', ')}` : 'confirm its ports in its log';
      throw new Error(`server did not ${what} within ${opts.timeoutMs} ms\n${opts.describe()}`);
    }
    await sleep(20);
  }
}

// ---- logs --------------------------------------------------------------------------------

export function fileTail(file: string, n: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Text appended to `file` since it was `offset` bytes long ('' when missing). */
export function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(file).size;
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function runTool(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
