// Public types of the private XMPP server harness used by the test suite.

export type XmppServerKind = 'prosody' | 'ejabberd';

export interface XmppUser {
  name: string;
  password: string;
}

export interface ExtraComponent {
  domain: string;
  secret: string;
}

export interface StartXmppServerOptions {
  /** Users registered before the start function resolves. */
  users?: XmppUser[];
  /** Default 'example.test'. */
  domain?: string;
  /** Default 'sip.' + domain. */
  componentDomain?: string;
  /** Default 'secret'. */
  componentSecret?: string;
  /** More XEP-0114 components on the same component port, each with its own secret. */
  extraComponents?: ExtraComponent[];
}

export interface XmppServer {
  kind: XmppServerKind;
  domain: string;
  componentDomain: string;
  componentSecret: string;
  host: '127.0.0.1';
  c2sPort: number;
  componentPort: number;
  /** Temp dir with config, data and logs. */
  dir: string;
  /** Pid of the running server process (it changes on restart); 0 while it is not running. */
  readonly pid: number;
  /** Clean stop; waits for the process (and its process group) to be gone. Removes `dir` unless KEEP_XMPP_DIR is set. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to the server's process group; waits for exit. Data stays for restart(). */
  kill(): Promise<void>;
  /** Stops the server (unless it was killed) and starts it again on the same ports with the same data; resolves once it listens. */
  restart(): Promise<void>;
  addUser(name: string, password: string): Promise<void>;
  /** Last lines of the server log (plus anything the process wrote to stdout/stderr), for failure messages. */
  logTail(n?: number): string;
}

export type StartXmppServer = (opts?: StartXmppServerOptions) => Promise<XmppServer>;
