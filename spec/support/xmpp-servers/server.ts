// Life cycle shared by the Prosody and ejabberd test servers.

import { fileTail, ManagedProcess, releaseDir } from './process.js';
import type { ExtraComponent, StartXmppServerOptions, XmppServer, XmppServerKind, XmppUser } from './types.js';

export interface ResolvedOptions {
  users: XmppUser[];
  domain: string;
  componentDomain: string;
  componentSecret: string;
  extraComponents: ExtraComponent[];
}

export function resolveOptions(opts: StartXmppServerOptions = {}): ResolvedOptions {
  const domain = opts.domain ?? 'example.test';
  return {
    users: opts.users ?? [],
    domain,
    componentDomain: opts.componentDomain ?? `sip.${domain}`,
    componentSecret: opts.componentSecret ?? 'secret',
    extraComponents: opts.extraComponents ?? [],
  };
}

/** A launch that failed because some port was taken by someone else; the start is retried with new ports. */
export class PortCollisionError extends Error {}

const COLLISION = /eaddrinuse|address already in use|Failed to open server port/i;

export function looksLikePortCollision(text: string): boolean {
  return COLLISION.test(text);
}

export abstract class ManagedServer implements XmppServer {
  abstract readonly kind: XmppServerKind;
  readonly host = '127.0.0.1' as const;
  readonly domain: string;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly extraComponents: ExtraComponent[];
  readonly dir: string;
  c2sPort = 0;
  componentPort = 0;
  protected proc: ManagedProcess | null = null;
  private stopped = false;

  constructor(dir: string, opts: ResolvedOptions) {
    this.dir = dir;
    this.domain = opts.domain;
    this.componentDomain = opts.componentDomain;
    this.componentSecret = opts.componentSecret;
    this.extraComponents = opts.extraComponents;
  }

  /** The server's own log file. */
  protected abstract get logFile(): string;
  /** Where the process's stdout/stderr go. */
  protected get consoleFile(): string {
    return `${this.dir}/console.log`;
  }
  /** Spawns the server and resolves once it listens; on failure it must leave no process behind. */
  protected abstract launch(): Promise<ManagedProcess>;
  abstract addUser(name: string, password: string): Promise<void>;

  get pid(): number {
    return this.proc?.running ? this.proc.pid : 0;
  }

  logTail(n = 40): string {
    const log = fileTail(this.logFile, n);
    const con = fileTail(this.consoleFile, Math.min(n, 20));
    let text = `--- ${this.kind} log (${this.logFile}), last ${log.length} lines ---\n${log.join('\n')}`;
    if (con.length > 0) text += `\n--- ${this.kind} stdout/stderr, last ${con.length} lines ---\n${con.join('\n')}`;
    return text;
  }

  /** Used by the start functions. */
  async boot(): Promise<void> {
    this.proc = await this.launch();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.proc) await this.proc.terminate();
    } finally {
      this.proc = null;
      releaseDir(this.dir);
    }
  }

  async kill(): Promise<void> {
    if (this.stopped) throw new Error(`${this.kind} server was stopped`);
    if (this.proc) await this.proc.kill();
    this.proc = null;
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.kind} server was stopped; it cannot be restarted`);
    if (this.proc) {
      const old = this.proc;
      this.proc = null;
      await old.terminate();
    }
    this.proc = await this.launch();
  }
}

/**
 * Runs `attempt` up to 3 times while it fails with a PortCollisionError
 * (the caller picks new ports on each attempt).
 */
export async function withPortRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof PortCollisionError) || i >= 3) throw err;
    }
  }
}
